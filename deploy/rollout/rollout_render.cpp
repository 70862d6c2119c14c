#include "deploy/rollout/rollout_render.h"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace tinyedge::deploy {
namespace {

using json = nlohmann::json;

constexpr const char* kStates[] = {"pending", "offered", "downloading", "verifying", "activated",
                                   "refused", "failed",  "timed_out",   "cancelled"};

uint32_t count(const json& counts, const char* state) { return counts.value(state, 0u); }

std::string strategy_line(const json& s) {
  std::ostringstream out;
  out << "canary " << s.value("canary", "?") << ", waves ";
  bool first = true;
  for (const auto& w : s.value("waves", json::array())) {
    out << (first ? "" : ",") << w.get<double>();
    first = false;
  }
  out << "%, max failures " << s.value("max_failures", "?");
  int64_t soak = s.value("soak_ms", int64_t{0});
  if (soak) out << ", soak " << soak / 1000.0 << "s";
  out << ", max concurrent " << s.value("max_concurrent", 0u);
  const json gate = s.value("gate", json::object());
  out << ", quality gate " << (gate.value("enabled", false) ? "on" : "off");
  return out.str();
}

}  // namespace

std::string progress_bar(uint32_t activated, uint32_t failed, uint32_t in_flight, uint32_t size, int width) {
  std::string bar(static_cast<size_t>(width), '.');
  if (size == 0) return "[" + bar + "]";
  auto cells = [&](uint32_t n) { return static_cast<int>(std::lround(static_cast<double>(n) * width / size)); };
  int a = std::min(cells(activated), width);
  int f = std::min(cells(failed), width - a);
  int i = std::min(cells(in_flight), width - a - f);
  // A phase with any failure shows at least one 'x', so it cannot hide in the rounding.
  if (failed > 0 && f == 0 && a > 0) --a, f = 1;
  std::fill_n(bar.begin(), a, '#');
  std::fill_n(bar.begin() + a, f, 'x');
  std::fill_n(bar.begin() + a + f, i, '~');
  return "[" + bar + "]";
}

std::string render_rollout(const json& r, int width) {
  std::ostringstream out;
  out << "rollout " << r.value("id", 0) << "  " << r.value("state", "?") << "  model " << r.value("model_id", 0u)
      << " v" << r.value("version", 0u);
  if (r.value("previous_version", 0u)) out << " (previous v" << r.value("previous_version", 0u) << ")";
  out << "  target " << r.value("target", "?") << " (" << r.value("target_size", 0u) << " nodes)\n";
  out << "strategy: " << strategy_line(r.value("strategy", json::object())) << "\n";
  out << "phase: " << r.value("phase", "?");
  if (r.value("soak_until_ms", int64_t{0})) out << " (soaking)";
  out << "\n";
  std::string reason = r.value("reason", "");
  if (!reason.empty()) out << "why: " << reason << "\n";
  std::string gate = r.value("gate", "");
  if (!gate.empty()) out << "gate: " << gate << "\n";
  for (const auto& p : r.value("phases", json::array())) {
    const json counts = p.value("counts", json::object());
    uint32_t size = p.value("size", 0u);
    uint32_t activated = count(counts, "activated");
    uint32_t failed = count(counts, "refused") + count(counts, "failed") + count(counts, "timed_out");
    uint32_t flying = count(counts, "offered") + count(counts, "downloading") + count(counts, "verifying");
    char head[64];
    std::snprintf(head, sizeof head, "  %-8s%s ", p.value("name", "?").c_str(), p.value("current", false) ? "*" : " ");
    out << head << progress_bar(activated, failed, flying, size, width) << " " << activated + failed << "/" << size;
    uint64_t total = p.value("total_bytes", uint64_t{0});
    if (flying && total) {
      out << "  " << static_cast<int>(100.0 * static_cast<double>(p.value("bytes_written", uint64_t{0})) / total)
          << "% of bytes";
    }
    for (const char* state : kStates) {
      uint32_t n = count(counts, state);
      if (n) out << "  " << state << " " << n;
    }
    out << "\n";
  }
  out << "nodes:";
  const json counts = r.value("counts", json::object());
  for (const char* state : kStates) out << " " << state << " " << count(counts, state);
  out << "\n";
  if (r.contains("nodes")) {
    for (const auto& n : r["nodes"]) {
      std::string state = n.value("state", "?");
      if (state == "pending" || state == "activated") continue;
      out << "  " << n.value("node_id", "?") << " " << state;
      if (state == "downloading") {
        out << " " << n.value("bytes_written", 0u) << "/" << n.value("total_bytes", 0u) << " B";
      }
      std::string why = n.value("reason", "");
      if (!why.empty()) out << " (" << why << ")";
      if (n.value("rollback", false)) out << " [rollback]";
      out << "\n";
    }
  }
  return out.str();
}

std::string render_rollout_list(const json& rollouts) {
  std::ostringstream out;
  char line[256];
  std::snprintf(line, sizeof line, "%-4s %-12s %-10s %-22s %-10s %s\n", "ID", "STATE", "MODEL", "TARGET", "PHASE",
                "ACTIVATED/FAILED/TOTAL");
  out << line;
  for (const auto& r : rollouts) {
    const json c = r.value("counts", json::object());
    uint32_t failed = count(c, "refused") + count(c, "failed") + count(c, "timed_out");
    std::string model = std::to_string(r.value("model_id", 0u)) + " v" + std::to_string(r.value("version", 0u));
    std::snprintf(line, sizeof line, "%-4lld %-12s %-10s %-22s %-10s %u/%u/%u\n",
                  static_cast<long long>(r.value("id", int64_t{0})), r.value("state", "?").c_str(), model.c_str(),
                  r.value("target", "?").c_str(), r.value("phase", "?").c_str(), count(c, "activated"), failed,
                  r.value("target_size", 0u));
    out << line;
  }
  return out.str();
}

}  // namespace tinyedge::deploy
