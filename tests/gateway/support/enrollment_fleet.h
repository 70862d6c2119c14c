// What the fleet enrollment tests (#16: speech and camera nodes) set up alike: a scratch folder
// with the fleet's package key made by the real `tinyedge keys generate`, a real mosquitto, and the
// real tinyedge-gateway with its REST API on a free port (one operator token) that trusts that key;
// then the operator's CLI against it, model packages signed and registered, and a node's results
// as /api/v1/events names them. The nodes are the test's own: each test starts what it needs.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "deploy/fleet/api_client.h"
#include "tests/gateway/support/mosquitto.h"
#include "tests/node/process.h"
#include "tests/train/cli_run.h"

namespace tinyedge::test {

class EnrollmentFleet {
 public:
  // Starts the broker and the gateway in `dir` (which must exist); throws std::runtime_error
  // naming what failed, with the gateway's log.
  EnrollmentFleet(std::string dir, std::string gateway_exe, std::string cli_exe);
  ~EnrollmentFleet();

  const std::string& dir() const { return dir_; }
  std::string broker_url() const { return broker_.url(); }
  std::string key() const { return dir_ + "/fleet.key"; }
  std::string public_key() const { return dir_ + "/fleet.pub"; }
  std::string gateway_log() const;

  // The real `tinyedge` with `args`; fleet commands add operator() themselves.
  train::testing::Run cli(const std::string& args) const;
  // " --gateway URL --token TOKEN": the operator's options for fleet commands.
  std::string op() const { return " --gateway " + url_ + " --token " + kOperatorToken; }
  fleet::ApiClient& api() { return *api_; }

  // Signs `tem` as version `version` with the fleet key (`tinyedge package create`) into
  // `tem`'s name with .tep; returns its path. Throws with the CLI's output if it fails.
  std::string package(const std::string& tem, uint32_t version) const;
  // Registers a signed package (POST /api/v1/models), so the gateway names its trained labels.
  void register_model(const std::string& package_path);

  // `node`'s results, newest first, as "label_name@model_version" ("#index" when unnamed).
  std::vector<std::string> named_results(const std::string& node);
  // Polls named_results until `result` is among them or `limit` passes.
  bool wait_for_result(const std::string& node, const std::string& result, std::chrono::seconds limit);

  // SIGTERM to the gateway; true if it exited within 20 s.
  bool stop_gateway();

  static constexpr const char* kOperatorToken = "enrollment-fleet-operator";

 private:
  std::string gateway_log_path() const;

  std::string dir_, cli_exe_, url_;
  Mosquitto broker_;
  std::optional<testing::ChildProcess> gateway_;
  std::optional<fleet::ApiClient> api_;
};

}  // namespace tinyedge::test
