// Query parameters: declared once per route (that declaration also feeds the OpenAPI document),
// validated before the handler runs, so every bad value is a 400 naming the parameter.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dashboard_api/api_types.h"

namespace tinyedge::dashboard {

enum class ParamType {
  kString,     // free text up to max_length
  kNodeId,     // protocol/topics.h node id rules
  kLabel,      // label name: printable, no control characters
  kInteger,    // signed 64-bit within [min, max]
  kNumber,     // double within [min, max]
  kTimestamp,  // unix milliseconds, or RFC 3339 "2026-11-25T10:00:00Z"
  kDuration,   // "90s", "15m", "1h", "7d"
  kEnum,       // one of `choices`
};

struct ParamSpec {
  std::string name{};
  ParamType type = ParamType::kString;
  std::string description{};
  bool required = false;
  double min = 0;
  double max = 0;  // when min == max == 0: no range check
  std::vector<std::string> choices{};
  size_t max_length = 128;
};

// Parsed, validated parameters of one request. Lookups by name; values already typed.
class Params {
 public:
  // Throws ApiError(400) naming the first parameter that is unknown, repeated, missing or bad.
  static Params validate(const std::vector<std::pair<std::string, std::string>>& query,
                         const std::vector<ParamSpec>& specs);

  bool has(std::string_view name) const;
  std::optional<std::string> str(std::string_view name) const;
  std::optional<int64_t> integer(std::string_view name) const;  // also timestamps (ms) and durations (ms)
  std::optional<double> number(std::string_view name) const;

 private:
  struct Value {
    std::string name;
    std::string text;
    int64_t i = 0;
    double d = 0;
  };
  const Value* find(std::string_view name) const;
  std::vector<Value> values_;
};

// Helpers shared with the JSON body validation of POST/PUT routes.
std::optional<int64_t> parse_timestamp_ms(std::string_view text);
std::optional<int64_t> parse_duration_ms(std::string_view text);
const char* to_string(ParamType t);

}  // namespace tinyedge::dashboard
