// Thin RAII over libpq: a connection, results, parameters in text form (or binary for bytea), a
// transaction, and an exception that carries the server's SQLSTATE so callers can tell a lost
// connection (retry later) from a refused statement (a bug or bad data). The one statement
// wrapper of the PostgreSQL backend: the event writer, the queries and the rollout store use it.
#pragma once
#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tinyedge::gateway::pg {

class Error : public std::runtime_error {
 public:
  Error(std::string sqlstate, bool connection_lost, const std::string& what)
      : std::runtime_error(what), sqlstate_(std::move(sqlstate)), connection_lost_(connection_lost) {}
  const std::string& sqlstate() const { return sqlstate_; }  // "" when the server never answered
  // The server could not be reached or the connection broke: the same work may succeed later.
  bool connection_lost() const { return connection_lost_; }
  // Two writers met (deadlock, serialization failure): retrying the transaction resolves it.
  bool conflict() const { return sqlstate_ == "40P01" || sqlstate_ == "40001"; }

 private:
  std::string sqlstate_;
  bool connection_lost_;
};

// Statement parameters: each text (or NULL), or raw bytes sent in binary (bytea).
class Params {
 public:
  Params& add(int64_t value) { return text(std::to_string(value)); }
  Params& add(std::string_view value) { return text(std::string(value)); }
  Params& add(const char* value) { return text(std::string(value)); }
  Params& add(const std::string& value) { return text(value); }
  template <typename T>
  Params& add(const std::optional<T>& value) {
    return value ? add(*value) : null();
  }
  Params& null();
  Params& bytes(std::span<const uint8_t> value);
  size_t size() const { return values_.size(); }

 private:
  friend class Connection;
  friend class Pipeline;
  // The values as libpq takes them (PQexecParams, PQsendQueryParams): pointers into values_ (NULL
  // for a SQL NULL) and their lengths; valid while this Params lives unchanged.
  struct LibpqArgs {
    std::vector<const char*> values;
    std::vector<int> lengths;
  };
  LibpqArgs libpq_args() const;
  Params& text(std::string value);
  std::vector<std::optional<std::string>> values_;
  std::vector<int> formats_;  // 0 text, 1 binary
};

class Result {
 public:
  explicit Result(PGresult* result) : result_(result) {}
  int rows() const { return PQntuples(result_.get()); }
  bool is_null(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  std::string text(int row, int column) const;
  int64_t int64(int row, int column) const;               // 0 for NULL
  std::vector<uint8_t> bytes(int row, int column) const;  // a bytea column in text (hex) form
  int64_t affected() const;                               // rows an INSERT/UPDATE/DELETE touched

 private:
  struct Clear {
    void operator()(PGresult* r) const { PQclear(r); }
  };
  std::unique_ptr<PGresult, Clear> result_;
};

class Connection {
 public:
  // url: postgresql://user:password@host:port/db?... (libpq's connection URI or key=value form).
  // Throws Error naming the server's answer, with the password left out of the message.
  explicit Connection(const std::string& url);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void exec(std::string_view sql);  // one or more statements without parameters or results
  Result query(std::string_view sql, const Params& params = {});
  // COPY ... FROM STDIN with `rows` in COPY's text format (tab-separated, \N for NULL, one line
  // per row); returns the rows the server took. The cheapest way in for a batch of rows: no
  // parameter arrays for the server to parse and unnest.
  int64_t copy_in(std::string_view sql, std::string_view rows);
  bool ok() const { return PQstatus(conn_.get()) == CONNECTION_OK; }
  // Drops a broken connection and dials again; throws Error if the server still cannot be reached.
  void reconnect();
  const std::string& url() const { return url_; }

 private:
  friend class Pipeline;
  void open();
  [[noreturn]] void fail(PGresult* result, std::string_view context);

  struct Finish {
    void operator()(PGconn* c) const { PQfinish(c); }
  };
  std::string url_;
  std::unique_ptr<PGconn, Finish> conn_;
};

// Statements sent together and answered together (libpq's pipeline mode): one round trip to the
// server for all of them instead of one each, which on a loaded machine is a wake-up of the
// server and one of the client per statement. sync() marks where an implicit transaction ends
// (an autocommit statement before BEGIN); inside BEGIN .. COMMIT it changes nothing. COPY cannot
// be pipelined.
class Pipeline {
 public:
  explicit Pipeline(Connection& connection);
  ~Pipeline();  // leaves pipeline mode, reading what run() did not
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Queues a statement; run()'s result at the index returned is its answer.
  size_t add(std::string_view sql, const Params& params = {});
  void sync();
  // Sends a last Sync, reads every answer and leaves pipeline mode. Throws the first statement's
  // error (the server skipped the statements after it up to the next Sync).
  std::vector<Result> run();

 private:
  void drain() noexcept;
  Connection& connection_;
  std::vector<std::string> sql_;  // for error messages
  int syncs_ = 0;
  bool done_ = false;
};

// BEGIN .. COMMIT, rolled back if not committed (a broken connection rolls back by itself).
class Transaction {
 public:
  explicit Transaction(Connection& connection);
  // For a BEGIN the caller sent already (in a Pipeline): only the rollback is left to this object.
  struct Begun {};
  Transaction(Connection& connection, Begun) : connection_(connection) {}
  ~Transaction();
  void commit();
  // The caller sent COMMIT itself (in a Pipeline) and it succeeded.
  void committed() { open_ = false; }

 private:
  Connection& connection_;
  bool open_ = true;
};

// The URL with its password (if any) replaced by "***", for logs and error messages.
std::string redact_url(const std::string& url);

// Appends `value` to a COPY text-format row, escaping what COPY reads as special.
void copy_text(std::string& row, std::string_view value);

// An SQL array literal of integers ({1,2,3}) for unnest($n::bigint[]).
std::string int_array(std::span<const int64_t> values);
// An SQL array literal of texts ({"a","b"} with quotes and backslashes escaped, NULL for nullopt).
std::string text_array(std::span<const std::optional<std::string>> values);

}  // namespace tinyedge::gateway::pg
