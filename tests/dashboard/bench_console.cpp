// bench_console: the operator's console at fleet scale, in real Chromium. A generated store of
// 10,000 nodes and 10,000,000 events (tests/dashboard/fleet_db, cached by size) is served by the
// real tinyedge-gateway executable (with a real mosquitto, rollouts on, two signed packages in the
// registry and a rollout to a 2,000-node group); console_bench.mjs loads each page cold in headless
// Chromium and prints the bytes transferred, the first contentful paint and the time until the
// page's data is on screen. Not a test: it prints figures (scripts/bench runs it).
//
//   bench_console [--nodes 10000] [--events 10000000] [--dir <build>/bench-fixtures] [--runs 3]
#include <signal.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "dashboard_api/auth.h"
#include "deploy/fleet/api_client.h"
#include "ota/package.h"
#include "ota/signing_key.h"
#include "tests/dashboard/fleet_db.h"
#include "tests/dashboard/labelled_tem.h"
#include "tests/gateway/support/gateway_process.h"
#include "tests/gateway/support/mosquitto.h"

#ifndef TINYEDGE_BENCH_FIXTURES
#define TINYEDGE_BENCH_FIXTURES "/tmp/tinyedge-bench"
#endif

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using namespace tinyedge;

namespace {

void write_file(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

int64_t scalar(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  int64_t n = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
      n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return n;
}

// The fixture's model (7, "fashion"), signed with the fleet key, so the pages show label names.
std::string package(const ota::SigningKey& key, uint32_t version) {
  const std::vector<std::string> labels = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                           "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  ota::PackageSpec spec;
  spec.model_id = 7;
  spec.version = version;
  spec.model_name = "fashion";
  spec.payload = dashboard::testing::labelled_tem(7, version, "fashion", labels);
  spec.arena_bytes = 6944;
  spec.created_at = 1700000000;
  const auto bytes = ota::encode_package(ota::create_package(spec, key));
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace

int main(int argc, char** argv) {
  size_t nodes = 10'000, events = 10'000'000;
  int runs = 3;
  std::string dir = TINYEDGE_BENCH_FIXTURES;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--nodes")
      nodes = std::stoull(v);
    else if (k == "--events")
      events = std::stoull(v);
    else if (k == "--dir")
      dir = v;
    else if (k == "--runs")
      runs = std::stoi(v);
    else {
      std::fprintf(stderr, "bench_console: unknown option %s (try --nodes, --events, --dir, --runs)\n", k.c_str());
      return 2;
    }
  }
  for (const char* need : {"/usr/bin/chromium", TINYEDGE_NPM_DIR "/node_modules/playwright-core"}) {
    if (!fs::exists(need)) {
      std::fprintf(stderr, "bench_console: %s is missing (scripts/setup, the dashboard_npm build step)\n", need);
      return 1;
    }
  }
  fs::create_directories(dir);
  const std::string fixture = dir + "/console-" + std::to_string(nodes) + "-" + std::to_string(events) + ".db";
  if (scalar(fixture, "SELECT max(id) FROM events") != static_cast<int64_t>(events) ||
      scalar(fixture, "SELECT count(*) FROM nodes") != static_cast<int64_t>(nodes)) {
    std::fprintf(stderr, "generating %zu nodes and %zu events into %s ...\n", nodes, events, fixture.c_str());
    dashboard::testing::FleetSpec spec;
    spec.nodes = nodes;
    spec.groups = 5;
    spec.events = events;
    const auto t0 = std::chrono::steady_clock::now();
    dashboard::testing::build_fleet_db(fixture, spec);
    std::printf("fixture: %zu nodes, %zu events generated in %.0f s (%.0f MB)\n", nodes, events,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                static_cast<double>(fs::file_size(fixture)) / 1e6);
  }

  std::printf("scale: %zu nodes, %zu events\n", nodes, events);
  // The gateway gets a copy: it migrates the store and writes the registry and rollout into it.
  const std::string work = test::make_temp_dir("console-bench");
  fs::create_directories(work + "/data");
  fs::copy_file(fixture, work + "/data/tinyedge.db");
  test::Mosquitto broker(work);
  broker.start();
  const std::string viewer = "console-bench-viewer", operator_token = "console-bench-operator";
  const auto fleet_key = ota::SigningKey::generate();
  write_file(work + "/fleet.pub", fleet_key.public_pem());
  write_file(work + "/rollback.key", ota::SigningKey::generate().private_pem());
  const uint16_t port = test::free_port();
  write_file(
      work + "/gateway.json",
      "{\n  \"data_dir\": \"" + work + "/data\",\n  \"mqtt\": {\"url\": \"" + broker.url() +
          "\", \"client_id\": \"console-bench-gw\"},\n  \"api\": {\"listen\": \"127.0.0.1\", \"port\": " +
          std::to_string(port) + ", \"tokens\": [{\"token\": \"sha256:" + dashboard::to_hex(dashboard::sha256(viewer)) +
          "\", \"role\": \"viewer\"}, {\"token\": \"sha256:" + dashboard::to_hex(dashboard::sha256(operator_token)) +
          "\", \"role\": \"operator\"}]}\n}\n");
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t gateway = test::spawn({TINYEDGE_GATEWAY_EXE, "--config", work + "/gateway.json", "--fleet-key",
                                     work + "/fleet.pub", "--rollback-key", work + "/rollback.key"},
                                    work + "/gateway.log");
  if (!test::wait_port(port, 120'000) || !test::wait_for_lines(work + "/gateway.log", "subscribed", 1, 120'000)) {
    std::fprintf(stderr, "bench_console: the gateway did not start:\n%s\n", read_file(work + "/gateway.log").c_str());
    test::stop_process(gateway, SIGKILL);
    return 1;
  }
  std::printf("gateway up on the %zu-event store in %.1f s\n", events,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());

  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  fleet::ApiClient op(url, operator_token, 60s);
  auto r = op.request("POST", "/api/v1/models", package(fleet_key, 1), "application/octet-stream");
  const bool registered = r.status == 201;
  r = op.request("POST", "/api/v1/models", package(fleet_key, 2), "application/octet-stream");
  const int64_t v2_ref = r.status == 201 ? json::parse(r.body)["id"].get<int64_t>() : 0;
  r = op.request(
      "POST", "/api/v1/rollouts",
      json{{"model_id", 7}, {"version", 2}, {"target", "group:g0"}, {"canary", "20"}, {"waves", "50,100"}}.dump());
  const int64_t rollout = r.status == 201 ? json::parse(r.body)["id"].get<int64_t>() : 0;
  int status = 1;
  if (!registered || !v2_ref || !rollout) {
    std::fprintf(stderr, "bench_console: setting up the registry and rollout failed: %d %s\n", r.status,
                 r.body.c_str());
  } else {
    fs::copy_file(TINYEDGE_SOURCE_DIR "/console_bench.mjs", TINYEDGE_NPM_DIR "/console_bench.mjs",
                  fs::copy_options::overwrite_existing);
    const std::string cmd = "cd '" TINYEDGE_NPM_DIR "' && node console_bench.mjs '" + url + "/' " + viewer + " " +
                            dashboard::testing::node_name(nodes / 2) + " " + std::to_string(rollout) + " " +
                            std::to_string(v2_ref) + " " + std::to_string(runs);
    std::fflush(stdout);
    status = std::system(cmd.c_str());
  }
  test::stop_process(gateway, SIGTERM, 30'000);
  fs::remove_all(work);
  return status == 0 ? 0 : 1;
}
