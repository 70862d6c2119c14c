#include "protocol/codec.h"

#include <pb_decode.h>
#include <pb_encode.h>

namespace tinyedge::protocol {

CodecResult encode_message(const pb_msgdesc_t* fields, const void* message, std::span<uint8_t> out) {
  pb_ostream_t stream = pb_ostream_from_buffer(out.data(), out.size());
  if (!pb_encode(&stream, fields, message)) return {false, 0, PB_GET_ERROR(&stream)};
  return {true, stream.bytes_written, nullptr};
}

CodecResult decode_message(const pb_msgdesc_t* fields, std::span<const uint8_t> bytes, void* message) {
  pb_istream_t stream = pb_istream_from_buffer(bytes.data(), bytes.size());
  // pb_decode zero-initialises the struct first, so a failed decode leaves no stale fields.
  if (!pb_decode(&stream, fields, message)) return {false, 0, PB_GET_ERROR(&stream)};
  return {true, bytes.size(), nullptr};
}

CodecResult encode_uplink(const tinyedge_v1_Uplink& message, std::span<uint8_t> out) {
  return encode_message(tinyedge_v1_Uplink_fields, &message, out);
}

CodecResult decode_uplink(std::span<const uint8_t> bytes, tinyedge_v1_Uplink& message) {
  return decode_message(tinyedge_v1_Uplink_fields, bytes, &message);
}

CodecResult encode_downlink(const tinyedge_v1_Downlink& message, std::span<uint8_t> out) {
  return encode_message(tinyedge_v1_Downlink_fields, &message, out);
}

CodecResult decode_downlink(std::span<const uint8_t> bytes, tinyedge_v1_Downlink& message) {
  return decode_message(tinyedge_v1_Downlink_fields, bytes, &message);
}

}  // namespace tinyedge::protocol
