// Two gateways, one PostgreSQL, one broker: the real tinyedge-gateway executable twice (MQTT 5
// shared subscription group, distinct client ids), a real PostgreSQL server and mosquitto started
// here, host nodes reporting results (SimNode: every result numbered, resent until acked) and
// updating over the air (tinyedge-node). The gateway leading the rollout is SIGKILLed mid-ingest
// and mid-rollout. Then: every result is stored exactly once, the survivor takes the lead and
// finishes the rollout from the stored state (no node offered twice, no download restarted, as
// counted on the broker), and the time until it leads and until ingest resumes is printed.
#include <gtest/gtest.h>
#include <mqtt/async_client.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "deploy/fleet/api_client.h"
#include "gateway/store/postgres/connection.h"
#include "ota/payload_identity.h"
#include "protocol/codec.h"
#include "tests/gateway/support/gateway_process.h"
#include "tests/gateway/support/postgres_server.h"
#include "tests/gateway/support/sim_node.h"
#include "tests/rollout/rollout_harness.h"

namespace tinyedge::rollout {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kOtaNodes = 12;    // tinyedge-node processes' virtual nodes, updated by the rollout
constexpr int kResultNodes = 8;  // SimNodes whose every result is counted
const std::string kToken = "failover-operator-token-0123456789";

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Every downlink the broker carries to the nodes, counted per node: offers and chunk bytes.
class DownlinkCounter {
 public:
  explicit DownlinkCounter(const std::string& url) : client_(url, "failover-downlink-counter") {
    client_.set_message_callback([this](mqtt::const_message_ptr m) {
      static tinyedge_v1_Downlink down;  // large: not on the callback's stack
      const auto& payload = m->get_payload_ref();
      const auto topic = m->get_topic();
      const std::string node = topic.substr(12, topic.size() - 12 - 5);  // tinyedge/v1/<node>/down
      std::lock_guard lock(mutex_);
      down = tinyedge_v1_Downlink_init_zero;
      if (!protocol::decode_downlink({reinterpret_cast<const uint8_t*>(payload.data()), payload.size()}, down).ok)
        return;
      if (down.which_payload == tinyedge_v1_Downlink_offer_tag) ++offers_[node];
      if (down.which_payload == tinyedge_v1_Downlink_chunk_tag) chunk_bytes_[node] += down.payload.chunk.data.size;
    });
    client_.connect()->wait();
    client_.subscribe("tinyedge/v1/+/down", 1)->wait();
  }
  ~DownlinkCounter() {
    try {
      client_.disconnect()->wait();
    } catch (const std::exception&) {
    }
  }
  std::map<std::string, int> offers() {
    std::lock_guard lock(mutex_);
    return offers_;
  }
  std::map<std::string, uint64_t> chunk_bytes() {
    std::lock_guard lock(mutex_);
    return chunk_bytes_;
  }

 private:
  mqtt::async_client client_;
  std::mutex mutex_;
  std::map<std::string, int> offers_;
  std::map<std::string, uint64_t> chunk_bytes_;
};

class RolloutFailover : public ::testing::Test {
 protected:
  void SetUp() override {
    t0_ = Clock::now();
    const char* ci = std::getenv("CI");
    const bool under_ci = ci && std::string(ci) == "true";
    if (test::PostgresServer::bin_dir().empty()) {
      if (under_ci) FAIL() << "no PostgreSQL server installed";
      GTEST_SKIP() << "no PostgreSQL server installed (Debian's postgresql)";
    }
    model_ = testing::shared_model("kws_ref_model.tflite");
    if (!fs::exists(model_)) {
      if (under_ci) FAIL() << "missing " << model_;
      GTEST_SKIP() << "MLPerf Tiny model not found at " << model_ << " (needs ../shared/models)";
    }
    dir_ = test::make_temp_dir("rollout-failover");
    postgres_ = std::make_unique<test::PostgresServer>();
    url_ = postgres_->create_database("failover");
    broker_ = std::make_unique<test::Mosquitto>(dir_);
    broker_->start();
  }
  void TearDown() override {
    if (nodes_pid_ > 0) test::stop_process(nodes_pid_, SIGTERM, 10000);
    for (auto& g : gateways_) {
      if (g.pid > 0) test::stop_process(g.pid, SIGKILL, 3000);
    }
    broker_.reset();
    postgres_.reset();
    if (!HasFailure() && !dir_.empty()) fs::remove_all(dir_);
  }

