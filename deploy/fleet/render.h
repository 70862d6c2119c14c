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

// A label as people read it: its name from the model, or its index when the model names none.
std::string label_text(uint32_t label, const std::string& name);
// A probability (0..1) to two decimals, "0.87".
std::string probability_text(double p);
// "kws v3" when the model has a name, else "7 v3" (model id).
std::string model_text(uint32_t model_id, uint32_t version, const std::string& name);
std::string iso_time(int64_t ms);

}  // namespace tinyedge::fleet
