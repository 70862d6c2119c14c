// How many simulated nodes one tinyedge-node process sustains at 1 result/s each: for each fleet
// size, a real mosquitto, a gateway stand-in that acks, and one tinyedge-node process for a fixed
// time. Prints, per size: results the gateway received vs. the N results/s asked for, the busiest
// main-loop share tinyedge-node reported (its --stats busy=), and results left unacknowledged.
// A program that prints figures, not a test.
//
//   node_fleet_bench [model.tem] [seconds] [sizes...]
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "broker.h"
#include "gateway_stub.h"
#include "process.h"

using namespace tinyedge::testing;
namespace fs = std::filesystem;

namespace {

// Highest "busy=N%" in tinyedge-node's statistics lines: the share of time its loop was working.
int max_busy(const fs::path& log) {
  std::FILE* f = std::fopen(log.c_str(), "r");
  int best = -1;
  char line[512];
  while (f != nullptr && std::fgets(line, sizeof(line), f) != nullptr) {
    const char* p = std::strstr(line, "busy=");
    if (p != nullptr) best = std::max(best, std::atoi(p + 5));
  }
  if (f != nullptr) std::fclose(f);
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string model = argc > 1 ? argv[1] : TINYEDGE_TEST_MODEL;
  const int seconds = argc > 2 ? std::stoi(argv[2]) : 20;
  std::vector<int> sizes;
  for (int i = 3; i < argc; ++i) sizes.push_back(std::stoi(argv[i]));
  if (sizes.empty()) sizes = {100, 250, 500, 1000};
  if (model.empty() || !fs::exists(model)) {
    std::fprintf(stderr, "node_fleet_bench: model '%s' not found (needs ../shared/models)\n", model.c_str());
    return 1;
  }
  std::printf("model %s, %d s per run, 1 result/s per node\n", model.c_str(), seconds);
  std::printf("%8s %12s %12s %10s %10s %9s\n", "nodes", "asked/s", "received/s", "received%", "max busy%", "unacked");
  for (int n : sizes) {
    const fs::path dir = fs::temp_directory_path() / ("tinyedge-bench-" + std::to_string(::getpid()) + "-" + std::to_string(n));
    fs::remove_all(dir);
    fs::create_directories(dir);
    Broker broker(dir);
    broker.start();
    GatewayStub gateway(broker.url());
    while (!gateway.subscribed()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ChildProcess nodes({TINYEDGE_NODE_EXE, "--model", model, "--broker", broker.url(), "--count", std::to_string(n),
                        "--id-prefix", "b", "--duration", std::to_string(seconds), "--drain-ms", "3000",
                        "--stats-interval", "5", "--sent-log", (dir / "sent.log").string()},
                       (dir / "nodes.log").string());
    if (!nodes.wait_for(std::chrono::seconds(seconds + 60)) || nodes.exit_code() != 0) {
      std::printf("%8d tinyedge-node failed (exit %d); its log is %s\n", n, nodes.exit_code(),
                  (dir / "nodes.log").c_str());
      broker.kill();
      continue;
    }
    size_t received = 0;
    for (const auto& [key, seqs] : gateway.results()) received += seqs.size();
    size_t unacked = 0;
    {
      std::FILE* f = std::fopen((dir / "sent.log").c_str(), "r");
      char kind[16], node[64];
      unsigned boot, a, b;
      while (f != nullptr && std::fscanf(f, "%15s %63s %u %u %u", kind, node, &boot, &a, &b) == 5) {
        if (std::string(kind) == "final") unacked += b;
      }
      if (f != nullptr) std::fclose(f);
    }
    const double asked = n;
    const double got = received / static_cast<double>(seconds);
    std::printf("%8d %12.0f %12.1f %9.1f%% %9d%% %9zu\n", n, asked, got, 100.0 * got / asked,
                max_busy(dir / "nodes.log"), unacked);
    std::fflush(stdout);
    broker.kill();
    fs::remove_all(dir);
  }
  return 0;
}
