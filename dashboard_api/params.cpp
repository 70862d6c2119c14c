#include "dashboard_api/params.h"

#include <charconv>
#include <cmath>

#include "protocol/topics.h"

namespace tinyedge::dashboard {
namespace {

bool parse_int(std::string_view s, int64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's civil algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool printable_label(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

[[noreturn]] void bad(const std::string& name, const std::string& why) {
  throw ApiError(400, "invalid_parameter", "parameter '" + name + "': " + why);
}

}  // namespace

const char* to_string(ParamType t) {
  switch (t) {
    case ParamType::kString: return "string";
    case ParamType::kNodeId: return "node id";
    case ParamType::kLabel: return "label";
    case ParamType::kInteger: return "integer";
    case ParamType::kNumber: return "number";
    case ParamType::kTimestamp: return "timestamp";
    case ParamType::kDuration: return "duration";
    case ParamType::kEnum: return "enum";
  }
  return "?";
}

std::optional<int64_t> parse_timestamp_ms(std::string_view s) {
  int64_t ms = 0;
  if (parse_int(s, ms)) return ms >= 0 ? std::optional<int64_t>(ms) : std::nullopt;
  // RFC 3339: 2026-11-25T10:00:00[.123](Z|+01:00)
  int y, mo, d, h, mi, sec;
  if (!digits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2, h) ||
      s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, sec))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  size_t pos = 19;
  int64_t frac_ms = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int64_t scale = 100;
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      frac_ms += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int64_t offset_min = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !digits(s, pos + 4, 2, om))
      return std::nullopt;
    offset_min = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset_min * 60;
  if (secs < 0) return std::nullopt;
  return secs * 1000 + frac_ms;
}

std::optional<int64_t> parse_duration_ms(std::string_view s) {
  if (s.size() < 2) return std::nullopt;
  int64_t n = 0;
  if (!parse_int(s.substr(0, s.size() - 1), n) || n <= 0) return std::nullopt;
  int64_t unit = 0;
  switch (s.back()) {
    case 's': unit = 1000; break;
    case 'm': unit = 60'000; break;
    case 'h': unit = 3'600'000; break;
    case 'd': unit = 86'400'000; break;
    default: return std::nullopt;
  }
  if (n > (int64_t{366} * 86'400'000) / unit) return std::nullopt;  // more than a year: refuse
  return n * unit;
}

Params Params::validate(const std::vector<std::pair<std::string, std::string>>& query,
                        const std::vector<ParamSpec>& specs) {
  Params out;
  for (const auto& [name, text] : query) {
    const ParamSpec* spec = nullptr;
    for (const auto& s : specs)
      if (s.name == name) spec = &s;
    if (!spec) {
      std::string safe = name.size() > 40 ? name.substr(0, 40) + "..." : name;
      for (auto& c : safe)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
      bad(safe, "unknown parameter for this route");
    }
    if (out.find(name)) bad(name, "given more than once");
    Value v{name, text, 0, 0};
    if (text.size() > spec->max_length) bad(name, "longer than " + std::to_string(spec->max_length) + " characters");
    const bool ranged = !(spec->min == 0 && spec->max == 0);
    switch (spec->type) {
      case ParamType::kString:
        if (!printable_label(text)) bad(name, "contains control characters");
        break;
      case ParamType::kNodeId:
        if (!protocol::is_valid_node_id(text)) bad(name, "not a valid node id");
        break;
      case ParamType::kLabel:
        if (text.empty() || !printable_label(text)) bad(name, "must be a non-empty printable label");
        break;
      case ParamType::kInteger:
        if (!parse_int(text, v.i)) bad(name, "must be an integer");
        if (ranged && (v.i < spec->min || v.i > spec->max))
          bad(name, "must be between " + std::to_string(static_cast<int64_t>(spec->min)) + " and " +
                        std::to_string(static_cast<int64_t>(spec->max)));
        v.d = static_cast<double>(v.i);
        break;
      case ParamType::kNumber: {
        auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v.d);
        if (text.empty() || ec != std::errc() || p != text.data() + text.size() || !std::isfinite(v.d))
          bad(name, "must be a number");
        if (ranged && (v.d < spec->min || v.d > spec->max))
          bad(name, "must be between " + std::to_string(spec->min) + " and " + std::to_string(spec->max));
        break;
      }
      case ParamType::kTimestamp: {
        auto t = parse_timestamp_ms(text);
        if (!t) bad(name, "must be unix milliseconds or an RFC 3339 time like 2026-11-25T10:00:00Z");
        v.i = *t;
        break;
      }
      case ParamType::kDuration: {
        auto t = parse_duration_ms(text);
        if (!t) bad(name, "must be a duration like 90s, 15m, 1h or 7d (at most a year)");
        v.i = *t;
        break;
      }
      case ParamType::kEnum: {
        bool ok = false;
        std::string list;
        for (const auto& c : spec->choices) {
          ok = ok || c == text;
          list += (list.empty() ? "" : ", ") + c;
        }
        if (!ok) bad(name, "must be one of " + list);
        break;
      }
    }
    out.values_.push_back(std::move(v));
  }
  for (const auto& s : specs)
    if (s.required && !out.find(s.name)) bad(s.name, "required");
  return out;
}

const Params::Value* Params::find(std::string_view name) const {
  for (const auto& v : values_)
    if (v.name == name) return &v;
  return nullptr;
}

bool Params::has(std::string_view name) const { return find(name) != nullptr; }

std::optional<std::string> Params::str(std::string_view name) const {
  const Value* v = find(name);
  return v ? std::optional<std::string>(v->text) : std::nullopt;
}

std::optional<int64_t> Params::integer(std::string_view name) const {
  const Value* v = find(name);
  return v ? std::optional<int64_t>(v->i) : std::nullopt;
}

std::optional<double> Params::number(std::string_view name) const {
  const Value* v = find(name);
  return v ? std::optional<double>(v->d) : std::nullopt;
}

}  // namespace tinyedge::dashboard
