// bench_rollout: time to roll a ~100 KB model (MLPerf Tiny ResNet, imported) out to N host nodes
// through a real mosquitto and the gateway's rollout runner, and bytes on the wire per node
// against the payload size. A program that prints figures, not a test.
//
//   bench_rollout [--nodes 1000] [--model ../shared/models/pretrainedResnet_quant.tflite]
//                 [--max-concurrent 200] [--ota-rate 8388608]
#include <cstdio>
#include <cstring>

#include "ota/package.h"
#include "tests/rollout/rollout_harness.h"

using namespace tinyedge;
using namespace tinyedge::rollout;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
  int nodes = 1000;
  uint32_t max_concurrent = 200;
  uint64_t rate = 8u << 20;
  std::string model = testing::shared_model("pretrainedResnet_quant.tflite");
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--nodes")) nodes = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--model")) model = argv[i + 1];
    else if (!std::strcmp(argv[i], "--max-concurrent")) max_concurrent = static_cast<uint32_t>(std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--ota-rate")) rate = std::strtoull(argv[i + 1], nullptr, 10);
    else {
      std::fprintf(stderr, "bench_rollout: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (!std::filesystem::exists(model)) {
    std::fprintf(stderr, "bench_rollout: model %s not found\n", model.c_str());
    return 2;
  }
  const std::string dir = test::make_temp_dir("bench-rollout");
  const std::string cli = TINYEDGE_CLI_EXE, keys = dir + "/fleet";
  auto must = [](const std::string& error) {
    if (!error.empty()) {
      std::fprintf(stderr, "%s\n", error.c_str());
      std::exit(1);
    }
  };
  must(testing::run_cli({cli, "keys", "generate", "--out", keys}, dir + "/keys.log"));
  for (int v : {1, 2}) {
    std::string tem = dir + "/m_v" + std::to_string(v) + ".tem";
    must(testing::run_cli({cli, "model", "import", model, "--version", std::to_string(v), "-o", tem}, dir + "/import.log"));
    must(testing::run_cli({cli, "package", "create", "--model", tem, "--version", std::to_string(v), "--key",
                           keys + ".key", "-o", dir + "/m_v" + std::to_string(v) + ".tep"},
                          dir + "/package.log"));
  }
  test::Mosquitto broker(dir);
  broker.start();
  testing::GatewayUnderTest gateway(dir, broker.url(), keys, rate);
  pid_t fleet = test::spawn({TINYEDGE_NODE_EXE, "--model", dir + "/m_v1.tem", "--broker", broker.url(), "--count",
                             std::to_string(nodes), "--id-prefix", "b", "--trust-key", keys + ".pub", "--data-dir",
                             dir + "/nodes", "--interval-ms", "10000"},
                            dir + "/nodes.log");
  auto online = [&] {
    int n = 0;
    for (const auto& row : gateway.gateway().open_query()->nodes()) n += row.online ? 1 : 0;
    return n;
  };
  if (!testing::wait_until([&] { return online() == nodes; }, 300s)) {
    std::fprintf(stderr, "bench_rollout: only %d of %d nodes came online (see %s/nodes.log)\n", online(), nodes,
                 dir.c_str());
    test::stop_process(fleet, SIGTERM);
    return 1;
  }
  for (int v : {1, 2}) gateway.control().upload_model(ota::read_file(dir + "/m_v" + std::to_string(v) + ".tep"));
  const auto package = ota::read_package_file(dir + "/m_v2.tep");
  const auto manifest = ota::manifest_of(package);
  RolloutRequest request;
  request.model_id = manifest.model_id;
  request.version = 2;
  request.canary = "10";
  request.waves = "100";
  request.max_failures = "1%";
  request.max_concurrent = max_concurrent;
  request.node_timeout = "120s";
  request.gate.enabled = false;
  const uint64_t events_before = gateway.gateway().open_query()->event_count();
  const uint64_t refused_before = gateway.gateway().metrics().snapshot().downlinks_unroutable;
  const auto t0 = std::chrono::steady_clock::now();
  int64_t id = gateway.control().start(request).record.id;
  testing::wait_until(
      [&] {
        auto s = gateway.control().get(id, false).record.state;
        return s != RolloutState::kRunning;
      },
      3600s);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  RolloutView view = gateway.control().get(id, false);
  const uint64_t events_during = gateway.gateway().open_query()->event_count() - events_before;
  const uint64_t refused = gateway.gateway().metrics().snapshot().downlinks_unroutable - refused_before;
  uint64_t down = 0, up = 0, payload_sent = 0;
  size_t counted = 0;
  for (const auto& [node, stats] : gateway.service().all_wire_stats()) {
    down += stats.downlink_bytes;
    up += stats.uplink_bytes;
    payload_sent += stats.chunk_payload_bytes;
    ++counted;
  }
  const double per_node = counted ? static_cast<double>(down + up) / counted : 0;
  std::printf("bench_rollout: %d nodes, payload %zu bytes (model %s)\n", nodes, package.payload.size(), model.c_str());
  std::printf("  rollout %s: %u activated, %u failed, in %.1f s (canary 10, then 100%%, max concurrent %u, OTA rate %.1f MB/s)\n",
              std::string(to_string(view.record.state)).c_str(), view.counts[NodeState::kActivated], view.failures,
              seconds, max_concurrent, rate / 1048576.0);
  if (view.record.state != RolloutState::kCompleted) std::printf("  why: %s\n", view.record.reason.c_str());
  std::printf("  wire per node: %.0f bytes (downlink %.0f + uplink %.0f) = %.3f x payload; chunk payload %.0f bytes\n",
              per_node, counted ? static_cast<double>(down) / counted : 0, counted ? static_cast<double>(up) / counted : 0,
              per_node / static_cast<double>(package.payload.size()),
              counted ? static_cast<double>(payload_sent) / counted : 0);
  std::printf("  events ingested during the rollout: %llu\n", static_cast<unsigned long long>(events_during));
  std::printf("  downlinks the bearer refused: %llu (chunks: %llu); OTA server back-offs on a deep MQTT queue: %llu\n",
              static_cast<unsigned long long>(refused),
              static_cast<unsigned long long>(gateway.service().ota_undeliverable()),
              static_cast<unsigned long long>(gateway.service().ota_backoffs()));
  test::stop_process(fleet, SIGTERM, 30000);
  gateway.stop();
  std::filesystem::remove_all(dir);
  return view.record.state == RolloutState::kCompleted ? 0 : 1;
}
