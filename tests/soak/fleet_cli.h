// The `tinyedge` CLI as the soak test drives it: run a command, keep what it printed, and read
// `rollout start` / `rollout status` / `nodes` output the way an operator would.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tinyedge::soak {

struct CliResult {
  int exit_code = -1;  // -1: still running at the time limit (then killed)
  std::string output;  // stdout and stderr
  bool ok() const { return exit_code == 0; }
};

// Runs `argv` (argv[0] = the executable) to completion, output captured through `log_path`.
CliResult run_command(const std::vector<std::string>& argv, const std::string& log_path, int timeout_ms = 60000);

// "rollout 3 started: ..." -> 3.
std::optional<int64_t> parse_started_id(const std::string& output);

// What `tinyedge rollout status ID` shows: the state word, the current phase and per-state counts.
struct RolloutStatus {
  std::string state;  // running, paused, completed, ...
  std::string phase;  // "canary", "wave 1 (soaking)", ...
  std::map<std::string, uint32_t> counts;
  uint32_t count(const std::string& state_name) const;
  uint32_t in_flight() const { return count("offered") + count("downloading") + count("verifying"); }
};
std::optional<RolloutStatus> parse_rollout_status(const std::string& output);

// Data rows of `tinyedge nodes --format csv` (the header excluded).
size_t csv_rows(const std::string& output);

}  // namespace tinyedge::soak
