// The live feed (GET /api/v1/stream) over a real SQLite store: each stored result reaches a viewer
// once, also when results are stored while a poll is between its two reads.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dashboard_api/live_feed.h"
#include "gateway/store/backend.h"

namespace tinyedge::dashboard {
namespace {

gateway::ResultsItem results(const std::string& node, uint32_t first, uint32_t count) {
  gateway::ResultsItem item{node, 1, first, 7, 3, gateway::now_ms(), "mqtt", {}};
  for (uint32_t i = 0; i < count; ++i) item.results.push_back({i % 10, 200, 1000, 0, first + i, {}});
  return item;
}

// A real read connection that runs `between` once, right after a last_event_id() answered: as when
// a gateway commits a batch while the feed is between its two reads.
class WritesBetweenReads final : public gateway::Query {
 public:
  WritesBetweenReads(std::unique_ptr<gateway::Query> q, std::function<void()>& between) : q_(std::move(q)), between_(between) {}
  int64_t last_event_id() override {
    const int64_t last = q_->last_event_id();
    if (between_) std::exchange(between_, nullptr)();
    return last;
  }
  std::vector<gateway::EventRow> events_after(int64_t after_id, size_t limit) override {
    return q_->events_after(after_id, limit);
  }
  gateway::EventPage events(const gateway::EventFilter& f) override { return q_->events(f); }
  std::vector<gateway::LabelBucket> label_stats(const gateway::LabelStatsFilter& f) override {
    return q_->label_stats(f);
  }
  std::vector<gateway::LatencyStats> latency_percentiles(const gateway::LatencyFilter& f) override {
    return q_->latency_percentiles(f);
  }
  std::vector<gateway::NodeRow> nodes() override { return q_->nodes(); }
  std::vector<std::pair<uint32_t, uint32_t>> model_versions(const std::optional<std::string>& node_id,
                                                            const std::optional<std::string>& group) override {
    return q_->model_versions(node_id, group);
  }
  std::optional<gateway::NodeRow> node(const std::string& id) override { return q_->node(id); }
  uint64_t event_count() override { return q_->event_count(); }
  std::vector<gateway::TelemetryRow> telemetry(const std::string& id, size_t limit) override {
    return q_->telemetry(id, limit);
  }
  std::vector<gateway::OtaStatusRow> ota_history(const std::string& id, size_t limit) override {
    return q_->ota_history(id, limit);
  }
  std::vector<gateway::EnrolledLabelRow> enrolled_labels(const std::string& id) override {
    return q_->enrolled_labels(id);
  }
  std::vector<gateway::EnrollmentLogRow> enrollment_log(const std::string& id, size_t limit) override {
    return q_->enrollment_log(id, limit);
  }

 private:
  std::unique_ptr<gateway::Query> q_;
  std::function<void()>& between_;
};

class LiveFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/live-feed-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    options_.path = dir_ + "/t.db";
    options_.batch_linger_ms = 0;
    store_ = gateway::open_store(options_, metrics_, log_);
    store_->start([](std::vector<gateway::AckNotice>) {});
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void store(const gateway::ResultsItem& item) {
    ASSERT_TRUE(store_->submit(item));
    store_->flush();
  }
  // The events of one poll's `events` message, counted by id into `sent`.
  static void count_events(const std::string& poll, std::map<int64_t, int>& sent) {
    const std::string head = "event: events\ndata: ";
    const auto at = poll.find(head);
    if (at == std::string::npos) return;
    const auto end = poll.find('\n', at + head.size());
    const auto data = nlohmann::json::parse(poll.substr(at + head.size(), end - at - head.size()));
    for (const auto& e : data["events"]) ++sent[e["id"].get<int64_t>()];
  }

  std::string dir_;
  gateway::StoreOptions options_;
  gateway::Metrics metrics_;
  gateway::Logger log_;
  std::unique_ptr<gateway::Store> store_;
};

TEST_F(LiveFeedTest, ResultsStoredBetweenAPollsTwoReadsAreSentOnce) {
  std::function<void()> between;
  QueryPool pool([&] { return std::make_unique<WritesBetweenReads>(gateway::open_query(options_), between); }, 1);
  ModelCatalog catalog(nullptr);
  LiveFeed feed(pool, catalog, nullptr);
  feed.hello();

  std::map<int64_t, int> sent;
  store(results("a", 1, 10));
  between = [&] { store(results("a", 11, 5)); };  // stored after the poll read the newest id
  count_events(feed.poll(), sent);
  count_events(feed.poll(), sent);
  store(results("a", 16, 5));
  count_events(feed.poll(), sent);
  count_events(feed.poll(), sent);

  const auto all = gateway::open_query(options_)->events_after(0, 1000);
  ASSERT_EQ(all.size(), 20u);
  for (const auto& e : all) {
    EXPECT_EQ(sent[e.id], 1) << "event " << e.id << " (seq " << e.seq << ") was sent " << sent[e.id] << " times";
  }
  EXPECT_EQ(sent.size(), all.size()) << "the feed sent ids that are not stored";
}

}  // namespace
}  // namespace tinyedge::dashboard
