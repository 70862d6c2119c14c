// /models and /rollouts over HTTP with the REAL rollout engine behind them: the gateway library
// on a real SQLite store, the RolloutRunner (registry with a real fleet key, rollout service,
// persistence) and the dashboard wired exactly as tinyedge-gateway wires them (start_dashboard).
// No nodes run: the nodes exist in the store as a gateway that heard their Hellos would hold them,
// which is all the API-level checks need (signatures, state transitions, roles, persistence).
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "service/dashboard_wiring.h"
#include "deploy/fleet/api_client.h"
#include "gateway/daemon.h"
#include "gateway/rollout/rollout_runner.h"
#include "ota/package.h"
#include "ota/sha256.h"
#include "ota/signing_key.h"
#include "tests/dashboard/labelled_tem.h"
#include "tests/dashboard/raw_http.h"
#include "tests/rollout/test_packages.h"

namespace tinyedge::dashboard {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

const std::string kOperator = "rollout-api-operator-token";
const std::string kViewer = "rollout-api-viewer-token";
constexpr uint32_t kModelId = 7;

std::string token_hash(const std::string& token) {
  return "sha256:" + ota::hex(ota::sha256(std::span(reinterpret_cast<const uint8_t*>(token.data()), token.size())));
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

std::string package_bytes(const ota::SigningKey& key, uint32_t version, size_t payload = 4096) {
  const auto bytes = ota::encode_package(rollout::testing::make_package(key, kModelId, version, payload));
  return std::string(bytes.begin(), bytes.end());
}

// tinyedge-gateway's main(), minus the broker: Gateway, RolloutRunner, start_dashboard on one
// io_context thread.
class Gateway {
 public:
  explicit Gateway(const fs::path& dir) {
    gateway::GatewayConfig config;
    config.data_dir = (dir / "data").string();
    config.mqtt.enabled = false;
    config.store.path = config.db_path();
    config.api.port = 0;
    config.api.tokens = {{token_hash(kOperator), "operator"}, {token_hash(kViewer), "viewer"}};
    fs::create_directories(config.data_dir);
    log_.set_level(gateway::LogLevel::kError);
    gateway_ = std::make_unique<gateway::Gateway>(io_, config, log_);
    gateway_->start();
    rollout::RolloutOptions options;
    options.fleet_public_keys = {(dir / "fleet.pub").string()};
    options.grant_key = (dir / "rollback.key").string();  // never the fleet key
    runner_ = std::make_unique<rollout::RolloutRunner>(io_, *gateway_, options);
    runner_->start();
    dashboard_ = start_dashboard(io_, *gateway_, &runner_->control());
    thread_ = std::thread([this] {
      auto guard = boost::asio::make_work_guard(io_);
      io_.run();
    });
  }
  ~Gateway() {
    std::promise<void> done;
    boost::asio::post(io_, [&] {
      dashboard_->stop();
      runner_->stop();
      gateway_->shutdown([&] { done.set_value(); });
    });
    done.get_future().wait_for(20s);
    io_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(dashboard_->port()); }
  gateway::Store& store() { return gateway_->store(); }

 private:
  gateway::Logger log_;
  boost::asio::io_context io_;
  std::unique_ptr<gateway::Gateway> gateway_;
  std::unique_ptr<rollout::RolloutRunner> runner_;
  std::unique_ptr<DashboardApi> dashboard_;
  std::thread thread_;
};

class RolloutApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tinyedge-rollout-api-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    write_file(dir_ / "fleet.key", fleet_.private_pem());
    write_file(dir_ / "fleet.pub", fleet_.public_pem());
    write_file(dir_ / "rollback.key", ota::SigningKey::generate().private_pem());
    start();
    // Four nodes on model 7 v1, as the store holds them after their Hellos.
    for (int i = 0; i < 4; ++i) {
      gateway::HelloItem hello;
      hello.node_id = "node-" + std::to_string(i);
      hello.boot_id = 1;
      hello.received_ms = gateway::now_ms();
      hello.bearer = "mqtt";
      hello.hardware = "host-sim";
      hello.firmware_version = 1;
      hello.model_id = kModelId;
      hello.model_version = 1;
      hello.slot_bytes = 1 << 20;
      hello.arena_bytes = 1 << 16;
      hello.model_name = "kws";
      ASSERT_TRUE(gateway_->store().submit(hello));
    }
    gateway_->store().flush();
  }
  void TearDown() override {
    gateway_.reset();
    fs::remove_all(dir_);
  }
  void start() { gateway_ = std::make_unique<Gateway>(dir_); }
  void restart() {
    gateway_.reset();
    start();
  }

