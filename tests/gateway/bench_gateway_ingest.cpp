// bench_gateway_ingest: drives a real mosquitto with a load generator of simulated nodes and
// reports (1) events/s that a plain subscriber which decodes and discards receives, and (2) events/s
// one gateway makes durable in its store (SQLite synchronous=FULL, or PostgreSQL with
// synchronous_commit=on and fsync on, on a server the benchmark starts; acks flowing back).
//
//   bench_gateway_ingest [seconds=8] [publishers=8] [results_per_uplink=16] [synchronous=FULL]
//                        [ack_window=32768] [backend=sqlite|postgres|both|scale]
//
// scale: SQLite, then 1, 2 and 3 gateways into one PostgreSQL database each time (MQTT 5 shared
// subscription, distinct client ids), all beside the same discarding subscriber's figure.
//
// Both runs use the same generator: N raw MQTT connections pipelining QoS 1 PUBLISHes (at most
// 512 un-PUBACKed each). Against the gateway, each simulated node also behaves like its ring
// buffer: at most ack_window results without a gateway Ack (0 = unlimited). The discarding
// subscriber sends no Acks, so there only the PUBACK window applies.
#include <mqtt/async_client.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gateway/ingest/uplink_validator.h"
#include "tests/gateway/support/in_process_gateway.h"
#include "tests/gateway/support/mosquitto.h"
#include "tests/gateway/support/postgres_server.h"
#include "tests/gateway/support/raw_publisher.h"

using namespace tinyedge;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

struct Load {
  int seconds;
  int publishers;
  uint32_t batch;
  uint32_t ack_window;  // results a node keeps unacked at most (its ring buffer); 0 = no limit
};

