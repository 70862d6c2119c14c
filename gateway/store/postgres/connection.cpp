#include "gateway/store/postgres/connection.h"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace tinyedge::gateway::pg {

namespace {

std::string trimmed(const char* message) {
  std::string text = message ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

std::string redact_url(const std::string& url) {
  // URI form: scheme://user:password@host...
  const size_t scheme = url.find("://");
  if (scheme != std::string::npos) {
    const size_t at = url.find('@', scheme + 3);
    const size_t colon = url.find(':', scheme + 3);
    if (at != std::string::npos && colon != std::string::npos && colon < at) {
      return url.substr(0, colon + 1) + "***" + url.substr(at);
    }
  }
  // key=value form: password=...
  std::string out = url;
  if (const size_t p = out.find("password="); p != std::string::npos) {
    size_t end = out.find(' ', p);
    out.replace(p + 9, (end == std::string::npos ? out.size() : end) - (p + 9), "***");
  }
  // A password in the query string (?password=...).
  if (const size_t p = out.find("password=", scheme == std::string::npos ? 0 : scheme); p != std::string::npos) {
    size_t end = out.find_first_of("& ", p);
    out.replace(p + 9, (end == std::string::npos ? out.size() : end) - (p + 9), "***");
  }
  return out;
}

Params& Params::text(std::string value) {
  values_.emplace_back(std::move(value));
  formats_.push_back(0);
  return *this;
}

Params::LibpqArgs Params::libpq_args() const {
  LibpqArgs args;
  args.values.reserve(values_.size());
  args.lengths.reserve(values_.size());
  for (const auto& value : values_) {
    args.values.push_back(value ? value->data() : nullptr);
    args.lengths.push_back(value ? static_cast<int>(value->size()) : 0);
  }
  return args;
}

Params& Params::null() {
  values_.emplace_back(std::nullopt);
  formats_.push_back(0);
  return *this;
}

Params& Params::bytes(std::span<const uint8_t> value) {
  values_.emplace_back(std::string(reinterpret_cast<const char*>(value.data()), value.size()));
  formats_.push_back(1);
  return *this;
}

std::string Result::text(int row, int column) const {
  const char* value = PQgetvalue(result_.get(), row, column);
  return std::string(value, static_cast<size_t>(PQgetlength(result_.get(), row, column)));
}

int64_t Result::int64(int row, int column) const {
  if (is_null(row, column)) return 0;
  const char* value = PQgetvalue(result_.get(), row, column);
  const size_t length = static_cast<size_t>(PQgetlength(result_.get(), row, column));
  int64_t out = 0;
  const auto parsed = std::from_chars(value, value + length, out);
  if (parsed.ec != std::errc() || parsed.ptr != value + length) {
    throw Error("", false, "column " + std::to_string(column) + " is not an integer: " + std::string(value, length));
  }
  return out;
}

std::vector<uint8_t> Result::bytes(int row, int column) const {
  size_t length = 0;
  auto* raw = reinterpret_cast<const unsigned char*>(PQgetvalue(result_.get(), row, column));
  unsigned char* decoded = PQunescapeBytea(raw, &length);
  if (!decoded) throw Error("", false, "cannot decode bytea column " + std::to_string(column));
  std::vector<uint8_t> out(decoded, decoded + length);
  PQfreemem(decoded);
  return out;
}

int64_t Result::affected() const {
  const char* n = PQcmdTuples(result_.get());
  return n && *n ? std::strtoll(n, nullptr, 10) : 0;
}

Connection::Connection(const std::string& url) : url_(url) { open(); }

void Connection::open() {
  conn_.reset(PQconnectdb(url_.c_str()));
  if (!conn_) throw Error("", true, "cannot connect to " + redact_url(url_) + ": out of memory");
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    const std::string message = trimmed(PQerrorMessage(conn_.get()));
    conn_.reset();
    // A refused login or an unknown database will not pass by itself; a server that does not
    // answer may. libpq does not say which in a code, so the message decides.
    const bool refused = message.find("password authentication failed") != std::string::npos ||
                         message.find("does not exist") != std::string::npos ||
                         message.find("no password supplied") != std::string::npos ||
                         message.find("invalid") != std::string::npos;
    throw Error(refused ? "28000" : "", !refused, "cannot connect to " + redact_url(url_) + ": " + message);
  }
  // Quiet the server's NOTICEs (e.g. "relation already exists, skipping") on stderr.
  PQsetNoticeProcessor(
      conn_.get(), [](void*, const char*) {}, nullptr);
}

void Connection::reconnect() { open(); }

void Connection::fail(PGresult* result, std::string_view context) {
  std::string sqlstate;
  if (result) {
    if (const char* code = PQresultErrorField(result, PG_DIAG_SQLSTATE)) sqlstate = code;
  }
  const std::string message = trimmed(result ? PQresultErrorMessage(result) : PQerrorMessage(conn_.get()));
  PQclear(result);
  const bool lost = !conn_ || PQstatus(conn_.get()) != CONNECTION_OK || sqlstate.rfind("08", 0) == 0 ||
                    sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03";
  throw Error(sqlstate, lost, std::string(context.substr(0, 80)) + ": " + message);
}

void Connection::exec(std::string_view sql) {
  if (!conn_) open();
  const std::string text(sql);
  PGresult* result = PQexec(conn_.get(), text.c_str());
  const auto status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail(result, sql);
  PQclear(result);
}

Result Connection::query(std::string_view sql, const Params& params) {
  if (!conn_) open();
  const std::string text(sql);
  const auto args = params.libpq_args();
  PGresult* result = PQexecParams(conn_.get(), text.c_str(), static_cast<int>(args.values.size()), nullptr,
                                  args.values.data(), args.lengths.data(), params.formats_.data(), 0);
  const auto status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail(result, sql);
  return Result(result);
}

int64_t Connection::copy_in(std::string_view sql, std::string_view rows) {
  if (!conn_) open();
  const std::string text(sql);
  PGresult* start = PQexec(conn_.get(), text.c_str());
  if (!start || PQresultStatus(start) != PGRES_COPY_IN) fail(start, sql);
  PQclear(start);
  // A blocking connection: each call returns once libpq has buffered or sent the bytes.
  constexpr size_t kChunk = 1 << 20;
  for (size_t at = 0; at < rows.size(); at += kChunk) {
    const size_t n = std::min(kChunk, rows.size() - at);
    if (PQputCopyData(conn_.get(), rows.data() + at, static_cast<int>(n)) != 1) fail(nullptr, sql);
  }
  if (PQputCopyEnd(conn_.get(), nullptr) != 1) fail(nullptr, sql);
  // The COPY's outcome, then the end of its results (a failure must not leave one queued).
  PGresult* result = PQgetResult(conn_.get());
  const auto status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  while (PGresult* more = PQgetResult(conn_.get())) PQclear(more);
  if (status != PGRES_COMMAND_OK) fail(result, sql);
  return Result(result).affected();
}

void copy_text(std::string& row, std::string_view value) {
  for (const char c : value) {
    switch (c) {
      case '\\':
        row += "\\\\";
        break;
      case '\t':
        row += "\\t";
        break;
      case '\n':
        row += "\\n";
        break;
      case '\r':
        row += "\\r";
        break;
      default:
        row += c;
    }
  }
}

Pipeline::Pipeline(Connection& connection) : connection_(connection) {
  if (!connection_.conn_) connection_.open();
  if (PQenterPipelineMode(connection_.conn_.get()) != 1) connection_.fail(nullptr, "enter pipeline mode");
}

Pipeline::~Pipeline() {
  if (!done_) drain();
}

size_t Pipeline::add(std::string_view sql, const Params& params) {
  sql_.emplace_back(sql);
  const auto args = params.libpq_args();
  if (PQsendQueryParams(connection_.conn_.get(), sql_.back().c_str(), static_cast<int>(args.values.size()), nullptr,
                        args.values.data(), args.lengths.data(), params.formats_.data(), 0) != 1) {
    drain();
    connection_.fail(nullptr, sql);
  }
  return sql_.size() - 1;
}

void Pipeline::sync() {
  if (PQpipelineSync(connection_.conn_.get()) != 1) {
    drain();
    connection_.fail(nullptr, "pipeline sync");
  }
  ++syncs_;
}

std::vector<Result> Pipeline::run() {
  sync();
  PGconn* conn = connection_.conn_.get();
  std::vector<Result> results;
  PGresult* first_error = nullptr;
  size_t error_at = 0;
  int nulls = 0;
  // Each statement's answer is followed by a NULL; each Sync's by none. Two NULLs in a row: libpq
  // has nothing more to read (the connection broke).
  while (syncs_ > 0) {
    PGresult* result = PQgetResult(conn);
    if (!result) {
      if (++nulls == 2) break;
      continue;
    }
    nulls = 0;
    const auto status = PQresultStatus(result);
    if (status == PGRES_PIPELINE_SYNC) {
      --syncs_;
      PQclear(result);
      continue;
    }
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && !first_error) {
      first_error = result;  // a PGRES_PIPELINE_ABORTED after it only says "skipped"
      error_at = results.size();
      results.emplace_back(nullptr);
      continue;
    }
    results.emplace_back(result);
  }
  done_ = true;
  const bool exited = PQexitPipelineMode(conn) == 1;
  if (first_error) connection_.fail(first_error, sql_[std::min(error_at, sql_.size() - 1)]);
  if (syncs_ > 0 || !exited) connection_.fail(nullptr, "pipeline");
  return results;
}

