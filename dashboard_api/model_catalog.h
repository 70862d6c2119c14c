// Label names by model: the class labels each registered package's .tem carries, keyed by
// (model id, version), so results that arrive as label indices can be shown by name. Packages are
// immutable once registered, so a version's labels are read once; a version the catalog has not
// seen makes it re-read the registry, at most once per `refresh_interval`, so a burst of results
// from an unregistered model costs one registry listing, not one per result.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dashboard_api/rollout_port.h"
#include "dashboard_api/tem_facts.h"

namespace tinyedge::dashboard {

using LabelList = std::shared_ptr<const std::vector<std::string>>;

class ModelCatalog {
 public:
  // `port` may be null (a gateway without the rollout engine): then no label has a name.
  explicit ModelCatalog(std::shared_ptr<RolloutPort> port,
                        std::chrono::milliseconds refresh_interval = std::chrono::seconds(5));

  // The labels of this model version (null when unregistered or the .tem carries none).
  LabelList labels(uint32_t model_id, uint32_t version);
  // The .tem facts of a registry entry (nullopt when unknown or unreadable).
  std::optional<TemFacts> facts(int64_t registry_id);

 private:
  struct Entry {
    int64_t registry_id = 0;
    std::optional<TemFacts> facts;
    LabelList labels;
  };
  void refresh_locked(bool force);

  std::shared_ptr<RolloutPort> port_;
  std::chrono::milliseconds refresh_interval_;
  std::mutex mutex_;
  std::map<std::pair<uint32_t, uint32_t>, Entry> entries_;
  std::chrono::steady_clock::time_point last_refresh_{};
  bool refreshed_ = false;
};

// The probability a score (0..255 on the wire) stands for, to 4 decimals.
double probability(uint32_t score_0_255);
// labels[index] as JSON, or null when there is no name for it.
nlohmann::json label_name(const LabelList& labels, uint32_t index);

}  // namespace tinyedge::dashboard