  fleet::ApiClient op() { return fleet::ApiClient(gateway_->url(), kOperator); }
  fleet::ApiClient viewer() { return fleet::ApiClient(gateway_->url(), kViewer); }

  static json body(const fleet::HttpResponse& r) {
    auto j = json::parse(r.body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON: " << r.body;
    return j;
  }
  // The error message of a 4xx, checked to carry `needle`.
  static void expect_error(const fleet::HttpResponse& r, int status, const std::string& needle) {
    EXPECT_EQ(r.status, status) << r.body;
    const auto j = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(j.is_object() && j.contains("error")) << "no JSON error body: " << r.body;
    EXPECT_EQ(j["error"]["status"], status) << r.body;
    EXPECT_NE(j["error"]["message"].get<std::string>().find(needle), std::string::npos)
        << "error should mention '" << needle << "': " << r.body;
  }
  json upload(uint32_t version) {
    auto r = op().request("POST", "/api/v1/models", package_bytes(fleet_, version), "application/octet-stream");
    EXPECT_EQ(r.status, 201) << r.body;
    return body(r);
  }
  json start_rollout(uint32_t version) {
    auto r = op().request("POST", "/api/v1/rollouts",
                          json{{"model_id", kModelId}, {"version", version}, {"target", "all"}, {"canary", "1"},
                               {"waves", "100"}}
                              .dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return body(r);
  }
  std::string state_of(int64_t id) {
    auto r = viewer().get("/api/v1/rollouts/" + std::to_string(id));
    EXPECT_EQ(r.status, 200) << r.body;
    return body(r).value("state", "?");
  }

  // Model 7 v1 (what the nodes run) as a package whose .tem names its classes; its registry id.
  int64_t upload_labelled() {
    ota::PackageSpec spec;
    spec.model_id = kModelId;
    spec.version = 1;
    spec.model_name = "kws";
    spec.payload = testing::labelled_tem(kModelId, 1, "kws", {"yes", "no", "up, down"});
    spec.arena_bytes = 6944;
    spec.created_at = 1700000000;
    const auto bytes = ota::encode_package(ota::create_package(spec, fleet_));
    auto up =
        op().request("POST", "/api/v1/models", std::string(bytes.begin(), bytes.end()), "application/octet-stream");
    EXPECT_EQ(up.status, 201) << up.body;
    return body(up).value("id", int64_t{0});
  }
  // Three results of model 7 v1 from `node`: labels 0 (score 255, runner-up 1 at 51), 2 (128)
  // and 9 (0), an index the model does not name.
  void store_results(const std::string& node, uint32_t first_seq) {
    gateway::ResultsItem results;
    results.node_id = node;
    results.boot_id = 1;
    results.first_seq = first_seq;
    results.model_id = kModelId;
    results.model_version = 1;
    results.received_ms = gateway::now_ms();
    results.bearer = "mqtt";
    results.results = {{.label = 0, .score = 255, .latency_us = 900, .runners_up = {{1, 51}}},
                       {.label = 2, .score = 128, .latency_us = 950, .runners_up = {}},
                       {.label = 9, .score = 0, .latency_us = 990, .runners_up = {}}};
    ASSERT_TRUE(gateway_->store().submit(results));
    gateway_->store().flush();
  }

  fs::path dir_;
  ota::SigningKey fleet_ = ota::SigningKey::generate();
  std::unique_ptr<Gateway> gateway_;
};

TEST_F(RolloutApiTest, ModelUploadIsVerifiedAgainstTheFleetKey) {
  auto r = viewer().get("/api/v1/models");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(body(r)["models"].empty());

  const std::string good = package_bytes(fleet_, 2);
  // Roles first: a viewer may not upload, nobody without a token may.
  expect_error(viewer().request("POST", "/api/v1/models", good, "application/octet-stream"), 403, "");
  expect_error(fleet::ApiClient(gateway_->url(), "").request("POST", "/api/v1/models", good, "application/octet-stream"),
               401, "");

  // One payload byte changed after signing: the manifest's SHA-256 no longer matches.
  const auto pkg = ota::parse_package(std::span(reinterpret_cast<const uint8_t*>(good.data()), good.size()));
  auto tampered = pkg;
  tampered.payload[100] ^= 0x01;
  const auto tampered_bytes = ota::encode_package(tampered);
  expect_error(op().request("POST", "/api/v1/models", std::string(tampered_bytes.begin(), tampered_bytes.end()),
                            "application/octet-stream"),
               400, "SHA-256");
  // A manifest byte changed: the signature no longer verifies.
  auto forged = pkg;
  forged.manifest[forged.manifest.size() / 2] ^= 0x01;
  const auto forged_bytes = ota::encode_package(forged);
  const auto forged_r =
      op().request("POST", "/api/v1/models", std::string(forged_bytes.begin(), forged_bytes.end()), "application/octet-stream");
  EXPECT_EQ(forged_r.status, 400) << forged_r.body;
  // Signed by a key the fleet does not trust.
  const auto stranger = ota::SigningKey::generate();
  expect_error(op().request("POST", "/api/v1/models", package_bytes(stranger, 2), "application/octet-stream"), 400,
               "does not trust");
  expect_error(op().request("POST", "/api/v1/models", "not a package at all", "application/octet-stream"), 400,
               "not a valid package");
  // Fleet-signed, hash intact, but the manifest names another model than the payload's .tem
  // header (the campaign's "99 v5" that ran as model 7): refused, naming both.
  const auto other_model = rollout::testing::resign_manifest(pkg, fleet_, [](ota::Manifest& m) { m.model_id = 99; });
  const auto other_model_bytes = ota::encode_package(other_model);
  const auto mismatch =
      op().request("POST", "/api/v1/models", std::string(other_model_bytes.begin(), other_model_bytes.end()),
                   "application/octet-stream");
  expect_error(mismatch, 400, "model mismatch");
  EXPECT_NE(mismatch.body.find("model 99 v2"), std::string::npos) << mismatch.body;
  EXPECT_NE(mismatch.body.find("model " + std::to_string(kModelId) + " v2"), std::string::npos) << mismatch.body;
  const auto other_version = rollout::testing::resign_manifest(pkg, fleet_, [](ota::Manifest& m) { m.version = 5; });
  const auto other_version_bytes = ota::encode_package(other_version);
  expect_error(
      op().request("POST", "/api/v1/models", std::string(other_version_bytes.begin(), other_version_bytes.end()),
                   "application/octet-stream"),
      400, "model mismatch");
  r = viewer().get("/api/v1/models");
  EXPECT_TRUE(body(r)["models"].empty()) << "a refused upload changed the registry: " << r.body;

  // The genuine package registers once, with what its signed manifest says.
  const json model = upload(2);
  EXPECT_EQ(model["model_id"], kModelId);
  EXPECT_EQ(model["version"], 2);
  EXPECT_EQ(model["payload_size"], 4096);
  EXPECT_EQ(model["payload_sha256"], ota::hex(ota::sha256(pkg.payload)));
  expect_error(op().request("POST", "/api/v1/models", good, "application/octet-stream"), 409, "already");
  r = viewer().get("/api/v1/models");
  ASSERT_EQ(body(r)["models"].size(), 1u) << r.body;
}

TEST_F(RolloutApiTest, RolloutStateTransitionsFollowTheEngine) {
  upload(2);
  // Roles: viewers read, operators act.
  expect_error(viewer().request("POST", "/api/v1/rollouts", json{{"model_id", kModelId}, {"version", 2}}.dump()), 403, "");
  // Refusals name what is wrong and start nothing.
  expect_error(op().request("POST", "/api/v1/rollouts", json{{"model_id", kModelId}, {"version", 9}}.dump()), 404,
               "not in the registry");
  expect_error(op().request("POST", "/api/v1/rollouts",
                            json{{"model_id", kModelId}, {"version", 2}, {"target", "group:nobody"}}.dump()),
               400, "nobody");
  EXPECT_TRUE(body(viewer().get("/api/v1/rollouts"))["rollouts"].empty());

  const json started = start_rollout(2);
  const int64_t id = started["id"].get<int64_t>();
  const std::string path = "/api/v1/rollouts/" + std::to_string(id);
  EXPECT_EQ(started["state"], "running");
  EXPECT_EQ(started["target_size"], 4);
  EXPECT_EQ(started["version"], 2);
  EXPECT_EQ(started["previous_version"], 0) << "v1 was never uploaded, so there is no registered previous version";

  auto got = viewer().get(path);
  ASSERT_EQ(got.status, 200) << got.body;
  const json view = body(got);
  EXPECT_EQ(view["id"], id);
  ASSERT_TRUE(view["phases"].is_array() && !view["phases"].empty()) << got.body;
  EXPECT_EQ(view["phases"][0]["name"], "canary") << got.body;
  EXPECT_EQ(view["phases"][0]["size"], 1) << got.body;
  ASSERT_TRUE(view.contains("nodes")) << "GET /rollouts/{id} should list the nodes: " << got.body;
  EXPECT_EQ(view["nodes"].size(), 4u);
  // One page of the nodes: counts and waves still cover all of them.
  const json paged = body(viewer().get(path + "?limit=3&offset=2"));
  ASSERT_EQ(paged["nodes"].size(), 2u) << paged.dump();
  EXPECT_EQ(paged["nodes"][0]["node_id"], view["nodes"][2]["node_id"]);
  EXPECT_EQ(paged["nodes_count"], 4);
  EXPECT_EQ(paged["next_offset"], nullptr);
  EXPECT_EQ(body(viewer().get(path + "?limit=1"))["next_offset"], 1);
  EXPECT_EQ(paged["target_size"], 4);
  expect_error(viewer().get(path + "?limit=0"), 400, "limit");

  // Cancelling one node: operators only; unknown node 404; the node ends cancelled, not failed.
  const std::string last = view["nodes"][3]["node_id"];
  ASSERT_EQ(view["nodes"][3]["state"], "pending") << got.body;
  // The node's own page says which unfinished rollout still has it to update (its cancel button).
  const auto node_rollout = [&](const std::string& node) {
    const auto r = viewer().get("/api/v1/nodes/" + node);
    EXPECT_EQ(r.status, 200) << r.body;
    return body(r)["rollout"];
  };
  EXPECT_EQ(node_rollout(last), (json{{"id", id}, {"state", "running"}, {"node_state", "pending"}}));
  expect_error(viewer().request("POST", path + "/nodes/" + last + "/cancel"), 403, "");
  expect_error(op().request("POST", path + "/nodes/nobody/cancel"), 404, "does not target node nobody");
  expect_error(op().request("POST", "/api/v1/rollouts/424242/nodes/" + last + "/cancel"), 404, "does not exist");
  auto cancelled = op().request("POST", path + "/nodes/" + last + "/cancel");
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_EQ(body(cancelled)["counts"]["cancelled"], 1) << cancelled.body;
  EXPECT_EQ(body(cancelled)["failures"], 0) << cancelled.body;
  EXPECT_EQ(body(cancelled)["state"], "running") << cancelled.body;
  expect_error(op().request("POST", path + "/nodes/" + last + "/cancel"), 409, "already ended cancelled");
  EXPECT_EQ(body(viewer().get(path))["nodes"][3]["state"], "cancelled");
  EXPECT_EQ(node_rollout(last), nullptr) << "a cancelled node has no update left to cancel";
  const std::string first = view["nodes"][0]["node_id"];
  EXPECT_EQ(node_rollout(first)["id"], id) << "the other nodes are still in the rollout";

  // One rollout per model at a time.
  expect_error(op().request("POST", "/api/v1/rollouts", json{{"model_id", kModelId}, {"version", 2}}.dump()), 409,
               "still running");
  // running: resume is not a transition; viewers cannot act.
  expect_error(op().request("POST", path + "/resume"), 409, "");
  expect_error(viewer().request("POST", path + "/pause"), 403, "");
  EXPECT_EQ(state_of(id), "running");

  auto r = op().request("POST", path + "/pause");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body(r)["state"], "paused");
  EXPECT_EQ(state_of(id), "paused");
  expect_error(op().request("POST", path + "/pause"), 409, "");
  r = op().request("POST", path + "/resume");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body(r)["state"], "running");

