// The rollout repository in PostgreSQL, on a connection of its own, shared by every gateway of
// the site (which of them drives a rollout is decided elsewhere).
#pragma once
#include <memory>
#include <mutex>
#include <string>

#include "gateway/rollout/rollout_mailbox.h"
#include "gateway/rollout/rollout_store.h"
#include "gateway/store/postgres/connection.h"

namespace tinyedge::gateway {

class PgRolloutStore final : public rollout::RolloutStore, public rollout::RolloutMailbox {
 public:
  explicit PgRolloutStore(const std::string& url);  // connects and migrates; throws rollout::StoreError
  ~PgRolloutStore() override;

  int64_t insert_model(const rollout::ModelRow& row, const std::vector<uint8_t>& package_bytes) override;
  std::vector<rollout::ModelRow> models() override;
  std::optional<rollout::ModelRow> model(int64_t id) override;
  std::optional<rollout::ModelRow> model_by_version(uint32_t model_id, uint32_t version) override;
  std::optional<rollout::ModelRow> previous_model(uint32_t model_id, uint32_t version) override;
  std::vector<uint8_t> package_bytes(int64_t id) override;
  int64_t insert_delta(const rollout::DeltaRow& row, const std::vector<uint8_t>& package_bytes) override;
  std::vector<rollout::DeltaRow> deltas() override;
  std::vector<uint8_t> delta_package_bytes(int64_t delta_id) override;

  int64_t insert_rollout(const rollout::RolloutRecord& record) override;
  void save(const rollout::RolloutRecord& record, const std::vector<const rollout::NodeRecord*>& nodes) override;
  std::vector<rollout::RolloutRecord> rollouts() override;
  std::optional<rollout::RolloutRecord> rollout(int64_t id) override;
  std::vector<rollout::NodeRecord> rollout_nodes(int64_t rollout_id) override;
  rollout::RolloutMailbox* mailbox() override { return this; }

  void post_command(const rollout::RolloutCommand& command) override;
  void forward_uplink(const rollout::ForwardedUplink& uplink) override;
  rollout::RolloutMail take_mail(size_t max_uplinks) override;

 private:
  template <typename F>
  auto guarded(F&& f) -> decltype(f());

  std::mutex mutex_;
  std::unique_ptr<pg::Connection> db_;
};

}  // namespace tinyedge::gateway
