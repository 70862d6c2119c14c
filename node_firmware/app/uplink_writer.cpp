#include "node_firmware/app/uplink_writer.h"

#include <pb_encode.h>

#include <cstring>

namespace tinyedge::app {
namespace {

bool write_varint_field(pb_ostream_t* s, uint32_t tag, uint32_t value) {
  if (value == 0) return true;  // proto3: zero is not on the wire
  return pb_encode_tag(s, PB_WT_VARINT, tag) && pb_encode_varint(s, value);
}

bool write_header(pb_ostream_t* s, const UplinkHeader& h) {
  if (!write_varint_field(s, tinyedge_v1_Uplink_seq_tag, h.seq)) return false;
  if (!write_varint_field(s, tinyedge_v1_Uplink_boot_id_tag, h.boot_id)) return false;
  const size_t len = h.node_id != nullptr ? std::strlen(h.node_id) : 0;
  if (len == 0) return true;
  return pb_encode_tag(s, PB_WT_STRING, tinyedge_v1_Uplink_node_id_tag) &&
         pb_encode_string(s, reinterpret_cast<const pb_byte_t*>(h.node_id), len);
}

struct ResultsBody {
  uint32_t model_id;
  uint32_t model_version;
  const ResultSource* source;
};

bool write_results_body(pb_ostream_t* s, const ResultsBody& body) {
  if (!write_varint_field(s, tinyedge_v1_InferenceResults_model_version_tag, body.model_version)) return false;
  if (!write_varint_field(s, tinyedge_v1_InferenceResults_model_id_tag, body.model_id)) return false;
  tinyedge_v1_InferenceResult r;
  for (size_t i = 0; i < body.source->count(); ++i) {
    r = tinyedge_v1_InferenceResult_init_zero;
    body.source->fill(i, r);
    if (!pb_encode_tag(s, PB_WT_STRING, tinyedge_v1_InferenceResults_results_tag) ||
        !pb_encode_submessage(s, tinyedge_v1_InferenceResult_fields, &r))
      return false;
  }
  return true;
}

protocol::CodecResult finish(pb_ostream_t& s, bool ok) {
  if (!ok) return {false, 0, PB_GET_ERROR(&s)};
  return {true, s.bytes_written, nullptr};
}

}  // namespace

protocol::CodecResult encode_uplink_message(const UplinkHeader& header, uint32_t tag, const pb_msgdesc_t* fields,
                                            const void* message, std::span<uint8_t> out) {
  pb_ostream_t s = pb_ostream_from_buffer(out.data(), out.size());
  const bool ok = write_header(&s, header) && pb_encode_tag(&s, PB_WT_STRING, tag) &&
                  pb_encode_submessage(&s, fields, message);
  return finish(s, ok);
}

protocol::CodecResult encode_uplink_results(const UplinkHeader& header, uint32_t model_id, uint32_t model_version,
                                            const ResultSource& source, std::span<uint8_t> out) {
  const ResultsBody body{model_id, model_version, &source};
  // A length-delimited field needs its length first: one sizing pass, then the real one.
  pb_ostream_t sizing = PB_OSTREAM_SIZING;
  if (!write_results_body(&sizing, body)) return {false, 0, PB_GET_ERROR(&sizing)};
  pb_ostream_t s = pb_ostream_from_buffer(out.data(), out.size());
  const bool ok = write_header(&s, header) && pb_encode_tag(&s, PB_WT_STRING, tinyedge_v1_Uplink_results_tag) &&
                  pb_encode_varint(&s, sizing.bytes_written) && write_results_body(&s, body);
  return finish(s, ok);
}

}  // namespace tinyedge::app
