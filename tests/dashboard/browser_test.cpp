// The web dashboard in a real browser: Debian's chromium, headless, driven by playwright-core,
// against the real tinyedge-gateway executable with a real mosquitto and nodes publishing over
// MQTT (test publishers speaking the node protocol). Checks that the page loads, the fleet table
// lists the nodes, and filtering the inference log by node shows only that node's events; the
// screenshot is kept as a test artifact (dashboard_browser.png in the build's test folder).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "dashboard_api/auth.h"
#include "tests/gateway/support/gateway_process.h"
#include "tests/gateway/support/mosquitto.h"
#include "tests/gateway/support/sim_node.h"

namespace tinyedge::dashboard {
namespace {

using namespace std::chrono_literals;

bool ci() {
  const char* v = std::getenv("CI");
  return v && std::string(v) == "true";
}

TEST(DashboardBrowser, FleetTableAndNodeFilterInChromium) {
  const std::string chromium = "/usr/bin/chromium";
  const std::string modules = TINYEDGE_NPM_DIR "/node_modules/playwright-core";
  for (const auto& [path, what] : {std::pair{chromium, "Debian's chromium (scripts/setup installs it)"},
                                   std::pair{modules, "playwright-core (the dashboard_npm build step installs it)"}}) {
    if (!std::filesystem::exists(path)) {
      if (ci()) FAIL() << what << " is missing at " << path;
      GTEST_SKIP() << what << " is missing at " << path;
    }
  }
  if (std::system("command -v node >/dev/null 2>&1") != 0) {
    if (ci()) FAIL() << "node is not installed";
    GTEST_SKIP() << "node is not installed";
  }

  const std::string dir = test::make_temp_dir("dash-browser");
  test::Mosquitto broker(dir);
  broker.start();

  const std::string token = "browser-test-viewer-token";
  const uint16_t api_port = test::free_port();
  const std::string config = dir + "/gateway.json";
  {
    std::ofstream out(config);
    out << "{\n  \"data_dir\": \"" << dir << "/data\",\n"
        << "  \"mqtt\": {\"url\": \"" << broker.url() << "\", \"client_id\": \"dash-browser-gw\"},\n"
        << "  \"api\": {\"listen\": \"127.0.0.1\", \"port\": " << api_port << ", \"tokens\": [{\"token\": \"sha256:"
        << to_hex(sha256(token)) << "\", \"role\": \"viewer\"}]}\n}\n";
  }
  test::GatewayProcess gateway(TINYEDGE_GATEWAY_EXE, config, dir + "/gateway.log");
  ASSERT_NO_THROW(gateway.start());
  ASSERT_TRUE(test::wait_port(api_port, 10000)) << "dashboard port never opened; see " << dir << "/gateway.log";

  std::vector<std::unique_ptr<test::SimNode>> nodes;
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    ids.push_back("cam-" + std::to_string(i));
    nodes.push_back(std::make_unique<test::SimNode>(broker.url(), ids.back(), 1, 8));
    nodes.back()->connect();
    nodes.back()->produce(40);
  }
  for (int i = 0; i < 200 && !std::all_of(nodes.begin(), nodes.end(), [](auto& n) { return n->all_acked(); }); ++i)
    std::this_thread::sleep_for(50ms);
  for (auto& n : nodes) ASSERT_TRUE(n->all_acked()) << n->node_id() << " results were not stored";

  const std::string shot = std::string(TINYEDGE_ARTIFACT_DIR) + "/dashboard_browser.png";
  std::filesystem::remove(shot);
  // ES modules resolve packages from the script's own folder: run it beside node_modules.
  std::filesystem::copy_file(TINYEDGE_SOURCE_DIR "/browser_check.mjs", TINYEDGE_NPM_DIR "/browser_check.mjs",
                             std::filesystem::copy_options::overwrite_existing);
  std::string cmd = "cd '" TINYEDGE_NPM_DIR "' && node browser_check.mjs 'http://127.0.0.1:" +
                    std::to_string(api_port) + "/' '" + token + "' '" + shot + "' cam-3";
  for (const auto& id : ids) cmd += " " + id;
  cmd += " > '" + dir + "/browser.log' 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream log(dir + "/browser.log");
  const std::string output((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << output;
  std::printf("%s", output.c_str());
  EXPECT_TRUE(std::filesystem::exists(shot) && std::filesystem::file_size(shot) > 10'000) << "no screenshot at " << shot;
  EXPECT_EQ(gateway.terminate(), 0);
}

}  // namespace
}  // namespace tinyedge::dashboard
