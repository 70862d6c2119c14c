#include "tests/soak/sent_ledger.h"

#include <charconv>
#include <fstream>
#include <set>
#include <stdexcept>

namespace tinyedge::soak {
namespace {

// Seqs are bounded per boot by what a node can make in a test run; a huge one is a corrupt line.
constexpr uint32_t kMaxSeq = 10'000'000;

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

uint32_t number(std::string_view text, const std::string& where, const char* what) {
  uint32_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw std::runtime_error(where + ": " + what + " '" + std::string(text) + "' is not a number");
  }
  return value;
}

}  // namespace

uint32_t BootLedger::distinct_sent() const {
  uint32_t n = 0;
  for (uint32_t times : times_sent) n += times > 0 ? 1 : 0;
  return n;
}

void SentLedger::add_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read sent log " + path);
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty()) add_line(line, path + ":" + std::to_string(number));
  }
}

void SentLedger::add_line(std::string_view line, const std::string& where) {
  const auto w = words(line);
  if (w.size() != 5 || (w[0] != "sent" && w[0] != "final")) {
    throw std::runtime_error(where + ": not a sent/final line: '" + std::string(line) + "'");
  }
  // Everything is checked before the ledger changes.
  const uint32_t boot_id = number(w[2], where, "boot id");
  const uint32_t a = number(w[3], where, w[0] == "sent" ? "first seq" : "produced");
  const uint32_t b = number(w[4], where, w[0] == "sent" ? "last seq" : "unacked");
  if (w[0] == "sent" && (a == 0 || b < a || b > kMaxSeq)) {
    throw std::runtime_error(where + ": bad seq range " + std::to_string(a) + ".." + std::to_string(b));
  }
  BootLedger& boot = boots_[BootKey{std::string(w[1]), boot_id}];
  if (w[0] == "final") {
    boot.produced = a;
    boot.unacked = b;
    return;
  }
  if (boot.times_sent.size() <= b) boot.times_sent.resize(b + 1, 0);
  for (uint32_t seq = a; seq <= b; ++seq) ++boot.times_sent[seq];
  boot.results_sent += b - a + 1;
}

size_t SentLedger::node_count() const {
  std::set<std::string> nodes;
  for (const auto& [key, boot] : boots_) nodes.insert(key.node);
  return nodes.size();
}

}  // namespace tinyedge::soak
