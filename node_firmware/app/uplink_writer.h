// Encodes Uplinks without the generated Uplink struct: that struct reserves room for a full batch
// of 16 results (~1 KB of RAM), while the node builds one result at a time from its ring. The
// bytes are the same as nanopb's encoding of the equivalent Uplink.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "protocol/codec.h"
#include "tinyedge.pb.h"

namespace tinyedge::app {

struct UplinkHeader {
  uint32_t seq = 0;
  uint32_t boot_id = 0;
  const char* node_id = "";
};

// Uplink{header, payload = `message` (a generated struct described by `fields`) as field `tag`}.
protocol::CodecResult encode_uplink_message(const UplinkHeader& header, uint32_t tag, const pb_msgdesc_t* fields,
                                            const void* message, std::span<uint8_t> out);

// Supplies results one at a time.
class ResultSource {
 public:
  virtual size_t count() const = 0;
  virtual void fill(size_t index, tinyedge_v1_InferenceResult& out) const = 0;

 protected:
  ~ResultSource() = default;
};

// Uplink{header, results = InferenceResults{model_version, model_id, results from `source`}}.
protocol::CodecResult encode_uplink_results(const UplinkHeader& header, uint32_t model_id, uint32_t model_version,
                                            const ResultSource& source, std::span<uint8_t> out);

}  // namespace tinyedge::app