  expect_error(op().request("POST", path + "/abort", R"({"rollback": "yes"})"), 400, "rollback");
  r = op().request("POST", path + "/abort");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body(r)["state"], "aborted");
  EXPECT_EQ(node_rollout(first), nullptr) << "an aborted rollout updates no node";
  // Finished: nothing more to pause or resume.
  expect_error(op().request("POST", path + "/pause"), 409, "finished");
  expect_error(op().request("POST", path + "/resume"), 409, "finished");

  // Unknown and malformed ids.
  for (const std::string action : {"", "/pause", "/resume", "/abort"}) {
    const std::string target = "/api/v1/rollouts/424242" + action;
    expect_error(action.empty() ? viewer().get(target) : op().request("POST", target), 404, "does not exist");
  }
  expect_error(viewer().get("/api/v1/rollouts/0"), 400, "'id'");

  expect_error(op().request("POST", path + "/nodes/" + last + "/cancel"), 409, "nothing to cancel");
  // The state lives in the store: a restarted gateway reports the same.
  restart();
  EXPECT_EQ(state_of(id), "aborted");
  EXPECT_EQ(body(viewer().get(path))["nodes"][3]["state"], "cancelled") << "the cancel was not stored";
  const json list = body(viewer().get("/api/v1/rollouts"));
  ASSERT_EQ(list["rollouts"].size(), 1u);
  EXPECT_EQ(list["rollouts"][0]["id"], id);
  // After the abort the model is free for a new rollout.
  EXPECT_EQ(start_rollout(2)["state"], "running");
}

