// Structured one-line logs: `2026-01-02T03:04:05.678Z level=warn component=ingest msg="..." k=v`.
// Thread-safe. The sink is replaceable so tests can read what was logged.
#pragma once
#include <functional>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace tinyedge::gateway {

enum class LogLevel { kDebug, kInfo, kWarn, kError };
const char* to_string(LogLevel level);
bool parse_log_level(std::string_view text, LogLevel& out);

struct LogField {
  std::string_view key;
  std::string value;
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(v ? v : "") {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v) {}
  template <typename T>
    requires std::is_arithmetic_v<T>
  LogField(std::string_view k, T v) : key(k), value(std::to_string(v)) {}
};

class Logger {
 public:
  using Sink = std::function<void(LogLevel, const std::string& line)>;
  Logger();  // writes to stderr at info and above

  void set_level(LogLevel level) { level_ = level; }
  LogLevel level() const { return level_; }
  void set_sink(Sink sink);
  bool enabled(LogLevel level) const { return level >= level_; }

  void log(LogLevel level, std::string_view component, std::string_view message,
           std::initializer_list<LogField> fields = {});
  void debug(std::string_view c, std::string_view m, std::initializer_list<LogField> f = {}) { log(LogLevel::kDebug, c, m, f); }
  void info(std::string_view c, std::string_view m, std::initializer_list<LogField> f = {}) { log(LogLevel::kInfo, c, m, f); }
  void warn(std::string_view c, std::string_view m, std::initializer_list<LogField> f = {}) { log(LogLevel::kWarn, c, m, f); }
  void error(std::string_view c, std::string_view m, std::initializer_list<LogField> f = {}) { log(LogLevel::kError, c, m, f); }

 private:
  LogLevel level_ = LogLevel::kInfo;
  std::mutex mutex_;
  Sink sink_;
};

}  // namespace tinyedge::gateway
