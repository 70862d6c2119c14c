// Drift alarms end to end: a real mosquitto, the real tinyedge-gateway, two groups of host nodes
// (tinyedge-node) running the MLPerf Tiny keyword model on the same replayed input. Once both
// groups' baselines are learnt, the "noisy" group's process is restarted with noise on its sensor
// (`--input-noise`, a dirty lens): its watch must raise an alarm within a stated number of its
// results, the "clean" group's must raise none, and the alarm must show in the API, /metrics and
// `tinyedge alerts`, and be cleared by an operator's rebaseline (which a viewer may not do). The
// nodes' Telemetry carries their input sums: the noisy group's must raise an input_stddev alarm
// within a stated number of telemetry periods, the clean group's none. The gateway is restarted
// between the baselines forming and the lenses turning noisy: it must judge the noisy input against
// the baselines it stored, not learn the noisy input as the new normal.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "dashboard_api/auth.h"
#include "deploy/fleet/api_client.h"
#include "tests/gateway/support/gateway_process.h"
#include "tests/gateway/support/mosquitto.h"

namespace tinyedge::drift {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

// The watch settings the gateway gets: small, so the test takes seconds, and stated here because
// the detection delay is asserted against them.
constexpr int kBaseline = 600, kWindow = 300, kEvaluateEvery = 75, kConfirm = 2;
// The input statistics, in telemetry periods (each node reports every kTelemetryMs).
constexpr int kInputBaseline = 30, kInputWindow = 12, kInputEvery = kInputWindow / 4, kTelemetryMs = 200;

std::string shared_model(const std::string& file) {
  const char* env = std::getenv("TINYEDGE_SHARED_MODELS");
  fs::path dir = env ? fs::path(env) : fs::path(TINYEDGE_SOURCE_DIR) / ".." / "shared" / "models";
  return (dir / file).string();
}

std::string text_of(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// Runs a CLI to completion; returns what it printed, `ok` whether it exited 0.
std::string run(const std::vector<std::string>& argv, const std::string& log, bool& ok) {
  const pid_t pid = test::spawn(argv, log);
  const int status = test::stop_process(pid, 0, 120000);
  ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  return text_of(log);
}

const json* watch_of(const json& drift, const std::string& group) {
  for (const auto& w : drift["watches"])
    if (w["key"]["group"] == group) return &w;
  return nullptr;
}

class DriftAlarm : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = shared_model("kws_ref_model.tflite");
    if (!fs::exists(model_)) {
      if (std::getenv("CI") && std::string(std::getenv("CI")) == "true") FAIL() << "missing " << model_;
      GTEST_SKIP() << "MLPerf Tiny model not found at " << model_ << " (needs ../shared/models)";
    }
    dir_ = test::make_temp_dir("drift");
  }

  std::string node_log(const std::string& prefix, int start) const {
    return dir_ + "/" + prefix + std::to_string(start) + ".log";
  }
  pid_t start_nodes(const std::string& prefix, double noise, int start) {
    std::vector<std::string> argv = {TINYEDGE_NODE_EXE,
                                     "--model",
                                     dir_ + "/kws.tem",
                                     "--broker",
                                     broker_url_,
                                     "--count",
                                     "2",
                                     "--id-prefix",
                                     prefix,
                                     "--samples",
                                     dir_ + "/samples.bin",
                                     "--interval-ms",
                                     "5",
                                     "--report-interval-ms",
                                     "100",
                                     "--batch",
                                     "16",
                                     "--telemetry-interval-ms",
                                     std::to_string(kTelemetryMs)};
    if (noise > 0) argv.insert(argv.end(), {"--input-noise", std::to_string(noise)});
    return test::spawn(argv, node_log(prefix, start));
  }

  std::string model_, dir_, broker_url_;
};

