#include "deploy/provision/node_list.h"

#include <charconv>
#include <set>

#include "deploy/command_registry.h"
#include "protocol/topics.h"

namespace tinyedge::deploy {
namespace {

struct Numbered {
  std::string_view prefix;
  std::string_view digits;
};

// "cam-17" -> {"cam-", "17"}; no trailing digits -> empty digits.
Numbered split_number(std::string_view id) {
  size_t start = id.size();
  while (start > 0 && id[start - 1] >= '0' && id[start - 1] <= '9') --start;
  return {id.substr(0, start), id.substr(start)};
}

uint64_t to_number(std::string_view digits, std::string_view item) {
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size()) {
    throw CommandError("range '" + std::string(item) + "': '" + std::string(digits) + "' is not a number");
  }
  return value;
}

void expand_range(std::string_view item, size_t dots, std::vector<std::string>& out) {
  const std::string_view first = item.substr(0, dots), last = item.substr(dots + 2);
  const Numbered from = split_number(first);
  if (from.digits.empty()) {
    throw CommandError("range '" + std::string(item) + "': the first id must end in a number (e.g. cam-1..cam-50)");
  }
  const Numbered to = split_number(last);
  if (to.digits.empty() || (!to.prefix.empty() && to.prefix != from.prefix)) {
    throw CommandError("range '" + std::string(item) + "': the last id must be '" + std::string(from.prefix) +
                       "<number>' or a number");
  }
  const uint64_t a = to_number(from.digits, item), b = to_number(to.digits, item);
  if (b < a) throw CommandError("range '" + std::string(item) + "' is empty (it counts down)");
  if (b - a >= kMaxProvisionedNodes) {
    throw CommandError("range '" + std::string(item) + "' names more than " + std::to_string(kMaxProvisionedNodes) +
                       " nodes");
  }
  const size_t width = from.digits.size() > 1 && from.digits[0] == '0' ? from.digits.size() : 0;
  for (uint64_t n = a; n <= b; ++n) {
    std::string number = std::to_string(n);
    if (number.size() < width) number.insert(0, width - number.size(), '0');
    out.push_back(std::string(from.prefix) + number);
  }
}

}  // namespace

std::vector<std::string> expand_node_list(const std::vector<std::string>& items) {
  std::vector<std::string> ids;
  for (const std::string& item : items) {
    if (item.empty()) throw CommandError("empty node id in the list (two commas, or a trailing comma?)");
    const size_t dots = item.find("..");
    const size_t before = ids.size();
    if (dots == std::string::npos) {
      ids.push_back(item);
    } else {
      expand_range(item, dots, ids);
    }
    for (size_t i = before; i < ids.size(); ++i) {
      if (!protocol::is_valid_node_id(ids[i])) {
        throw CommandError("invalid node id '" + ids[i] + "'" + (ids[i] == item ? "" : " (from '" + item + "')") +
                           ": 1.." + std::to_string(protocol::kMaxNodeIdLength) + " of [A-Za-z0-9_-]");
      }
    }
    if (ids.size() > kMaxProvisionedNodes) {
      throw CommandError("the list names more than " + std::to_string(kMaxProvisionedNodes) + " nodes");
    }
  }
  if (ids.empty()) throw CommandError("no node ids given");
  std::set<std::string_view> seen;
  for (const std::string& id : ids) {
    if (!seen.insert(id).second) throw CommandError("node id '" + id + "' is listed twice");
  }
  return ids;
}

}  // namespace tinyedge::deploy
