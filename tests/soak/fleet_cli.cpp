#include "tests/soak/fleet_cli.h"

#include <chrono>
#include <fstream>
#include <iterator>
#include <sstream>

#include "tests/node/process.h"

namespace tinyedge::soak {

CliResult run_command(const std::vector<std::string>& argv, const std::string& log_path, int timeout_ms) {
  { std::ofstream truncate(log_path); }
  CliResult result;
  {
    testing::ChildProcess child(argv, log_path);
    if (child.wait_for(std::chrono::milliseconds(timeout_ms))) result.exit_code = child.exit_code();
  }  // killed here if it overran
  std::ifstream in(log_path);
  result.output.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return result;
}

std::optional<int64_t> parse_started_id(const std::string& output) {
  std::istringstream in(output);
  std::string word, started;
  int64_t id = 0;
  if (in >> word >> id >> started && word == "rollout" && started == "started:") return id;
  return std::nullopt;
}

uint32_t RolloutStatus::count(const std::string& state_name) const {
  const auto it = counts.find(state_name);
  return it == counts.end() ? 0 : it->second;
}

std::optional<RolloutStatus> parse_rollout_status(const std::string& output) {
  std::istringstream in(output);
  std::string line;
  RolloutStatus status;
  bool have_head = false, have_counts = false;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string first;
    words >> first;
    if (first == "rollout" && !have_head) {
      std::string id;
      have_head = static_cast<bool>(words >> id >> status.state);
    } else if (first == "phase:") {
      status.phase = line.substr(line.find(':') + 2);
    } else if (first == "nodes:") {
      std::string name;
      uint32_t n = 0;
      while (words >> name >> n) status.counts[name] = n;
      have_counts = true;
    }
  }
  if (!have_head || !have_counts) return std::nullopt;
  return status;
}

size_t csv_rows(const std::string& output) {
  std::istringstream in(output);
  std::string line;
  size_t rows = 0;
  bool header = true;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (header) {
      header = false;
      continue;
    }
    ++rows;
  }
  return rows;
}

}  // namespace tinyedge::soak