TEST_F(DriftAlarm, NoisyCameraRaisesAnAlarmForItsGroupOnlyAndAnOperatorRebaselines) {
  bool ok = false;
  const std::string import =
      run({TINYEDGE_CLI_EXE, "model", "import", model_, "-o", dir_ + "/kws.tem"}, dir_ + "/import.log", ok);
  ASSERT_TRUE(ok) << import;
  // The nodes' input: the model's five reference input vectors, over and over.
  {
    std::ofstream samples(dir_ + "/samples.bin", std::ios::binary);
    for (int i = 0; i < 5; ++i) {
      char name[48];
      std::snprintf(name, sizeof name, "vectors/kws_ref_model/in_%03d.bin", i);
      const std::string bytes = text_of(shared_model(name));
      ASSERT_EQ(bytes.size(), 490u) << name;
      samples << bytes;
    }
  }

  test::Mosquitto broker(dir_);
  broker.start();
  broker_url_ = broker.url();
  const uint16_t api_port = test::free_port();
  const std::string viewer = "drift-viewer-token", operator_token = "drift-operator-token";
  const std::string config = dir_ + "/gateway.json";
  {
    std::ofstream out(config);
    out << "{\n  \"data_dir\": \"" << dir_ << "/data\",\n"
        << "  \"mqtt\": {\"url\": \"" << broker.url() << "\", \"client_id\": \"drift-gw\"},\n"
        << "  \"api\": {\"listen\": \"127.0.0.1\", \"port\": " << api_port << ", \"tokens\": ["
        << "{\"token\": \"sha256:" << dashboard::to_hex(dashboard::sha256(viewer)) << "\", \"role\": \"viewer\"},"
        << "{\"token\": \"sha256:" << dashboard::to_hex(dashboard::sha256(operator_token))
        << "\", \"role\": \"operator\"}]},\n"
        << "  \"drift\": {\"baseline\": " << kBaseline << ", \"window\": " << kWindow
        << ", \"evaluate_every\": " << kEvaluateEvery << ", \"confirm\": " << kConfirm
        << ", \"input_baseline\": " << kInputBaseline << ", \"input_window\": " << kInputWindow << "},\n"
        << "  \"node_groups\": {\"clean-1\": [\"clean\"], \"clean-2\": [\"clean\"], \"noisy-1\": [\"noisy\"], "
           "\"noisy-2\": [\"noisy\"]}\n}\n";
  }
  const std::string log = dir_ + "/gateway.log";
  test::GatewayProcess gateway(TINYEDGE_GATEWAY_EXE, config, log);
  ASSERT_NO_THROW(gateway.start());
  ASSERT_TRUE(test::wait_port(api_port, 10000)) << "dashboard port never opened; see " << log;
  fleet::ApiClient api("http://127.0.0.1:" + std::to_string(api_port), viewer, 5s);
  auto drift = [&] {
    const auto r = api.get("/api/v1/drift");
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body);
  };

  const pid_t clean = start_nodes("clean-", 0, 1);
  pid_t noisy = start_nodes("noisy-", 0, 1);
  // Both groups learn their baseline from the clean input and judge a first window.
  auto steady = [&](const json& d, const std::string& group) {
    const json* w = watch_of(d, group);
    return w && (*w)["state"] == "steady" && (*w)["input"].is_object() && (*w)["input"]["judged"] == true;
  };
  json d;
  for (int i = 0; i < 300; ++i) {
    d = drift();
    if (steady(d, "clean") && steady(d, "noisy")) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(steady(d, "clean") && steady(d, "noisy"))
      << "watches not steady after 30 s: " << d.dump(1) << "\nnode log: " << text_of(node_log("noisy-", 1));
  EXPECT_TRUE(d["alerts"].empty()) << "an alarm on the clean input: " << d["alerts"].dump(1);

  // The gateway restarts (an upgrade, a crash) while someone smears the noisy group's lenses: the
  // same scenes, with noise of sigma 40 (int8 steps).
  test::stop_process(noisy, SIGTERM, 10000);
  EXPECT_EQ(gateway.terminate(), 0);
  ASSERT_NO_THROW(gateway.start());
  ASSERT_TRUE(test::wait_port(api_port, 10000)) << "dashboard port never opened after the restart; see " << log;
  json after_restart;
  for (int i = 0; i < 50 && !watch_of(after_restart = drift(), "noisy"); ++i) std::this_thread::sleep_for(100ms);
  const json* restored = watch_of(after_restart, "noisy");
  ASSERT_NE(restored, nullptr) << "the restarted gateway did not load the noisy group's watch: "
                               << after_restart.dump(1);
  const json before_shift = *restored;
  ASSERT_EQ(before_shift["baseline_results"], kBaseline) << before_shift.dump(1);
  ASSERT_TRUE(before_shift["input"].is_object()) << before_shift.dump(1);
  ASSERT_EQ(before_shift["input"]["baseline_periods"], kInputBaseline) << before_shift.dump(1);
  const uint64_t results_at_shift = before_shift["results"].get<uint64_t>();
  const uint64_t periods_at_shift = before_shift["input"]["periods"].get<uint64_t>();
  noisy = start_nodes("noisy-", 40, 2);
  json alert, input_alert;  // on the results (label mix or score), and on the input's spread
  for (int i = 0; i < 300 && (alert.is_null() || input_alert.is_null()); ++i) {
    d = drift();
    for (const auto& a : d["alerts"]) {
      if (a["key"]["group"] != "noisy" || a["active"] != true) continue;
      if (a["kind"] == "label_mix" || a["kind"] == "score") alert = a;
      if (a["kind"] == "input_stddev") input_alert = a;
    }
    if (alert.is_null() || input_alert.is_null()) std::this_thread::sleep_for(100ms);
  }
  ASSERT_FALSE(alert.is_null()) << "no alarm for the noisy group within 30 s: " << d.dump(1);
  ASSERT_FALSE(input_alert.is_null()) << "no input_stddev alarm for the noisy group within 30 s: " << d.dump(1);
  // Its delay, in the group's telemetry periods: one input window, `confirm` verdicts, and the
  // period each node had begun on clean input at the restart.
  const uint64_t input_delay = input_alert["periods_at_raise"].get<uint64_t>() - periods_at_shift;
  EXPECT_LE(input_delay, static_cast<uint64_t>(kInputWindow + kConfirm * kInputEvery + 2))
      << "input alarm raised after " << input_delay << " periods of the noisy group";
  std::printf(
      "noisy group: input_stddev alarm after %llu telemetry periods (%llu results; window %d periods): "
      "%.2f -> %.2f int8 steps, bound %.2f\n",
      static_cast<unsigned long long>(input_delay),
      static_cast<unsigned long long>(input_alert["results_at_raise"].get<uint64_t>() - results_at_shift), kInputWindow,
      input_alert["at_raise"]["baseline_steps"].get<double>(), input_alert["at_raise"]["window_steps"].get<double>(),
      input_alert["at_raise"]["bound_steps"].get<double>());
  // Detection delay, in the noisy group's results: one window of noisy results, plus `confirm`
  // verdicts, plus the clean results still in flight at the restart (at most a batch per node).
  const uint64_t delay = alert["results_at_raise"].get<uint64_t>() - results_at_shift;
  EXPECT_LE(delay, static_cast<uint64_t>(kWindow + kConfirm * kEvaluateEvery + 2 * 16))
      << "raised after " << delay << " results of the noisy group";
  std::printf("noisy group: %s alarm after %llu results (window %d); JSD %.3f bits over bound %.3f\n",
              alert["kind"].get<std::string>().c_str(), static_cast<unsigned long long>(delay), kWindow,
              alert["at_raise"]["jsd_bits"].get<double>(), alert["at_raise"]["bound_bits"].get<double>());

  // The clean group keeps going for a window and two verdicts more, and raises nothing.
  const uint64_t clean_before = (*watch_of(d, "clean"))["results"].get<uint64_t>();
  for (int i = 0; i < 300; ++i) {
    d = drift();
    if ((*watch_of(d, "clean"))["results"].get<uint64_t>() >= clean_before + kWindow + kConfirm * kEvaluateEvery) break;
    std::this_thread::sleep_for(100ms);
  }
  for (const auto& a : d["alerts"]) EXPECT_NE(a["key"]["group"], "clean") << "clean group alarmed: " << a.dump();
  const json* noisy_watch = watch_of(d, "noisy");
  ASSERT_NE(noisy_watch, nullptr);
  EXPECT_EQ((*noisy_watch)["state"], "drifting");

  const auto metrics = api.get("/metrics");
  EXPECT_NE(
      metrics.body.find("tinyedge_drift_alarm{model_id=\"" + std::to_string(alert["key"]["model_id"].get<uint32_t>()) +
                        "\",version=\"" + std::to_string(alert["key"]["version"].get<uint32_t>()) +
                        "\",group=\"noisy\",kind=\"" + alert["kind"].get<std::string>() + "\"} 1"),
      std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("group=\"noisy\",kind=\"input_stddev\"} 1"), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("tinyedge_drift_input_shift_steps{"), std::string::npos) << metrics.body;

  const std::string gw = "http://127.0.0.1:" + std::to_string(api_port);
  const std::string listed =
      run({TINYEDGE_CLI_EXE, "alerts", "--gateway", gw, "--token", viewer}, dir_ + "/alerts.log", ok);
  ASSERT_TRUE(ok) << listed;
  EXPECT_NE(listed.find("group noisy"), std::string::npos) << listed;
  EXPECT_NE(listed.find("input_stddev"), std::string::npos) << "the input alarm is not listed:\n" << listed;
  EXPECT_NE(listed.find("active"), std::string::npos) << listed;
  const std::string alarms = listed.substr(0, listed.find("active drift alarm"));
  EXPECT_EQ(alarms.find("group clean"), std::string::npos) << "a clean watch listed as an alarm:\n" << listed;

  const std::vector<std::string> rebaseline = {TINYEDGE_CLI_EXE,
                                               "alerts",
                                               "rebaseline",
                                               "--gateway",
                                               gw,
                                               "--model",
                                               std::to_string(alert["key"]["model_id"].get<uint32_t>()),
                                               "--version",
                                               std::to_string(alert["key"]["version"].get<uint32_t>()),
                                               "--group",
                                               "noisy",
                                               "--token"};
  auto as = [&](const std::string& token) {
    auto argv = rebaseline;
    argv.push_back(token);
    return argv;
  };
  const std::string refused = run(as(viewer), dir_ + "/rebaseline-viewer.log", ok);
  EXPECT_FALSE(ok) << "a viewer rebaselined: " << refused;
  EXPECT_NE(refused.find("403"), std::string::npos) << refused;
  const std::string accepted = run(as(operator_token), dir_ + "/rebaseline.log", ok);
  ASSERT_TRUE(ok) << accepted;
  d = drift();
  for (const auto& a : d["alerts"]) {
    if (a["id"] == alert["id"]) {
      EXPECT_EQ(a["active"], false);
      EXPECT_EQ(a["cleared_by"], "rebaselined by operator");
    }
  }
  EXPECT_EQ((*watch_of(d, "noisy"))["state"], "learning") << "the noisy input is learnt as the new normal";

  test::stop_process(noisy, SIGTERM, 10000);
  test::stop_process(clean, SIGTERM, 10000);
  EXPECT_EQ(gateway.terminate(), 0);
}

}  // namespace
}  // namespace tinyedge::drift
