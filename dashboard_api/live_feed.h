// GET /api/v1/stream: what changed in the fleet, pushed to the page as server-sent events instead
// of the page polling every panel. Each poll (once a second per open stream) reads:
//   event: events    the results stored since the last one (named as /events names them; at most
//                    kMaxEventsPerPoll, the newest, when more arrived: the page wants now, not backlog)
//   event: nodes     the nodes whose status, model, boot or groups changed
//   event: rollouts  the rollout list, when any rollout's state or progress changed
// The first message (`event: hello`) carries the newest event id, so the page can load the
// current state over REST and take only changes from the stream.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "dashboard_api/api_types.h"
#include "dashboard_api/model_catalog.h"
#include "dashboard_api/query_pool.h"
#include "dashboard_api/rollout_port.h"

namespace tinyedge::dashboard {

class LiveFeed : public EventFeed {
 public:
  static constexpr size_t kMaxEventsPerPoll = 200;

  LiveFeed(QueryPool& queries, ModelCatalog& catalog, std::shared_ptr<RolloutPort> rollouts);
  // The opening message (hello), with the baseline the later polls compare against.
  std::string hello();
  std::string poll() override;

  // One server-sent event: "event: <name>\ndata: <json>\n\n" (JSON text has no raw newlines).
  static std::string message(const std::string& name, const nlohmann::json& data);

 private:
  std::string poll_events(gateway::Query& q);
  std::string poll_nodes(gateway::Query& q, bool announce);
  std::string poll_rollouts(bool announce);

  QueryPool& queries_;
  ModelCatalog& catalog_;
  std::shared_ptr<RolloutPort> rollouts_;
  int64_t last_event_id_ = 0;
  std::map<std::string, std::string> node_digests_;
  std::string rollouts_digest_;
};

}  // namespace tinyedge::dashboard