// Runs the generator for warmup + load.seconds and samples `counter` at both ends of the window.
double measure(uint16_t port, const Load& load, const std::string& tag, const std::function<uint64_t()>& counter,
               uint64_t& generated, uint32_t ack_window) {
  std::vector<std::unique_ptr<test::RawPublisher>> publishers;
  for (int i = 0; i < load.publishers; ++i) {
    publishers.push_back(
        std::make_unique<test::RawPublisher>(port, tag + "-" + std::to_string(i), load.batch, 512, ack_window));
    publishers.back()->start();
  }
  const auto published = [&] {
    uint64_t sum = 0;
    for (auto& p : publishers) sum += p->results_published();
    return sum;
  };
  std::this_thread::sleep_for(1s);  // warm-up
  const uint64_t generated_start = published();
  const uint64_t start = counter();
  const auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(load.seconds));
  const uint64_t end = counter();
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  generated = static_cast<uint64_t>(static_cast<double>(published() - generated_start) / elapsed);
  for (auto& p : publishers) p->stop();
  return static_cast<double>(end - start) / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  Load load{argc > 1 ? std::atoi(argv[1]) : 8, argc > 2 ? std::atoi(argv[2]) : 8,
            static_cast<uint32_t>(argc > 3 ? std::atoi(argv[3]) : 16),
            static_cast<uint32_t>(argc > 5 ? std::atoi(argv[5]) : 32768)};
  const std::string synchronous = argc > 4 ? argv[4] : "FULL";
  const std::string backends = argc > 6 ? argv[6] : "sqlite";
  if (backends != "sqlite" && backends != "postgres" && backends != "both" && backends != "scale") {
    std::fprintf(stderr, "backend: '%s' is not sqlite, postgres, both or scale\n", backends.c_str());
    return 2;
  }
  std::printf("bench_gateway_ingest: %d s window, %d publishers, %u results per uplink, QoS 1, ack window %u\n",
              load.seconds, load.publishers, load.batch, load.ack_window);

  double discard_rate = 0;
  uint64_t generated_discard = 0;
  {
    const std::string dir = test::make_temp_dir("bench-discard");
    test::Mosquitto broker(dir);
    std::atomic<uint64_t> events{0};
    mqtt::async_client subscriber(broker.url(), "bench-discard", static_cast<mqtt::iclient_persistence*>(nullptr));
    subscriber.set_message_callback([&](mqtt::const_message_ptr message) {
      static thread_local tinyedge_v1_Uplink uplink;
      const auto& p = message->get_payload_ref();
      const auto check = gateway::check_uplink({reinterpret_cast<const uint8_t*>(p.data()), p.size()}, "", uplink);
      if (check.error == gateway::UplinkError::kOk && check.kind == gateway::UplinkKind::kResults) {
        events.fetch_add(uplink.payload.results.results_count, std::memory_order_relaxed);
      }
    });
    mqtt::connect_options options;
    options.set_clean_session(false);
    subscriber.connect(options)->wait();
    subscriber.subscribe("tinyedge/v1/+/up", 1)->wait();
    discard_rate = measure(
        broker.port(), load, "d", [&] { return events.load(); }, generated_discard, 0);
    subscriber.disconnect()->wait();
  }
  std::printf("discarding subscriber : %10.0f events/s (generator: %llu events/s PUBACKed)\n", discard_rate,
              static_cast<unsigned long long>(generated_discard));

  // `gateways` gateways into one backend (several: one shared subscription group, distinct client
  // ids, one PostgreSQL database); prints its line and the writers' figures, summed.
  std::unique_ptr<test::PostgresServer> postgres;  // one server for every PostgreSQL run
  const auto run_gateways = [&](const std::string& backend, int gateways) -> bool {
    double gateway_rate = 0;
    uint64_t generated_gateway = 0;
    gateway::MetricsSnapshot m{};
    const std::string dir = test::make_temp_dir("bench-gateway");
    test::Mosquitto broker(dir);
    std::string url;
    if (backend == "postgres") {
      if (!postgres) postgres = std::make_unique<test::PostgresServer>(/*durable=*/true);
      url = postgres->create_database("bench" + std::to_string(gateways));
    }
    {
      std::vector<std::unique_ptr<test::InProcessGateway>> gws;
      for (int g = 0; g < gateways; ++g) {
        gateway::GatewayConfig config;
        config.data_dir = dir + "/data-" + std::to_string(g);
        config.mqtt.url = broker.url();
        config.mqtt.client_id = "bench-gateway-" + std::to_string(g);
        if (gateways > 1) {
          config.mqtt.shared_group = "bench";
          config.mqtt.session_expiry_s = 0;
        }
        config.api.enabled = false;
        config.store.synchronous = synchronous;
        if (backend == "postgres") {
          config.store.backend = "postgres";
          config.store.url = url;
        }
        gws.push_back(std::make_unique<test::InProcessGateway>(config));
        if (!gws.back()->wait_log("msg=subscribed", 1, 10000)) {
          std::fprintf(stderr, "gateway %d did not subscribe\n%s", g, gws.back()->log_text().c_str());
          return false;
        }
      }
      const auto stored = [&] {
        uint64_t sum = 0;
        for (auto& gw : gws) sum += gw->metrics().events_stored.get();
        return sum;
      };
      gateway_rate = measure(broker.port(), load, "g", stored, generated_gateway, load.ack_window);
      for (auto& gw : gws) {
        const auto s = gw->metrics().snapshot();
        m.batches += s.batches;
        m.batch_events_total += s.batch_events_total;
        m.batch_events_max = std::max(m.batch_events_max, s.batch_events_max);
        m.store_commit_us_total += s.store_commit_us_total;
        m.duplicates += s.duplicates;
        m.acks_sent += s.acks_sent;
      }
      for (auto& gw : gws) gw->stop();
    }
    if (backend == "postgres") {
      std::printf(
          "%d gateway%s into PostgreSQL: %9.0f events/s (synchronous_commit=on, fsync=on; generator: %llu "
          "events/s PUBACKed)\n",
          gateways, gateways > 1 ? "s" : "", gateway_rate, static_cast<unsigned long long>(generated_gateway));
    } else {
      std::printf("gateway into SQLite   : %10.0f events/s (synchronous=%s; generator: %llu events/s PUBACKed)\n",
                  gateway_rate, synchronous.c_str(), static_cast<unsigned long long>(generated_gateway));
    }
    std::printf("ratio                 : %10.1f %%\n", discard_rate > 0 ? 100.0 * gateway_rate / discard_rate : 0.0);
    std::printf(
        "batches %llu, mean batch %.0f events, max batch %llu, mean commit %.2f ms, duplicates %llu, "
        "acks sent %llu\n",
        static_cast<unsigned long long>(m.batches),
        m.batches ? static_cast<double>(m.batch_events_total) / static_cast<double>(m.batches) : 0.0,
        static_cast<unsigned long long>(m.batch_events_max),
        m.batches ? static_cast<double>(m.store_commit_us_total) / static_cast<double>(m.batches) / 1000.0 : 0.0,
        static_cast<unsigned long long>(m.duplicates), static_cast<unsigned long long>(m.acks_sent));
    return true;
  };
  if (backends != "postgres" && !run_gateways("sqlite", 1)) return 1;
  if (backends == "postgres" || backends == "both") {
    if (!run_gateways("postgres", 1)) return 1;
  }
  if (backends == "scale") {
    for (int gateways = 1; gateways <= 3; ++gateways) {
      if (!run_gateways("postgres", gateways)) return 1;
    }
  }
  return 0;
}
