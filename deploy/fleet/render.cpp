#include "deploy/fleet/render.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace tinyedge::fleet {

std::optional<Format> format_from_string(const std::string& s) {
  if (s == "table") return Format::kTable;
  if (s == "csv") return Format::kCsv;
  if (s == "json") return Format::kJson;
  return std::nullopt;
}

std::string render_rows(const Row& header, const std::vector<Row>& rows, Format format) {
  std::string out;
  if (format == Format::kCsv) {
    auto field = [](const std::string& v) {
      if (v.find_first_of(",\"\n") == std::string::npos) return v;
      std::string q = "\"";
      for (char c : v) q += c == '"' ? std::string("\"\"") : std::string(1, c);
      return q + "\"";
    };
    for (const Row* r : {&header}) {
      for (size_t i = 0; i < r->size(); ++i) out += (i ? "," : "") + field((*r)[i]);
      out += "\n";
    }
    for (const auto& r : rows) {
      for (size_t i = 0; i < r.size(); ++i) out += (i ? "," : "") + field(r[i]);
      out += "\n";
    }
    return out;
  }
  std::vector<size_t> width(header.size());
  for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
  auto line = [&](const Row& r) {
    std::string s;
    for (size_t i = 0; i < r.size(); ++i) {
      s += r[i];
      if (i + 1 < r.size()) s += std::string(width[i] - r[i].size() + 2, ' ');
    }
    return s + "\n";
  };
  out += line(header);
  for (const auto& r : rows) out += line(r);
  return out;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string iso_time(int64_t ms) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

std::optional<std::string> time_argument(const std::string& text, int64_t now) {
  if (text.empty()) return std::nullopt;
  const char unit = text.back();
  const std::string digits = text.substr(0, text.size() - 1);
  if (!digits.empty() && digits.size() < 10 && std::all_of(digits.begin(), digits.end(), ::isdigit) &&
      (unit == 's' || unit == 'm' || unit == 'h' || unit == 'd')) {
    const int64_t n = std::stoll(digits);
    const int64_t scale = unit == 's' ? 1000 : unit == 'm' ? 60'000 : unit == 'h' ? 3'600'000 : 86'400'000;
    return std::to_string(std::max<int64_t>(0, now - n * scale));
  }
  if (std::all_of(text.begin(), text.end(), ::isdigit) && text.size() < 19) return text;
  // RFC 3339 is passed through for the server to validate (it names the parameter if bad).
  if (text.size() >= 20 && text[4] == '-' && text[10] == 'T') return text;
  return std::nullopt;
}

std::string label_text(uint32_t label, const std::string& name) {
  return name.empty() ? std::to_string(label) : name;
}

std::string probability_text(double p) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.2f", p);
  return buf;
}

std::string model_text(uint32_t model_id, uint32_t version, const std::string& name) {
  return (name.empty() ? std::to_string(model_id) : name) + " v" + std::to_string(version);
}

}  // namespace tinyedge::fleet
