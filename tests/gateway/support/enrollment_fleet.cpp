#include "tests/gateway/support/enrollment_fleet.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "dashboard_api/auth.h"
#include "ota/package.h"
#include "tests/gateway/support/gateway_process.h"

namespace tinyedge::test {
namespace {

using namespace std::chrono_literals;

std::string text_of(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

EnrollmentFleet::EnrollmentFleet(std::string dir, std::string gateway_exe, std::string cli_exe)
    : dir_(std::move(dir)), cli_exe_(std::move(cli_exe)), broker_(dir_) {
  const train::testing::Run keys = cli("keys generate --out " + dir_ + "/fleet");
  if (keys.status != 0) throw std::runtime_error("tinyedge keys generate failed: " + keys.output);
  broker_.start();
  const uint16_t port = free_port();
  // The generated config has the API switched off; this one replaces it.
  std::string config = text_of(write_gateway_config(
      dir_, broker_.url(),
      "\"api\": {\"listen\": \"127.0.0.1\", \"port\": " + std::to_string(port) +
          ", \"tokens\": [{\"token\": \"sha256:" + dashboard::to_hex(dashboard::sha256(kOperatorToken)) +
          "\", \"role\": \"operator\"}]}"));
  const std::string off = "\"api\": {\"enabled\": false},";
  const auto at = config.find(off);
  if (at == std::string::npos) throw std::runtime_error("the generated gateway config changed shape: " + config);
  config.erase(at, off.size());
  const std::string config_path = dir_ + "/gateway.json";
  std::ofstream(config_path) << config;
  gateway_.emplace(std::vector<std::string>{gateway_exe, "--config", config_path, "--fleet-key", public_key()},
                   gateway_log_path());
  if (!wait_port(port, 15000)) throw std::runtime_error("dashboard port never opened: " + gateway_log());
  url_ = "http://127.0.0.1:" + std::to_string(port);
  api_.emplace(url_, kOperatorToken, 5s);
}

EnrollmentFleet::~EnrollmentFleet() = default;

std::string EnrollmentFleet::gateway_log_path() const { return dir_ + "/gateway.log"; }

std::string EnrollmentFleet::gateway_log() const { return text_of(gateway_log_path()); }

train::testing::Run EnrollmentFleet::cli(const std::string& args) const {
  return train::testing::run(cli_exe_ + " " + args);
}

std::string EnrollmentFleet::package(const std::string& tem, uint32_t version) const {
  std::string tep = tem;
  tep.replace(tep.rfind(".tem"), 4, ".tep");
  const train::testing::Run run =
      cli("package create --model " + tem + " --version " + std::to_string(version) + " --key " + key() + " -o " + tep);
  if (run.status != 0) throw std::runtime_error("tinyedge package create " + tem + " failed: " + run.output);
  return tep;
}

void EnrollmentFleet::register_model(const std::string& package_path) {
  const auto bytes = ota::read_file(package_path);
  const auto r =
      api_->request("POST", "/api/v1/models", std::string(bytes.begin(), bytes.end()), "application/octet-stream");
  if (r.status != 201)
    throw std::runtime_error("registering " + package_path + ": HTTP " + std::to_string(r.status) + " " + r.body);
}

std::vector<std::string> EnrollmentFleet::named_results(const std::string& node) {
  const auto r = api_->get("/api/v1/events?node=" + node + "&limit=200");
  if (r.status != 200) return {"HTTP " + std::to_string(r.status) + ": " + r.body};
  const nlohmann::json page = nlohmann::json::parse(r.body);
  std::vector<std::string> out;
  for (const auto& e : page["events"])
    out.push_back((e["label_name"].is_string() ? e["label_name"].get<std::string>()
                                               : "#" + std::to_string(e["label"].get<int>())) +
                  "@" + std::to_string(e["model_version"].get<int>()));
  return out;
}

bool EnrollmentFleet::wait_for_result(const std::string& node, const std::string& result, std::chrono::seconds limit) {
  for (const auto until = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < until;) {
    const auto results = named_results(node);
    if (std::find(results.begin(), results.end(), result) != results.end()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

bool EnrollmentFleet::stop_gateway() {
  gateway_->signal(SIGTERM);
  return gateway_->wait_for(20s);
}

}  // namespace tinyedge::test