void Pipeline::drain() noexcept {
  done_ = true;
  PGconn* conn = connection_.conn_.get();
  if (!conn) return;
  if (PQpipelineSync(conn) == 1) ++syncs_;
  int nulls = 0;
  while (syncs_ > 0 && PQstatus(conn) == CONNECTION_OK) {
    PGresult* result = PQgetResult(conn);
    if (!result) {
      if (++nulls == 2) break;
      continue;
    }
    nulls = 0;
    if (PQresultStatus(result) == PGRES_PIPELINE_SYNC) --syncs_;
    PQclear(result);
  }
  PQexitPipelineMode(conn);
}

Transaction::Transaction(Connection& connection) : connection_(connection) { connection_.exec("BEGIN"); }

Transaction::~Transaction() {
  if (!open_) return;
  try {
    connection_.exec("ROLLBACK");
  } catch (const Error&) {
    // A lost connection has rolled back already.
  }
}

void Transaction::commit() {
  open_ = false;
  connection_.exec("COMMIT");
}

std::string int_array(std::span<const int64_t> values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(values[i]);
  }
  return out + "}";
}

std::string text_array(std::span<const std::optional<std::string>> values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    if (!values[i]) {
      out += "NULL";
      continue;
    }
    out += '"';
    for (char c : *values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

}  // namespace tinyedge::gateway::pg
