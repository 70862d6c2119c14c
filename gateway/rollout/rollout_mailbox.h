// How the gateways that share one store reach the one that leads the rollouts: an operator's
// pause, resume, abort or per-node cancel given to any gateway, and the rollout uplinks (Hello, OtaStatus,
// Telemetry) that the broker's shared subscription handed to a gateway that does not lead, wait in
// the store until the leader takes them. Only a store that several gateways share has one
// (PostgreSQL); with SQLite the one gateway leads and nothing needs passing on.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "gateway/rollout/rollout_types.h"

namespace tinyedge::rollout {

struct RolloutCommand {
  enum class Kind : uint8_t { kPause, kResume, kAbort, kAbortRollback, kCancelNode };
  int64_t rollout_id = 0;
  Kind kind = Kind::kPause;
  std::string node_id;  // kCancelNode: the node taken out of the rollout
};

struct ForwardedUplink {
  std::string node_id;
  std::vector<uint8_t> uplink;  // the Uplink as the node encoded it (protobuf)
  TimeMs received_ms = 0;
};

struct RolloutMail {
  std::vector<RolloutCommand> commands;  // oldest first
  std::vector<ForwardedUplink> uplinks;  // oldest first
};

class RolloutMailbox {
 public:
  virtual ~RolloutMailbox() = default;
  // Each throws StoreError naming the failure.
  virtual void post_command(const RolloutCommand& command) = 0;
  virtual void forward_uplink(const ForwardedUplink& uplink) = 0;
  // Removes and returns what waits (at most `max_uplinks` uplinks), in the order it was posted.
  virtual RolloutMail take_mail(size_t max_uplinks) = 0;
};

}  // namespace tinyedge::rollout
