// What the dashboard API (and through it the `tinyedge rollout` CLI) sees of rollouts and the
// model registry. Implemented by RolloutService; safe to call from any thread.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "gateway/rollout/rollout_engine.h"
#include "gateway/rollout/rollout_store.h"

namespace tinyedge::rollout {

// kind maps to an HTTP status: bad request 400, not found 404, conflict 409.
class RolloutApiError : public std::runtime_error {
 public:
  enum class Kind : uint8_t { kBadRequest, kNotFound, kConflict };
  RolloutApiError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }
  int http_status() const { return kind_ == Kind::kBadRequest ? 400 : kind_ == Kind::kNotFound ? 404 : 409; }

 private:
  Kind kind_;
};

// A rollout as the operator asks for it, in the operator's words (parsed and validated by start()).
struct RolloutRequest {
  int64_t model_ref = 0;           // registry id; or model_id + version
  uint32_t model_id = 0;
  uint32_t version = 0;
  std::string target = "all";      // "all", "group:<name>", "nodes:<a>,<b>"
  std::string canary = "1";        // "5" or "5%"
  std::string waves = "100";       // "25,50,100"
  std::string max_failures = "0";  // "2" or "2%"
  std::string soak = "0s";
  uint32_t max_concurrent = 50;
  std::string node_timeout = "10m";
  std::string deadline = "24h";
  GateBounds gate;
};

struct RolloutView {
  RolloutRecord record;
  std::string phase_name;
  std::vector<PhaseSummary> phases;
  std::map<NodeState, uint32_t> counts;
  uint32_t failures = 0;
  uint32_t target_size = 0;
  std::vector<NodeRecord> nodes;  // filled when asked for
};

class RolloutControl {
 public:
  virtual ~RolloutControl() = default;
  virtual ModelRow upload_model(std::span<const uint8_t> package_bytes) = 0;
  virtual std::vector<ModelRow> models() = 0;
  // The registered package's payload (the .tem), for what the manifest does not say (labels,
  // arena). Throws RolloutApiError(kNotFound) for an unknown registry id.
  virtual std::vector<uint8_t> model_payload(int64_t registry_id) = 0;
  virtual RolloutView start(const RolloutRequest& request) = 0;
  virtual std::vector<RolloutView> list() = 0;
  virtual RolloutView get(int64_t id, bool with_nodes) = 0;
  virtual RolloutView pause(int64_t id) = 0;
  virtual RolloutView resume(int64_t id) = 0;
  virtual RolloutView abort(int64_t id, bool rollback) = 0;
  // Takes one node out of a running rollout (RolloutEngine::cancel_node): 404 for an unknown
  // rollout or a node it does not target, 409 when the node has activated or ended already.
  virtual RolloutView cancel_node(int64_t id, const std::string& node_id) = 0;
};

}  // namespace tinyedge::rollout
