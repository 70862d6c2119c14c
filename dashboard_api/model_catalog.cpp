#include "dashboard_api/model_catalog.h"

#include <cmath>

#include "dashboard_api/api_types.h"

namespace tinyedge::dashboard {

ModelCatalog::ModelCatalog(std::shared_ptr<RolloutPort> port, std::chrono::milliseconds refresh_interval)
    : port_(std::move(port)), refresh_interval_(refresh_interval) {}

void ModelCatalog::refresh_locked(bool force) {
  if (!port_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && refreshed_ && now - last_refresh_ < refresh_interval_) return;
  refreshed_ = true;
  last_refresh_ = now;
  nlohmann::json models;
  try {
    models = port_->list_models();
  } catch (const std::exception&) {
    return;  // the registry is unavailable: names come back on a later refresh
  }
  for (const auto& m : models) {
    const auto key = std::pair{m.value("model_id", 0u), m.value("version", 0u)};
    if (entries_.count(key)) continue;
    Entry entry;
    entry.registry_id = m.value("id", int64_t{0});
    try {
      const auto payload = port_->model_payload(entry.registry_id);
      entry.facts = read_tem_facts(payload);
    } catch (const std::exception&) {
      // A damaged stored package: listed without facts.
    }
    if (entry.facts && !entry.facts->labels.empty())
      entry.labels = std::make_shared<const std::vector<std::string>>(entry.facts->labels);
    entries_.emplace(key, std::move(entry));
  }
}

LabelList ModelCatalog::labels(uint32_t model_id, uint32_t version) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find({model_id, version});
  if (it == entries_.end()) {
    refresh_locked(false);
    it = entries_.find({model_id, version});
    if (it == entries_.end()) return nullptr;
  }
  return it->second.labels;
}

std::optional<TemFacts> ModelCatalog::facts(int64_t registry_id) {
  std::lock_guard lock(mutex_);
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& [key, entry] : entries_)
      if (entry.registry_id == registry_id) return entry.facts;
    if (pass == 0) refresh_locked(true);
  }
  return std::nullopt;
}

double probability(uint32_t score_0_255) { return std::round(score_0_255 / 255.0 * 1e4) / 1e4; }

nlohmann::json label_name(const LabelList& labels, uint32_t index) {
  if (!labels || index >= labels->size() || (*labels)[index].empty()) return nullptr;
  return (*labels)[index];
}

}  // namespace tinyedge::dashboard
