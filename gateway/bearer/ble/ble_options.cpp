#include "gateway/bearer/ble/ble_options.h"

#include <charconv>

namespace tinyedge::gateway::ble {
namespace {

template <typename T>
bool number(std::string_view text, T min, T max, T& out) {
  T value{};
  const auto r = std::from_chars(text.data(), text.data() + text.size(), value);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size() || value < min || value > max) return false;
  out = value;
  return true;
}

}  // namespace

std::optional<BleOptions> parse_ble_options(std::string_view text, std::string& error) {
  BleOptions options;
  options.text = std::string(text);
  if (text.rfind("ble:", 0) != 0) {
    error = "'" + options.text + "' is not a ble: endpoint";
    return std::nullopt;
  }
  std::string_view rest = text.substr(4);
  const size_t query = rest.find('?');
  options.adapter = std::string(rest.substr(0, query));
  // An adapter is an object path element: hci0, hci1...; nothing that could climb the path.
  if (options.adapter.empty() ||
      options.adapter.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos) {
    error = "'" + options.text + "' needs an adapter name like ble:hci0";
    return std::nullopt;
  }
  if (query == std::string_view::npos) return options;
  std::string_view params = rest.substr(query + 1);
  while (!params.empty()) {
    const size_t amp = params.find('&');
    const std::string_view pair = params.substr(0, amp);
    params = amp == std::string_view::npos ? std::string_view{} : params.substr(amp + 1);
    const size_t eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    bool ok = false;
    int64_t ms = 0;
    if (key == "max_connections") {
      ok = number<uint32_t>(value, 1, 64, options.max_connections);
    } else if (key == "rssi") {
      int16_t rssi = 0;
      ok = number<int16_t>(value, -127, 20, rssi);
      if (ok) options.rssi = rssi;
    } else if (key == "connect_timeout_ms") {
      ok = number<int64_t>(value, 100, 120000, ms);
      if (ok) options.connect_timeout = std::chrono::milliseconds(ms);
    } else if (key == "backoff_min_ms") {
      ok = number<int64_t>(value, 10, 600000, ms);
      if (ok) options.backoff_min = std::chrono::milliseconds(ms);
    } else if (key == "backoff_max_ms") {
      ok = number<int64_t>(value, 10, 3600000, ms);
      if (ok) options.backoff_max = std::chrono::milliseconds(ms);
    } else {
      error = "'" + options.text + "': unknown option '" + std::string(key) +
              "' (max_connections, rssi, connect_timeout_ms, backoff_min_ms, backoff_max_ms)";
      return std::nullopt;
    }
    if (!ok) {
      error = "'" + options.text + "': bad value '" + std::string(value) + "' for " + std::string(key);
      return std::nullopt;
    }
  }
  if (options.backoff_max < options.backoff_min) {
    error = "'" + options.text + "': backoff_max_ms is below backoff_min_ms";
    return std::nullopt;
  }
  return options;
}

}  // namespace tinyedge::gateway::ble
