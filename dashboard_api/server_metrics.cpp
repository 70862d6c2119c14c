#include "dashboard_api/server_metrics.h"

#include "dashboard_api/prometheus.h"

namespace tinyedge::dashboard {

void ServerMetrics::record(int status, double seconds) {
  requests_total++;
  if (status < 300)
    responses_2xx++;
  else if (status < 400)
    responses_3xx++;
  else if (status < 500)
    responses_4xx++;
  else
    responses_5xx++;
  if (status == 401 || status == 403) auth_failures++;
  if (status == 429) rate_limited++;
  size_t i = 0;
  while (i < kLatencyBuckets.size() && seconds > kLatencyBuckets[i]) ++i;
  latency_buckets[i]++;
  latency_sum_us += static_cast<uint64_t>(seconds * 1e6);
}

std::string ServerMetrics::prometheus() const {
  PrometheusWriter w;
  w.counter("tinyedge_http_connections_accepted_total", "TCP connections accepted", connections_accepted);
  w.gauge("tinyedge_http_connections_open", "TCP connections open now", static_cast<double>(connections_open));
  w.counter("tinyedge_http_connections_refused_total", "Connections closed at once: over the connection caps",
            connections_refused);
  w.counter("tinyedge_http_requests_total", "HTTP requests answered", requests_total);
  w.header("tinyedge_http_responses_total", "HTTP responses by status class", "counter");
  w.sample("tinyedge_http_responses_total", {{"class", "2xx"}}, static_cast<double>(responses_2xx));
  w.sample("tinyedge_http_responses_total", {{"class", "3xx"}}, static_cast<double>(responses_3xx));
  w.sample("tinyedge_http_responses_total", {{"class", "4xx"}}, static_cast<double>(responses_4xx));
  w.sample("tinyedge_http_responses_total", {{"class", "5xx"}}, static_cast<double>(responses_5xx));
  w.counter("tinyedge_http_rate_limited_total", "Requests refused with 429 by the per-client rate limit", rate_limited);
  w.counter("tinyedge_http_timeouts_total", "Connections cut by the per-request deadline", timeouts);
  w.counter("tinyedge_http_malformed_total", "Unparseable or oversized requests", malformed);
  w.counter("tinyedge_http_auth_failures_total", "Requests answered 401 or 403", auth_failures);
  w.counter("tinyedge_http_refused_before_body_total", "Requests answered from their headers, body never read",
            refused_before_body);
  w.counter("tinyedge_http_body_budget_refused_total", "Requests answered 503: request bodies in flight at the budget",
            body_budget_refused);
  w.gauge("tinyedge_http_body_bytes_in_flight", "Request body bytes admitted and not yet released",
          static_cast<double>(body_bytes_in_flight));
  w.header("tinyedge_http_request_duration_seconds", "Time from parsed request to response", "histogram");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    cumulative += latency_buckets[i];
    w.sample("tinyedge_http_request_duration_seconds_bucket", {{"le", PrometheusWriter::number(kLatencyBuckets[i])}},
             static_cast<double>(cumulative));
  }
  cumulative += latency_buckets[kLatencyBuckets.size()];
  w.sample("tinyedge_http_request_duration_seconds_bucket", {{"le", "+Inf"}}, static_cast<double>(cumulative));
  w.sample("tinyedge_http_request_duration_seconds_sum", {}, static_cast<double>(latency_sum_us) / 1e6);
  w.sample("tinyedge_http_request_duration_seconds_count", {}, static_cast<double>(cumulative));
  return w.take();
}

}  // namespace tinyedge::dashboard