TEST_F(RolloutApiTest, PausedRolloutSurvivesARestartPaused) {
  upload(2);
  const int64_t id = start_rollout(2)["id"].get<int64_t>();
  ASSERT_EQ(op().request("POST", "/api/v1/rollouts/" + std::to_string(id) + "/pause").status, 200);
  restart();
  EXPECT_EQ(state_of(id), "paused");
  auto r = op().request("POST", "/api/v1/rollouts/" + std::to_string(id) + "/resume");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body(r)["state"], "running");
}

// What `cmd` printed on stdout; `ok` false when it failed.
std::string run(const std::string& cmd, bool& ok) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) {
    ok = false;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ok = ::pclose(p) == 0;
  return out;
}

// Results arrive as label indices and 0..255 scores; the model's .tem names its classes. The
// API, its CSV export, the label statistics, the model registry and the CLI show the names and
// the scores as probabilities.
TEST_F(RolloutApiTest, LabelsByNameAndScoresAsProbabilities) {
  const int64_t ref = upload_labelled();
  store_results("node-1", 1);

  auto r = viewer().get("/api/v1/events?node=node-1");
  ASSERT_EQ(r.status, 200) << r.body;
  const json events = body(r)["events"];
  ASSERT_EQ(events.size(), 3u) << r.body;
  std::map<uint32_t, json> by_label;
  for (const auto& e : events) by_label[e["label"].get<uint32_t>()] = e;
  EXPECT_EQ(by_label[0]["label_name"], "yes") << r.body;
  EXPECT_DOUBLE_EQ(by_label[0]["probability"].get<double>(), 1.0);
  EXPECT_EQ(by_label[0]["runners_up"][0]["label_name"], "no") << r.body;
  EXPECT_DOUBLE_EQ(by_label[0]["runners_up"][0]["probability"].get<double>(), 0.2);
  EXPECT_EQ(by_label[2]["label_name"], "up, down");
  EXPECT_DOUBLE_EQ(by_label[2]["probability"].get<double>(), 0.502);
  EXPECT_TRUE(by_label[9]["label_name"].is_null()) << "an unnamed index must not borrow a name: " << r.body;

  r = viewer().get("/api/v1/events?node=node-1&format=csv");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(",label,label_name,score,probability,"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(",0,yes,255,1.0000,"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(",2,\"up, down\",128,0.5020,"), std::string::npos) << "names with a comma are quoted: " << r.body;

  r = viewer().get("/api/v1/stats/labels?window=1h&node=node-1");
  ASSERT_EQ(r.status, 200) << r.body;
  std::map<uint32_t, json> totals;
  const json stats = body(r);
  for (const auto& t : stats["totals"]) totals[t["label"].get<uint32_t>()] = t["label_name"];
  EXPECT_EQ(totals[0], "yes") << r.body;
  EXPECT_EQ(totals[2], "up, down") << r.body;

  r = viewer().get("/api/v1/models");
  ASSERT_EQ(r.status, 200) << r.body;
  const json model = body(r)["models"][0];
  EXPECT_EQ(model["labels"], json({"yes", "no", "up, down"})) << r.body;
  EXPECT_EQ(model["arena_bytes"], 6944) << r.body;
  EXPECT_EQ(model["running_on"], 4) << r.body;
  r = viewer().get("/api/v1/models/" + std::to_string(ref));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body(r)["nodes"].size(), 4u) << r.body;
  EXPECT_EQ(body(r)["key_id"], model["key_id"]) << r.body;
  // The nodes running it, one page at a time; nodes_count covers all of them.
  r = viewer().get("/api/v1/models/" + std::to_string(ref) + "?limit=3&offset=1");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body(r)["nodes"].size(), 3u) << r.body;
  EXPECT_EQ(body(r)["nodes_count"], 4) << r.body;
  EXPECT_EQ(body(r)["next_offset"], nullptr) << r.body;
  EXPECT_EQ(body(viewer().get("/api/v1/models/" + std::to_string(ref) + "?limit=2"))["next_offset"], 2);
  expect_error(viewer().get("/api/v1/models/4242"), 404, "no model 4242");
  expect_error(viewer().get("/api/v1/models/abc"), 400, "'id'");

