// The HTTP server's own counters, published at /metrics beside the gateway's. Atomics: sessions
// update them from the io thread, handlers from the worker pool, /metrics reads them anywhere.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace tinyedge::dashboard {

struct ServerMetrics {
  static constexpr std::array<double, 10> kLatencyBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                             0.025,  0.05,  0.1,    0.5,   2.0};
  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<uint64_t> connections_open{0};
  std::atomic<uint64_t> connections_refused{0};  // over max_connections / per-client cap
  std::atomic<uint64_t> requests_total{0};
  std::atomic<uint64_t> responses_2xx{0};
  std::atomic<uint64_t> responses_3xx{0};
  std::atomic<uint64_t> responses_4xx{0};
  std::atomic<uint64_t> responses_5xx{0};
  std::atomic<uint64_t> rate_limited{0};
  std::atomic<uint64_t> timeouts{0};         // requests cut off by the per-request deadline
  std::atomic<uint64_t> malformed{0};        // HTTP parse failures, oversize headers/bodies
  std::atomic<uint64_t> auth_failures{0};    // 401 + 403
  std::atomic<uint64_t> refused_before_body{0};   // answered from the headers; the body was never read
  std::atomic<uint64_t> body_budget_refused{0};   // 503: the bodies in flight would exceed the shared budget
  std::atomic<uint64_t> body_bytes_in_flight{0};  // request body bytes admitted and not yet released
  std::array<std::atomic<uint64_t>, kLatencyBuckets.size() + 1> latency_buckets{};  // last = +Inf
  std::atomic<uint64_t> latency_sum_us{0};

  void record(int status, double seconds);
  // Prometheus text exposition of these counters, names prefixed tinyedge_http_.
  std::string prometheus() const;
};

}  // namespace tinyedge::dashboard
