#include "gateway/store/sqlite/store_check.h"

#include <algorithm>
#include <string>
#include <vector>

namespace tinyedge::gateway {

namespace {

// Tables that grow with time; everything else is bounded by the fleet (nodes, groups, rollouts).
constexpr const char* kLogTables[] = {"events", "telemetry", "ota_status"};
constexpr const char* kRequiredTables[] = {"nodes", "node_groups", "events", "telemetry", "ota_status", "acks"};
// Newest rows read back per log table: a few leaf pages, the ones the last commits wrote.
constexpr int kTailRows = 2048;

bool is_log_table(const std::string& name) {
  for (const char* t : kLogTables) {
    if (name == t) return true;
  }
  return false;
}

// Grow with the time retention keeps (up to labels x 8 score bins and models x latency buckets
// rows a minute), not with the fleet: left to the full check, like the logs they are counted from.
bool is_rollup_table(const std::string& name) {
  return name == "label_minutes" || name == "label_half_hours" || name == "latency_minutes";
}

[[noreturn]] void corrupt(const std::string& path, const std::string& where, const std::string& finding,
                          int code = SQLITE_CORRUPT) {
  throw sql::Error(code, "database " + path + " is damaged (" + where + "): " + finding +
                             "; restore it from a backup or move it aside to start empty");
}

// The rows of an integrity_check pragma other than "ok": empty means clean.
std::vector<std::string> integrity_findings(sql::Database& db, const std::string& pragma) {
  std::vector<std::string> findings;
  auto check = db.prepare(pragma);
  while (check.step()) {
    const std::string row = check.text(0);
    if (row != "ok") findings.push_back(row);
  }
  return findings;
}

std::string join_first(const std::vector<std::string>& findings, size_t n) {
  std::string text;
  for (size_t i = 0; i < findings.size() && i < n; ++i) text += (i ? "; " : "") + findings[i];
  if (findings.size() > n) text += "; and " + std::to_string(findings.size() - n) + " more";
  return text;
}

}  // namespace

// Not PRAGMA quick_check: it reads every page (seconds at 10M events), and SQLite 3.40 (Debian
// 12) reports false "NULL value in node_groups.node_ref" rows for WITHOUT ROWID tables whose
// primary key order differs from column order, so it refused every store that had groups.
// integrity_check does not have that bug, and per table it costs only that table's size.
void check_database(sql::Database& db, const std::string& path, StartupCheck depth) {
  std::vector<std::string> tables;
  try {
    auto list = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name");
    while (list.step()) tables.push_back(list.text(0));
  } catch (const sql::Error& e) {
    corrupt(path, "schema", e.what(), e.code());
  }
  for (const char* required : kRequiredTables) {
    if (std::find(tables.begin(), tables.end(), required) == tables.end()) {
      corrupt(path, "schema", std::string("table ") + required + " is missing at schema version " +
                                  std::to_string(db.scalar("PRAGMA user_version")), SQLITE_SCHEMA);
    }
  }
  if (depth == StartupCheck::kFull) {
    std::vector<std::string> findings;
    try {
      findings = integrity_findings(db, "PRAGMA integrity_check(20)");
    } catch (const sql::Error& e) {
      corrupt(path, "integrity_check", e.what(), e.code());
    }
    if (!findings.empty()) corrupt(path, "integrity_check", join_first(findings, 3));
    return;
  }
  for (const auto& table : tables) {
    if (is_log_table(table) || is_rollup_table(table)) continue;
    std::vector<std::string> findings;
    try {
      // The name comes from sqlite_schema, quoted as an SQL string literal.
      std::string quoted = "'";
      for (char c : table) quoted += c == '\'' ? std::string("''") : std::string(1, c);
      findings = integrity_findings(db, "PRAGMA integrity_check(" + quoted + "')");
    } catch (const sql::Error& e) {
      corrupt(path, "table " + table, e.what(), e.code());
    }
    if (!findings.empty()) corrupt(path, "table " + table, join_first(findings, 3));
  }
  for (const char* table : kLogTables) {
    try {
      auto tail = db.prepare(std::string("SELECT * FROM ") + table + " ORDER BY rowid DESC LIMIT " +
                             std::to_string(kTailRows));
      while (tail.step()) {
      }
    } catch (const sql::Error& e) {
      corrupt(path, std::string("newest rows of ") + table, e.what(), e.code());
    }
  }
}

}  // namespace tinyedge::gateway
