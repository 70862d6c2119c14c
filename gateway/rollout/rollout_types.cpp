#include "gateway/rollout/rollout_types.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace tinyedge::rollout {
namespace {

constexpr std::array<std::string_view, 9> kNodeStateNames{"pending", "offered", "downloading", "verifying", "activated",
                                                          "refused", "failed",  "timed_out",   "cancelled"};
constexpr std::array<std::string_view, 6> kRolloutStateNames{"running", "paused",       "completed",
                                                             "aborted", "rolling_back", "rolled_back"};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

double parse_number(std::string_view text, std::string_view what) {
  double value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(value)) {
    throw std::invalid_argument(std::string(what) + ": '" + std::string(text) + "' is not a number");
  }
  return value;
}

}  // namespace

std::string_view to_string(NodeState state) { return kNodeStateNames.at(static_cast<size_t>(state)); }

std::optional<NodeState> node_state_from_string(std::string_view text) {
  for (size_t i = 0; i < kNodeStateNames.size(); ++i) {
    if (kNodeStateNames[i] == text) return static_cast<NodeState>(i);
  }
  return std::nullopt;
}

bool is_terminal(NodeState state) {
  return state == NodeState::kActivated || state == NodeState::kCancelled || is_failure(state);
}
bool is_in_flight(NodeState state) {
  return state == NodeState::kOffered || state == NodeState::kDownloading || state == NodeState::kVerifying;
}
bool is_failure(NodeState state) {
  return state == NodeState::kRefused || state == NodeState::kFailed || state == NodeState::kTimedOut;
}

std::string_view to_string(RolloutState state) { return kRolloutStateNames.at(static_cast<size_t>(state)); }

std::optional<RolloutState> rollout_state_from_string(std::string_view text) {
  for (size_t i = 0; i < kRolloutStateNames.size(); ++i) {
    if (kRolloutStateNames[i] == text) return static_cast<RolloutState>(i);
  }
  return std::nullopt;
}

std::string CountOrPercent::to_string() const {
  char buf[32];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, value);
  (void)ec;
  return std::string(buf, ptr) + (percent ? "%" : "");
}

CountOrPercent parse_count_or_percent(std::string_view text, std::string_view what) {
  text = trim(text);
  CountOrPercent result;
  if (!text.empty() && text.back() == '%') {
    result.percent = true;
    text.remove_suffix(1);
  }
  result.value = parse_number(text, what);
  if (result.value < 0) throw std::invalid_argument(std::string(what) + " must not be negative");
  if (result.percent && result.value > 100) throw std::invalid_argument(std::string(what) + " is over 100%");
  if (!result.percent && result.value != std::floor(result.value)) {
    throw std::invalid_argument(std::string(what) + ": a node count must be a whole number (or add %)");
  }
  return result;
}

std::vector<double> parse_waves(std::string_view text) {
  std::vector<double> waves;
  text = trim(text);
  if (text.empty()) throw std::invalid_argument("waves: empty list (e.g. 25,50,100)");
  while (true) {
    size_t comma = text.find(',');
    std::string_view item = trim(text.substr(0, comma));
    if (!item.empty() && item.back() == '%') item.remove_suffix(1);
    double p = parse_number(item, "waves");
    if (p <= 0 || p > 100) throw std::invalid_argument("waves: " + std::string(item) + " is not in (0, 100]");
    if (!waves.empty() && p <= waves.back()) {
      throw std::invalid_argument("waves: percentages are cumulative and must increase (" + std::string(item) +
                                  " after " + CountOrPercent{waves.back(), true}.to_string() + ")");
    }
    waves.push_back(p);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  if (waves.back() != 100) throw std::invalid_argument("waves: the last wave must be 100 (the whole target)");
  return waves;
}

int64_t parse_duration_ms(std::string_view text, std::string_view what) {
  text = trim(text);
  size_t unit_at = text.find_first_not_of("0123456789.");
  std::string_view number = text.substr(0, unit_at);
  std::string_view unit = unit_at == std::string_view::npos ? std::string_view{} : text.substr(unit_at);
  double value = parse_number(number, what);
  double scale = 0;
  if (unit == "ms") scale = 1;
  else if (unit == "s" || unit.empty()) scale = 1000;
  else if (unit == "m" || unit == "min") scale = 60'000;
  else if (unit == "h") scale = 3'600'000;
  else if (unit == "d") scale = 86'400'000;
  else throw std::invalid_argument(std::string(what) + ": unknown unit '" + std::string(unit) + "' (ms, s, m, h, d)");
  double ms = value * scale;
  if (ms < 0 || ms > 365.0 * 86'400'000) throw std::invalid_argument(std::string(what) + ": out of range");
  return static_cast<int64_t>(std::llround(ms));
}

std::string format_duration_ms(int64_t ms) {
  if (ms % 3'600'000 == 0 && ms > 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0 && ms > 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

void validate(const Strategy& s) {
  if (s.waves.empty() || s.waves.back() != 100) throw std::invalid_argument("waves: the last wave must be 100");
  for (size_t i = 0; i < s.waves.size(); ++i) {
    if (s.waves[i] <= 0 || s.waves[i] > 100 || (i > 0 && s.waves[i] <= s.waves[i - 1])) {
      throw std::invalid_argument("waves: cumulative percentages in (0, 100], increasing");
    }
  }
  if (s.canary.value < 0 || (s.canary.percent && s.canary.value > 100)) throw std::invalid_argument("canary out of range");
  if (s.max_failures.value < 0 || (s.max_failures.percent && s.max_failures.value > 100)) {
    throw std::invalid_argument("max-failures out of range");
  }
  if (s.max_concurrent == 0) throw std::invalid_argument("max-concurrent must be at least 1");
  if (s.soak_ms < 0) throw std::invalid_argument("soak must not be negative");
  if (s.node_timeout_ms <= 0) throw std::invalid_argument("node-timeout must be positive");
  if (s.deadline_ms <= 0) throw std::invalid_argument("deadline must be positive");
  const GateBounds& g = s.gate;
  if (g.max_label_jsd > 1) throw std::invalid_argument("gate: max label JSD is at most 1 (bits)");
  if (g.max_mean_score_drop > 1) throw std::invalid_argument("gate: max mean score drop is at most 1");
}

std::vector<uint32_t> plan_phase_ends(const Strategy& s, uint32_t n) {
  std::vector<uint32_t> ends;
  uint32_t canary = 0;
  if (s.canary.percent) {
    canary = s.canary.value > 0 ? static_cast<uint32_t>(std::ceil(n * s.canary.value / 100.0 - 1e-9)) : 0;
  } else {
    canary = static_cast<uint32_t>(s.canary.value);
  }
  canary = std::min(canary, n);
  if (canary > 0) ends.push_back(canary);
  uint32_t previous = canary;
  for (double wave : s.waves) {
    uint32_t end = wave >= 100 ? n : static_cast<uint32_t>(std::ceil(n * wave / 100.0 - 1e-9));
    end = std::clamp(end, previous, n);
    if (end > previous) ends.push_back(end);
    previous = end;
  }
  if (ends.empty()) ends.push_back(n);  // empty target: one empty phase, so the rollout completes
  return ends;
}

}  // namespace tinyedge::rollout