  struct Gateway {
    std::string name, log;
    uint16_t api_port = 0;
    pid_t pid = -1;
    fleet::ApiClient api() const { return fleet::ApiClient("http://127.0.0.1:" + std::to_string(api_port), kToken); }
  };

  Gateway& start_gateway(const std::string& name) {
    Gateway g;
    g.name = name;
    g.log = dir_ + "/" + name + ".log";
    g.api_port = test::free_port();
    const std::string token_hash =
        ota::hex(ota::sha256(std::span(reinterpret_cast<const uint8_t*>(kToken.data()), kToken.size())));
    json config = {
        {"data_dir", dir_ + "/" + name},
        {"log_level", "info"},
        // No session kept for a gateway that is gone: the broker then hands the group's uplinks to
        // the members still connected instead of queueing a share for the dead one.
        {"mqtt",
         {{"url", broker_->url()}, {"client_id", "gw-" + name}, {"shared_group", "site"}, {"session_expiry_s", 0}}},
        {"store", {{"backend", "postgres"}, {"url", url_}, {"batch_linger_ms", 5}}},
        {"api", {{"port", g.api_port}, {"tokens", {{{"token", "sha256:" + token_hash}, {"role", "operator"}}}}}}};
    const std::string config_path = dir_ + "/" + name + ".json";
    std::ofstream(config_path) << config.dump(2);
    fs::create_directories(dir_ + "/" + name);
    // OTA paced so the rollout is still running when the leader is killed.
    g.pid = test::spawn(
        {TINYEDGE_GATEWAY_EXE, "--config", config_path, "--fleet-key", keys_ + ".pub", "--ota-rate", "120000"}, g.log);
    gateways_.push_back(g);
    Gateway& started = gateways_.back();
    EXPECT_TRUE(test::wait_for_lines(started.log, "msg=subscribed", 1, 15000)) << name << " did not subscribe";
    EXPECT_TRUE(test::wait_port(started.api_port, 15000)) << name << "'s API is not listening";
    return started;
  }

  static bool leads(const Gateway& g) { return test::count_lines(g.log, "leader: this gateway runs the rollouts") > 0; }

