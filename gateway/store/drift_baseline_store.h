// The drift watch's baselines (gateway/drift), kept in the store so that a restarted gateway judges
// against the distribution it learnt before, not one learnt again from whatever the fleet sends
// now (drifted input would become the new normal), and so that several gateways on one PostgreSQL
// share one baseline per model version and node group.
//
// A record holds two parts, each learnt on its own: the results' label and score histograms and
// the input statistics' moments. The store keeps each part as text it does not read (the drift
// watch's encoding, baseline_codec.h) beside the count it was learnt from, and keeps per part the
// one learnt from more: a baseline formed by one gateway is never replaced by another gateway's
// half-learnt one, and a half-learnt one grows as its learning goes on.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gateway/store/store.h"

namespace tinyedge::gateway {

struct DriftBaselineRecord {
  uint32_t model_id = 0, model_version = 0;
  std::string group;            // "" for the nodes without a group
  uint64_t results = 0;         // results the result part was learnt from (0: none yet)
  std::string result_baseline;  // the result part, encoded by the drift watch
  uint64_t periods = 0;         // telemetry periods the input part was learnt from (0: none yet)
  std::string input_baseline;   // the input part, encoded by the drift watch
  int64_t updated_ms = 0;       // when a part was last written
};

class DriftBaselineStore {
 public:
  virtual ~DriftBaselineStore() = default;
  // At most `max_rows` records, the most recently updated first.
  virtual std::vector<DriftBaselineRecord> load(size_t max_rows) = 0;
  // Writes every record in one transaction; per part, a stored one learnt from at least as many
  // stays. Then keeps only the `keep_rows` most recently updated records (a node inventing model
  // versions cannot grow the table).
  virtual void save(const std::vector<DriftBaselineRecord>& records, size_t keep_rows) = 0;
  // An operator accepted the present distribution as normal: the baseline is learnt again.
  virtual void forget(uint32_t model_id, uint32_t model_version, const std::string& group) = 0;
};

// A connection of its own (one thread at a time). Throws std::runtime_error naming the problem.
std::unique_ptr<DriftBaselineStore> open_drift_baseline_store(const StoreOptions& options);

}  // namespace tinyedge::gateway