#ifdef TINYEDGE_CLI_EXE
  bool ok = false;
  const std::string conn = " --gateway " + gateway_->url() + " --token " + kViewer;
  std::string out = run(std::string(TINYEDGE_CLI_EXE) + " logs --node node-1" + conn, ok);
  ASSERT_TRUE(ok) << out;
  EXPECT_NE(out.find("PROBABILITY"), std::string::npos) << out;
  EXPECT_NE(out.find(" yes "), std::string::npos) << "tinyedge logs should name label 0:\n" << out;
  EXPECT_NE(out.find("up, down"), std::string::npos) << out;
  EXPECT_NE(out.find(" 1.00 "), std::string::npos) << "score 255 is probability 1.00:\n" << out;
  EXPECT_NE(out.find(" 0.50 "), std::string::npos) << "score 128 is probability 0.50:\n" << out;
  // (One CLI run: the CLI loads libtorch at start, seconds on a loaded machine.)
#endif
}

// #16: a node's enrolled classes come after the model's trained ones (index trained + position),
// and show by name in that node's events (JSON and CSV) only; the enrollment routes check the
// caller's role and the body, and name the node they cannot reach.
TEST_F(RolloutApiTest, EnrolledClassesShowByNameOnTheirOwnNodesEvents) {
  upload_labelled();  // 3 trained labels: enrolled position 0 is index 3
  gateway::EnrollmentItem enrolled{"node-1",
                                   1,
                                   gateway::now_ms(),
                                   "mqtt",
                                   tinyedge_v1_EnrollCommand_Action_START,
                                   tinyedge_v1_EnrollRefusal_ENROLL_OK,
                                   "mug",
                                   5,
                                   9830,
                                   "no",
                                   {"mug"},
                                   kModelId,
                                   1,
                                   ""};
  ASSERT_TRUE(gateway_->store().submit(enrolled));
  for (const char* node : {"node-1", "node-2"}) {
    gateway::ResultsItem results{node, 1, 1, kModelId, 1, gateway::now_ms(), "mqtt", {}};
    results.results = {{.label = 3, .score = 200, .latency_us = 900, .runners_up = {{0, 20}}}};
    ASSERT_TRUE(gateway_->store().submit(results));
  }
  gateway_->store().flush();

  auto r = viewer().get("/api/v1/events?node=node-1");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body(r)["events"][0]["label_name"], "mug") << r.body;
  EXPECT_EQ(body(r)["events"][0]["runners_up"][0]["label_name"], "yes") << r.body;
  r = viewer().get("/api/v1/events?node=node-1&format=csv");
  EXPECT_NE(r.body.find(",3,mug,200,"), std::string::npos) << r.body;
  r = viewer().get("/api/v1/events?node=node-2");
  EXPECT_TRUE(body(r)["events"][0]["label_name"].is_null())
      << "node-1's class must not name node-2's index: " << r.body;

  r = viewer().get("/api/v1/nodes/node-1/enrollment");
  ASSERT_EQ(r.status, 200) << r.body;
  const json state = body(r);
  ASSERT_EQ(state["labels"].size(), 1u) << r.body;
  EXPECT_EQ(state["labels"][0]["label"], "mug");
  EXPECT_EQ(state["labels"][0]["examples_used"], 5);
  EXPECT_NEAR(state["labels"][0]["distance"].get<double>(), 0.6, 0.001);
  EXPECT_EQ(state["log"][0]["result"], "ok");
  EXPECT_TRUE(body(viewer().get("/api/v1/nodes/node-2/enrollment"))["labels"].empty());
  expect_error(viewer().get("/api/v1/nodes/ghost/enrollment"), 404, "no node 'ghost'");

  const std::string start = json{{"label", "pen"}, {"examples", 5}}.dump();
  expect_error(viewer().request("POST", "/api/v1/nodes/node-1/enrollment", start), 403, "");
  expect_error(viewer().request("DELETE", "/api/v1/nodes/node-1/enrollment?label=mug"), 403, "");
  expect_error(op().request("POST", "/api/v1/nodes/node-1/enrollment", R"({"label":"a b","examples":5})"), 400,
               "without spaces");
  expect_error(op().request("POST", "/api/v1/nodes/node-1/enrollment", R"({"label":"seventeen-chars-x","examples":5})"),
               400, "1-16");
  expect_error(op().request("POST", "/api/v1/nodes/node-1/enrollment", R"({"label":"pen","examples":0})"), 400,
               "'examples'");
  expect_error(op().request("POST", "/api/v1/nodes/node-1/enrollment", R"({"label":"pen"})"), 400, "'examples'");
  expect_error(op().request("POST", "/api/v1/nodes/ghost/enrollment", start), 404, "no node 'ghost'");
  expect_error(op().request("DELETE", "/api/v1/nodes/node-1/enrollment"), 400, "'label'");
  // This gateway has no MQTT: the node is out of reach, and nothing was sent.
  expect_error(op().request("POST", "/api/v1/nodes/node-1/enrollment", start), 503, "no route to node 'node-1'");
}

