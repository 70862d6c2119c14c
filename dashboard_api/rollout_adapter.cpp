#include "dashboard_api/rollout_adapter.h"

#include "dashboard_api/api_types.h"
#include "gateway/rollout/model_registry.h"
#include "gateway/rollout/rollout_json.h"

namespace tinyedge::dashboard {
namespace {

// Runs `f`, turning the rollout side's refusals into API errors with their reason.
template <typename F>
nlohmann::json guarded(F&& f) {
  try {
    return f();
  } catch (const rollout::RolloutApiError& e) {
    const int status = e.http_status();
    throw ApiError(status, status == 404 ? "not_found" : status == 409 ? "conflict" : "invalid_request", e.what());
  } catch (const rollout::RegistryError& e) {
    throw ApiError(400, "package_refused", e.what());
  }
}

}  // namespace

nlohmann::json RolloutControlPort::list_models() {
  return guarded([&] {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& m : control_.models()) out.push_back(rollout::to_json(m));
    return out;
  });
}

nlohmann::json RolloutControlPort::add_model(std::span<const uint8_t> package) {
  return guarded([&] { return rollout::to_json(control_.upload_model(package)); });
}

std::vector<uint8_t> RolloutControlPort::model_payload(int64_t registry_id) {
  std::vector<uint8_t> payload;
  guarded([&] {
    payload = control_.model_payload(registry_id);
    return nlohmann::json();
  });
  return payload;
}

nlohmann::json RolloutControlPort::list_rollouts() {
  return guarded([&] {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : control_.list()) out.push_back(rollout::to_json(v));
    return out;
  });
}

nlohmann::json RolloutControlPort::get_rollout(int64_t id) {
  return guarded([&] { return rollout::to_json(control_.get(id, true)); });
}

nlohmann::json RolloutControlPort::start_rollout(const nlohmann::json& request) {
  return guarded([&] { return rollout::to_json(control_.start(rollout::rollout_request_from_json(request))); });
}

nlohmann::json RolloutControlPort::pause(int64_t id) {
  return guarded([&] { return rollout::to_json(control_.pause(id)); });
}

nlohmann::json RolloutControlPort::resume(int64_t id) {
  return guarded([&] { return rollout::to_json(control_.resume(id)); });
}

nlohmann::json RolloutControlPort::abort(int64_t id, bool rollback) {
  return guarded([&] { return rollout::to_json(control_.abort(id, rollback)); });
}

nlohmann::json RolloutControlPort::cancel_node(int64_t id, const std::string& node_id) {
  return guarded([&] { return rollout::to_json(control_.cancel_node(id, node_id)); });
}

nlohmann::json RolloutControlPort::rollout_of_node(const std::string& node_id) {
  return guarded([&]() -> nlohmann::json {
    for (const auto& v : control_.list()) {
      const auto state = v.record.state;
      if (state != rollout::RolloutState::kRunning && state != rollout::RolloutState::kPaused) continue;
      // A few unfinished rollouts at a time; each lists its nodes from memory.
      for (const auto& n : control_.get(v.record.id, true).nodes) {
        if (n.node_id != node_id || rollout::is_terminal(n.state)) continue;
        return {{"id", v.record.id},
                {"state", std::string(rollout::to_string(state))},
                {"node_state", std::string(rollout::to_string(n.state))}};
      }
    }
    return nullptr;
  });
}

}  // namespace tinyedge::dashboard
