// The gateway's uplink check on arbitrary bytes: never reads out of bounds, and whatever it
// accepts is a well-formed uplink (valid node id, matching the expected node, sane seqs).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "gateway/ingest/uplink_validator.h"
#include "protocol/topics.h"

using namespace tinyedge;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static tinyedge_v1_Uplink uplink;
  // The first byte picks the bearer's expectation: unbound link, or a topic naming some node.
  const std::string_view expected = size > 0 && (data[0] & 1) ? "node-1" : "";
  const auto check = gateway::check_uplink({data, size}, expected, uplink);
  if (check.error != gateway::UplinkError::kOk) return 0;
  const std::string_view node = gateway::node_id_of(uplink);
  if (!protocol::is_valid_node_id(node)) std::abort();
  if (!expected.empty() && node != expected) std::abort();
  if (size > protocol::kMaxUplinkBytes) std::abort();
  if (check.kind == gateway::UplinkKind::kResults) {
    const uint32_t count = uplink.payload.results.results_count;
    if (count == 0 || count > 16 || uplink.seq == 0 || uplink.seq > UINT32_MAX - (count - 1)) std::abort();
  }
  return 0;
}