// Reads a live response until `needle` has arrived (or `limit` passed); returns all read so far.
std::string read_until(testing::RawConnection& c, std::string& seen, const std::string& needle,
                       std::chrono::milliseconds limit = 8s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (seen.find(needle) == std::string::npos && std::chrono::steady_clock::now() < end && !c.closed())
    seen += c.read(200ms, true);
  return seen;
}

// GET /api/v1/stream pushes what changes, with the REST API's token and roles: named results as
// they are stored, node changes, and rollout state changes.
TEST_F(RolloutApiTest, StreamPushesNamedResultsNodeAndRolloutChanges) {
  const uint16_t port = static_cast<uint16_t>(std::stoi(gateway_->url().substr(gateway_->url().rfind(':') + 1)));
  {
    testing::RawConnection anonymous(port);
    ASSERT_TRUE(anonymous.send("GET /api/v1/stream HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(testing::RawConnection::status_of(anonymous.read(5s)), 401) << "the stream needs a token like the API";
  }
  upload_labelled();
  testing::RawConnection live(port);
  ASSERT_TRUE(live.send("GET /api/v1/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kViewer + "\r\n\r\n"));
  std::string seen;
  read_until(live, seen, "event: hello");
  ASSERT_EQ(testing::RawConnection::status_of(seen), 200) << seen;
  EXPECT_NE(seen.find("Content-Type: text/event-stream"), std::string::npos) << seen;
  ASSERT_NE(seen.find("event: hello"), std::string::npos) << seen;

  store_results("node-2", 1);
  read_until(live, seen, "\"label_name\":\"up, down\"");
  EXPECT_NE(seen.find("event: events"), std::string::npos) << seen;
  EXPECT_NE(seen.find("\"label_name\":\"yes\""), std::string::npos) << "results are pushed named: " << seen;
  EXPECT_NE(seen.find("\"node\":\"node-2\""), std::string::npos) << seen;

  ASSERT_TRUE(gateway_->store().submit(gateway::GroupsItem{"node-3", {"roof"}}));
  gateway_->store().flush();
  read_until(live, seen, "\"roof\"");
  EXPECT_NE(seen.find("event: nodes"), std::string::npos) << seen;
  EXPECT_NE(seen.find("\"roof\""), std::string::npos) << "a group change is pushed: " << seen;

  upload(2);
  const int64_t id = start_rollout(2)["id"].get<int64_t>();
  ASSERT_EQ(op().request("POST", "/api/v1/rollouts/" + std::to_string(id) + "/pause").status, 200);
  read_until(live, seen, "\"state\":\"paused\"");
  EXPECT_NE(seen.find("event: rollouts"), std::string::npos) << seen;
  EXPECT_NE(seen.find("\"state\":\"paused\""), std::string::npos) << "a paused rollout is pushed: " << seen;
  EXPECT_FALSE(live.closed()) << "the stream must stay open";
}

}  // namespace
}  // namespace tinyedge::dashboard
