// Output of the fleet commands: aligned tables for people, CSV and JSON for scripts.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tinyedge::fleet {

enum class Format { kTable, kCsv, kJson };
std::optional<Format> format_from_string(const std::string& s);

using Row = std::vector<std::string>;
// Renders rows under a header in the chosen text format (kJson is handled by callers).
std::string render_rows(const Row& header, const std::vector<Row>& rows, Format format);

// "15m" / "2h" / "7d" (ago, relative to now_ms), unix ms, or RFC 3339: returned as the API's
// `since`/`until` value. nullopt when malformed.
std::optional<std::string> time_argument(const std::string& text, int64_t now_ms);
int64_t now_ms();
std::string iso_time(int64_t ms);

}  // namespace tinyedge::fleet
