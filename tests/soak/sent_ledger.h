// What the fleet says it sent: the `tinyedge-node --sent-log` files read back, per node boot.
//   sent <node> <boot> <first_seq> <last_seq>   (an InferenceResults uplink handed to MQTT; resends repeat it)
//   final <node> <boot> <produced> <unacked>    (at exit or reboot)
#pragma once
#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tinyedge::soak {

struct BootKey {
  std::string node;
  uint32_t boot = 0;
  auto operator<=>(const BootKey&) const = default;
};

struct BootLedger {
  std::vector<uint32_t> times_sent;  // index = seq; how often that seq went out (0 = never)
  uint64_t results_sent = 0;         // every copy, resends included
  std::optional<uint32_t> produced;  // from the final line: seqs 1..produced were made this boot
  std::optional<uint32_t> unacked;   // from the final line
  uint32_t distinct_sent() const;
};

class SentLedger {
 public:
  // Reads every line of one --sent-log file; throws std::runtime_error naming file and line
  // for anything that is not a well-formed sent/final line.
  void add_file(const std::string& path);
  // One line (without its newline); `where` names it in errors.
  void add_line(std::string_view line, const std::string& where);

  const std::map<BootKey, BootLedger>& boots() const { return boots_; }
  size_t node_count() const;

 private:
  std::map<BootKey, BootLedger> boots_;
};

}  // namespace tinyedge::soak
