// Thin RAII over the SQLite C API: a connection, prepared statements, and an exception that
// carries SQLite's result code so callers can tell "disk full" from "corrupt". The one statement
// wrapper of the SQLite backend: the event writer, the queries and the rollout store all use it.
#pragma once
#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tinyedge::gateway::sql {

class Error : public std::runtime_error {
 public:
  Error(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }             // extended result code
  int primary() const { return code_ & 0xff; }   // SQLITE_FULL, SQLITE_READONLY, SQLITE_CORRUPT...

 private:
  int code_;
};

class Statement;

class Database {
 public:
  enum class Mode { kReadWrite, kReadOnly };
  Database(const std::string& path, Mode mode);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void exec(std::string_view sql);                 // statements without results or parameters
  Statement prepare(std::string_view sql) const;
  int64_t scalar(std::string_view sql) const;      // first column of the first row, 0 if none
  int changes() const { return sqlite3_changes(db_); }
  int64_t last_insert_id() const { return sqlite3_last_insert_rowid(db_); }
  sqlite3* handle() const { return db_; }
  [[noreturn]] void fail(int code, std::string_view context) const;

 private:
  sqlite3* db_ = nullptr;
};

class Statement {
 public:
  Statement(const Database& db, std::string_view sql);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;

  Statement& bind(int index, int64_t value);
  Statement& bind(int index, std::string_view value);
  Statement& bind_null(int index);
  Statement& bind_blob(int index, std::span<const uint8_t> value);
  // Optional values bind as NULL when empty.
  template <typename T>
  Statement& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind_null(index);
  }

  bool step();   // true while a row is available; throws on error
  void run();    // step to completion, then reset
  void reset();

  int64_t int64(int column) const { return sqlite3_column_int64(stmt_, column); }
  bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::string text(int column) const;
  std::vector<uint8_t> blob(int column) const;

 private:
  const Database* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE .. COMMIT, rolled back if not committed.
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  void commit();

 private:
  Database& db_;
  bool open_ = true;
};

}  // namespace tinyedge::gateway::sql
