#include "gateway/store/leader_lease.h"

#include "gateway/store/postgres/connection.h"

namespace tinyedge::gateway {

namespace {

class SoleLeader final : public LeaderLease {
 public:
  bool held() override { return true; }
};

// Any constant the gateways agree on (distinct from the migration lock).
constexpr int64_t kRolloutLeaderLock = 0x7e0d6e5c0002;

class AdvisoryLockLease final : public LeaderLease {
 public:
  explicit AdvisoryLockLease(std::string url) : url_(std::move(url)) {}

  bool held() override {
    try {
      if (!connection_) connection_ = std::make_unique<pg::Connection>(url_);
      if (holding_) {
        connection_->exec("SELECT 1");  // still ours while the session lives
        return true;
      }
      holding_ =
          connection_->query("SELECT pg_try_advisory_lock($1)", pg::Params().add(kRolloutLeaderLock)).text(0, 0) == "t";
      return holding_;
    } catch (const pg::Error&) {
      // The session (and with it the lock, server side) is gone: start over next time.
      connection_.reset();
      holding_ = false;
      return false;
    }
  }

 private:
  std::string url_;
  std::unique_ptr<pg::Connection> connection_;
  bool holding_ = false;
};

}  // namespace

std::unique_ptr<LeaderLease> open_leader_lease(const StoreOptions& options) {
  if (options.backend == "postgres") return std::make_unique<AdvisoryLockLease>(options.url);
  return std::make_unique<SoleLeader>();
}

}  // namespace tinyedge::gateway
