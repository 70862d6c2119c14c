#include "tests/dashboard/fleet_pg.h"

#include <libpq-fe.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "gateway/core/log.h"
#include "gateway/core/metrics.h"
#include "gateway/store/backend.h"
#include "gateway/store/postgres/migrations.h"

namespace tinyedge::dashboard::testing {
namespace {

using Conn = std::unique_ptr<PGconn, decltype(&PQfinish)>;

void exec(PGconn* c, const std::string& sql) {
  std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(c, sql.c_str()), PQclear);
  const auto status = PQresultStatus(r.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
    throw std::runtime_error(sql.substr(0, 80) + ": " + PQerrorMessage(c));
}

// COPY ... FROM STDIN in text format, fed in ~1 MB chunks by `rows(put)`.
template <typename Rows>
void copy(PGconn* c, const std::string& into, Rows&& rows) {
  std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(c, ("COPY " + into + " FROM STDIN").c_str()), PQclear);
  if (PQresultStatus(r.get()) != PGRES_COPY_IN) throw std::runtime_error("COPY " + into + ": " + PQerrorMessage(c));
  std::string buffer;
  const auto send = [&] {
    if (PQputCopyData(c, buffer.data(), static_cast<int>(buffer.size())) != 1)
      throw std::runtime_error("COPY " + into + " data: " + PQerrorMessage(c));
    buffer.clear();
  };
  rows([&](const std::string& line) {
    buffer += line;
    if (buffer.size() > (1 << 20)) send();
  });
  if (!buffer.empty()) send();
  if (PQputCopyEnd(c, nullptr) != 1) throw std::runtime_error("COPY " + into + " end: " + PQerrorMessage(c));
  std::unique_ptr<PGresult, decltype(&PQclear)> done(PQgetResult(c), PQclear);
  if (PQresultStatus(done.get()) != PGRES_COMMAND_OK)
    throw std::runtime_error("COPY " + into + ": " + PQerrorMessage(c));
  while (PGresult* more = PQgetResult(c)) PQclear(more);
}

}  // namespace

int64_t build_fleet_pg(const std::string& url, const FleetSpec& spec) {
  {
    // The gateway's store migrates the schema exactly as production does.
    gateway::Metrics metrics;
    gateway::Logger log;
    log.set_level(gateway::LogLevel::kWarn);
    gateway::StoreOptions options;
    options.backend = "postgres";
    options.url = url;
    gateway::open_store(options, metrics, log);
  }
  const int64_t end_ms = fleet_end_ms(spec);
  Conn conn(PQconnectdb(url.c_str()), PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK)
    throw std::runtime_error("connect: " + std::string(PQerrorMessage(conn.get())));
  PGconn* c = conn.get();
  exec(c, "SET synchronous_commit = off");
  exec(c, "BEGIN");
  // The day partitions the events fall in, named and bounded as the store names them (pg_store.cpp).
  const int64_t first_day = (end_ms - spec.span_ms - 1000) / gateway::pg::kPartitionMs;
  for (int64_t day = first_day; day <= end_ms / gateway::pg::kPartitionMs; ++day) {
    exec(c, "CREATE TABLE IF NOT EXISTS events_d" + std::to_string(day) + " PARTITION OF events FOR VALUES FROM (" +
                std::to_string(day * gateway::pg::kPartitionMs) + ") TO (" +
                std::to_string((day + 1) * gateway::pg::kPartitionMs) + ")");
  }
  copy(c,
       "nodes (id, node_id, hardware, firmware_version, model_id, model_version, model_name, boot_id, bearer, "
       "first_seen_ms, last_seen_ms, online, state_changed_ms)",
       [&](auto put) {
         for (size_t i = 0; i < spec.nodes; ++i) {
           const FleetNode n = fleet_node(spec, end_ms, i);
           put(std::to_string(n.ref) + '\t' + n.name + "\thost-sim\t1\t7\t" + std::to_string(n.model_version) +
               "\tfashion\t1\tmqtt\t" + std::to_string(n.first_seen_ms) + '\t' + std::to_string(n.last_seen_ms) + '\t' +
               (n.online ? "t" : "f") + '\t' + std::to_string(n.last_seen_ms) + '\n');
         }
       });
  copy(c, "node_groups (node_ref, group_name)", [&](auto put) {
    for (size_t i = 0; i < spec.nodes; ++i) {
      put(std::to_string(i + 1) + "\tg" + std::to_string(i % spec.groups) + '\n');
      put(std::to_string(i + 1) + "\tall\n");
    }
  });
  // COPY fires the events' statement trigger once: latency_minutes is filled from all of them.
  copy(c,
       "events (id, node_ref, boot_id, seq, at_ms, received_ms, model_id, model_version, label, score, "
       "runners_up, latency_us, sample_id)",
       [&](auto put) {
         int64_t id = 0;
         std::string line;
         for_each_fleet_event(spec, end_ms, [&](const FleetEvent& e) {
           line = std::to_string(++id) + '\t' + std::to_string(e.node_ref) + "\t1\t" + std::to_string(e.seq) + '\t' +
                  std::to_string(e.at_ms) + '\t' + std::to_string(e.at_ms + 20) + "\t7\t" +
                  std::to_string(e.model_version) + '\t' + std::to_string(e.label) + '\t' + std::to_string(e.score) +
                  '\t' + e.runners_up + '\t' + std::to_string(e.latency_us) + '\t' + std::to_string(e.sample_id) + '\n';
           put(line);
         });
       });
  // The store writes label_minutes with each batch (pg_store.cpp), which COPY bypasses: filled as
  // its migration fills it from existing events.
  exec(c,
       "INSERT INTO label_minutes SELECT at_ms / 60000 * 60000, label, LEAST(score / 32, 7), 0, count(*) "
       "FROM events GROUP BY 1, 2, 3");
  exec(c,
       "INSERT INTO label_half_hours SELECT minute_ms / 1800000 * 1800000, label, bin, writer, sum(count) "
       "FROM label_minutes GROUP BY 1, 2, 3, 4");
  exec(c, "SELECT setval('events_id_seq', " + std::to_string(spec.events > 0 ? spec.events : 1) + ")");
  exec(c,
       "SELECT setval(pg_get_serial_sequence('nodes', 'id'), " + std::to_string(spec.nodes > 0 ? spec.nodes : 1) + ")");
  exec(c, "COMMIT");
  // Autovacuum would analyse the new rows within a minute of a gateway writing them; the bench
  // should not measure the minute before it does.
  exec(c, "ANALYZE");
  return end_ms;
}

}  // namespace tinyedge::dashboard::testing