  template <typename Pred>
  static bool wait(Pred pred, std::chrono::milliseconds limit) {
    const auto end = Clock::now() + limit;
    while (Clock::now() < end) {
      if (pred()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return pred();
  }

  Clock::time_point t0_;
  std::string dir_, url_, keys_, model_;
  std::unique_ptr<test::PostgresServer> postgres_;
  std::unique_ptr<test::Mosquitto> broker_;
  std::vector<Gateway> gateways_;
  pid_t nodes_pid_ = -1;
};

TEST_F(RolloutFailover, LeaderKilledMidIngestAndMidRolloutLosesNothingAndTheSurvivorFinishes) {
  const auto t_setup = t0_;  // PostgreSQL and mosquitto are up
  std::printf("[%.1f s] PostgreSQL and mosquitto up\n", seconds_since(t_setup));
  const std::string cli = TINYEDGE_CLI_EXE;
  keys_ = dir_ + "/fleet";
  ASSERT_EQ(testing::run_cli({cli, "keys", "generate", "--out", keys_}, dir_ + "/keys.log"), "");
  // One import; v2 is the same network with the version in its header raised (quicker than a
  // second import, and an update all the same: another payload, signed on its own).
  ASSERT_EQ(testing::import_and_package(model_, 1, dir_ + "/v1.tem", dir_ + "/v1.tep", keys_, {}, dir_), "");
  std::vector<uint8_t> v2 = ota::read_file(dir_ + "/v1.tem");
  for (int i = 0; i < 4; ++i) v2[ota::kTemVersionOffset + i] = static_cast<uint8_t>(2u >> (8 * i));
  std::ofstream(dir_ + "/v2.tem", std::ios::binary)
      .write(reinterpret_cast<const char*>(v2.data()), static_cast<std::streamsize>(v2.size()));
  ASSERT_EQ(testing::package_tem(dir_ + "/v2.tem", 2, dir_ + "/v2.tep", keys_, {}, dir_), "");
  std::printf("[%.1f s] keys and packages made\n", seconds_since(t_setup));
  gateways_.reserve(2);
  Gateway& first = start_gateway("a");
  ASSERT_TRUE(wait([&] { return leads(first); }, 5s)) << "the only gateway never took the lead";
  Gateway& second = start_gateway("b");
  ASSERT_FALSE(leads(second)) << "two leaders at once";

  DownlinkCounter downlinks(broker_->url());
  nodes_pid_ = test::spawn(
      {TINYEDGE_NODE_EXE, "--model", dir_ + "/v1.tem", "--broker", broker_->url(), "--count", std::to_string(kOtaNodes),
       "--id-prefix", "ota", "--trust-key", keys_ + ".pub", "--data-dir", dir_ + "/nodes", "--interval-ms", "1000"},
      dir_ + "/nodes.log");
  std::vector<std::unique_ptr<test::SimNode>> sims;
  for (int i = 0; i < kResultNodes; ++i) {
    sims.push_back(std::make_unique<test::SimNode>(broker_->url(), "res" + std::to_string(i), 7, 8));
    sims.back()->connect();
  }
  std::atomic<bool> producing{true};
  std::thread producer;
  // Stopped and joined on every way out of the test, failed assertions included.
  struct Join {
    std::atomic<bool>& flag;
    std::thread& thread;
    ~Join() {
      flag = false;
      if (thread.joinable()) thread.join();
    }
  } join{producing, producer};
  producer = std::thread([&] {
    // 8 nodes x 8 results every 20 ms (~3,200 results/s), resending what no Ack covered in 1 s.
    auto next_resend = Clock::now() + 1s;
    while (producing) {
      for (auto& s : sims) s->produce(8);
      if (Clock::now() >= next_resend) {
        for (auto& s : sims) s->resend_unacked();
        next_resend = Clock::now() + 1s;
      }
      std::this_thread::sleep_for(20ms);
    }
  });

  // Everything through the gateway that does not lead: the API answers and stores, the leader acts.
  auto api = second.api();
  for (int v : {1, 2}) {
    auto bytes = ota::read_file(dir_ + "/v" + std::to_string(v) + ".tep");
    auto r = api.request("POST", "/api/v1/models", std::string(bytes.begin(), bytes.end()), "application/octet-stream");
    ASSERT_EQ(r.status, 201) << r.body;
  }
  int64_t model_ref = 0;
  const json models = json::parse(api.get("/api/v1/models").body);
  for (const auto& m : models["models"]) {
    if (m["version"] == 2) model_ref = m["id"];
  }
  ASSERT_NE(model_ref, 0) << api.get("/api/v1/models").body;
  std::printf("[%.1f s] two gateways up, packages uploaded\n", seconds_since(t_setup));
  auto online = [&] {
    gateway::pg::Connection db(url_);
    return db.query("SELECT count(*) FROM nodes WHERE online AND node_id LIKE 'ota%'").int64(0, 0);
  };
  ASSERT_TRUE(wait([&] { return online() == kOtaNodes; }, 20s)) << online() << " of " << kOtaNodes << " online";
  std::printf("[%.1f s] %d OTA nodes online\n", seconds_since(t_setup), kOtaNodes);
  std::string ota_targets = "nodes:";
  for (int i = 1; i <= kOtaNodes; ++i) ota_targets += (i > 1 ? "," : "") + std::string("ota") + std::to_string(i);
  auto started = api.request("POST", "/api/v1/rollouts",
                             json{{"model_ref", model_ref},
                                  {"target", "group:none"},
                                  {"canary", "2"},
                                  {"waves", "100"},
                                  {"max_concurrent", 4},
                                  {"node_timeout", "60s"},
                                  {"gate", {{"enabled", false}}}}
                                 .dump());
  // No such group: refused by the gateway that does not lead, nothing stored.
  ASSERT_EQ(started.status, 400) << started.body;
  ASSERT_NE(started.body.find("group"), std::string::npos) << started.body;
  started = api.request("POST", "/api/v1/rollouts",
                        json{{"model_ref", model_ref},
                             {"target", ota_targets},
                             {"canary", "2"},
                             {"waves", "100"},
                             {"max_concurrent", 4},
                             {"node_timeout", "60s"},
                             {"gate", {{"enabled", false}}}}
                            .dump());
  ASSERT_EQ(started.status, 201) << started.body;
  const int64_t id = json::parse(started.body)["id"];
  auto rollout = [&](const Gateway& g) {
    return json::parse(g.api().get("/api/v1/rollouts/" + std::to_string(id)).body);
  };
  auto activated = [&](const Gateway& g) { return rollout(g)["counts"].value("activated", 0); };
  // Mid-rollout: the canary is through and the wave is downloading.
  ASSERT_TRUE(wait([&] { return activated(second) >= 3; }, 30s)) << rollout(second).dump();
  std::printf("setup and the rollout's first nodes: %.1f s\n", seconds_since(t_setup));

  // The leader dies mid-stream.
  std::vector<uint32_t> produced_at_kill;
  for (auto& s : sims) produced_at_kill.push_back(s->produced());
  const auto killed_at = Clock::now();
  test::stop_process(first.pid, SIGKILL, 3000);
  first.pid = -1;

  ASSERT_TRUE(wait([&] { return leads(second); }, 10s)) << "the survivor never took the lead";
  const double time_to_lead = seconds_since(killed_at);
  // Ingest resumed: everything produced before the kill (some of it in flight to the dead
  // gateway) is stored and acked through the survivor.
  ASSERT_TRUE(wait(
      [&] {
        for (size_t i = 0; i < sims.size(); ++i) {
          if (sims[i]->acked_through() < produced_at_kill[i]) return false;
        }
        return true;
      },
      15s))
      << "results produced before the kill were never acked by the survivor";
  const double time_to_resume = seconds_since(killed_at);

  ASSERT_TRUE(wait(
      [&] {
        const std::string state = rollout(second)["state"];
        return state != "running";
      },
      40s))
      << rollout(second).dump();
  json done = rollout(second);
  producing = false;
  producer.join();
  for (int i = 0; i < 100; ++i) {
    bool all = true;
    for (auto& s : sims) all &= s->all_acked();
    if (all) break;
    for (auto& s : sims) s->resend_unacked();
    std::this_thread::sleep_for(100ms);
  }

  EXPECT_EQ(done["state"], "completed") << done.dump();
  EXPECT_EQ(done["counts"].value("activated", 0), kOtaNodes) << done.dump();

  // Every result stored exactly once.
  gateway::pg::Connection db(url_);
  uint64_t lost = 0, duplicated = 0, produced = 0;
  for (auto& s : sims) {
    EXPECT_TRUE(s->all_acked()) << s->node_id() << " acked " << s->acked_through() << " of " << s->produced();
    const auto r = db.query(
        "SELECT count(*), count(DISTINCT (e.boot_id, e.seq)) FROM events e JOIN nodes n ON n.id = e.node_ref "
        "WHERE n.node_id = $1",
        gateway::pg::Params().add(s->node_id()));
    const uint64_t rows = r.int64(0, 0), distinct = r.int64(0, 1);
    produced += s->produced();
    lost += s->produced() - std::min<uint64_t>(distinct, s->produced());
    duplicated += rows - distinct;
    EXPECT_EQ(distinct, s->produced()) << s->node_id() << ": stored results vs produced";
  }
  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(duplicated, 0u);

  // The survivor carried on from the stored state: one offer per node, no download restarted.
  const size_t payload = ota::read_package_file(dir_ + "/v2.tep").payload.size();
  const auto offers = downlinks.offers();
  const auto chunk_bytes = downlinks.chunk_bytes();
  int offered_twice = 0, restarted = 0;
  for (int i = 1; i <= kOtaNodes; ++i) {
    const std::string node = "ota" + std::to_string(i);
    const int n = offers.count(node) ? offers.at(node) : 0;
    const uint64_t bytes = chunk_bytes.count(node) ? chunk_bytes.at(node) : 0;
    // Once; a second time only if it said nothing for 5 s after the takeover (its last status
    // went to the gateway that died).
    EXPECT_GE(n, 1) << node << " was never offered the update";
    EXPECT_LE(n, 2) << node << " was offered the update " << n << " times";
    // At most one window of chunks (lost in flight to the dead gateway) is sent twice.
    EXPECT_LE(bytes, payload + 8 * 512) << node << " downloaded " << bytes << " bytes of a " << payload
                                        << "-byte model";
    offered_twice += n > 1;
    restarted += bytes > payload + 8 * 512;
  }
  std::printf(
      "failover: %llu results from %d nodes, lost %llu, duplicated %llu; survivor leads after %.2f s, "
      "ingest caught up after %.2f s; rollout completed under the survivor (%d nodes, %d offered twice, %d "
      "downloads restarted)\n",
      static_cast<unsigned long long>(produced), kResultNodes, static_cast<unsigned long long>(lost),
      static_cast<unsigned long long>(duplicated), time_to_lead, time_to_resume, kOtaNodes, offered_twice, restarted);
}

}  // namespace
}  // namespace tinyedge::rollout
