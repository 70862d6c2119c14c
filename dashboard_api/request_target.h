// Splits a request target ("/api/v1/events?node=a&limit=10") into a decoded path and query pairs.
// Refuses what no legitimate client sends: bad percent escapes, NUL or control bytes, dot segments.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tinyedge::dashboard {

struct RequestTarget {
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;
};

// Returns the target, or nullopt with `why` set.
std::optional<RequestTarget> parse_request_target(std::string_view target, std::string& why);
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space);
std::string percent_encode(std::string_view s);

}  // namespace tinyedge::dashboard
