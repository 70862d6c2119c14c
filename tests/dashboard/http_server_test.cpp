// The Beast server over real loopback sockets: keep-alive, limits, and that it keeps serving.
#include "dashboard_api/http_server.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "deploy/fleet/api_client.h"
#include "tests/dashboard/raw_http.h"

namespace tinyedge::dashboard {
namespace {

using testing::RawConnection;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

int64_t rss_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  return 0;
}

// Highest resident set size of this process (server and clients) above where it started.
class PeakRss {
 public:
  PeakRss() : base_(rss_kib()), thread_([this] {
    while (running_) {
      peak_ = std::max(peak_.load(), rss_kib());
      std::this_thread::sleep_for(1ms);
    }
  }) {}
  ~PeakRss() { stop(); }
  int64_t growth_mib() {
    stop();
    return std::max<int64_t>(0, peak_ - base_) / 1024;
  }

 private:
  void stop() {
    running_ = false;
    if (thread_.joinable()) thread_.join();
  }
  int64_t base_;
  std::atomic<int64_t> peak_{0};
  std::atomic<bool> running_{true};
  std::thread thread_;
};

struct Answer {
  int status = 0;
  std::chrono::milliseconds took{};  // until the first bytes of the answer
  std::string text;
};

// What a client announcing a large body sees: it sends the header, then the body in slices while
// watching for an answer, and stops sending once one arrives. All senders share one slice.
Answer send_announced_body(uint16_t port, const std::string& head, size_t body_bytes) {
  static const std::string slice(64 * 1024, 'x');
  Answer answer;
  const auto t0 = Clock::now();
  RawConnection c(port);
  if (!c.connected() || !c.send(head)) return answer;
  size_t sent = 0;
  while (Clock::now() - t0 < 20s) {
    std::string got = c.read(sent < body_bytes ? 1ms : 100ms);
    if (!got.empty() || c.closed()) {
      answer.took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
      answer.text = got;
      if (got.find("\r\n\r\n") == std::string::npos) answer.text += c.read(2s);
      answer.status = RawConnection::status_of(answer.text);
      return answer;
    }
    if (sent < body_bytes) {
      const size_t n = std::min(slice.size(), body_bytes - sent);
      if (!c.send(slice.substr(0, n))) sent = body_bytes;  // the server stopped reading: wait for its answer
      else sent += n;
    }
  }
  answer.took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
  answer.status = RawConnection::status_of(answer.text);
  return answer;
}

std::string post_head(const std::string& path, size_t length, const std::string& token, bool expect = false) {
  std::string head = "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n";
  if (!token.empty()) head += "Authorization: Bearer " + token + "\r\n";
  if (expect) head += "Expect: 100-continue\r\n";
  return head + "Content-Length: " + std::to_string(length) + "\r\n\r\n";
}

class HttpServerTest : public ::testing::Test {
 protected:
  void start(ServerLimits limits) {
    tokens_.add("v", "viewer", to_hex(sha256("v-token")));
    tokens_.add("op", "operator", to_hex(sha256("op-token")));
    router_.add({.method = Method::kPost, .pattern = "/secure", .role = Role::kOperator, .tag = "t",
                 .summary = "size", .body_media_type = "application/octet-stream", .handler = [](const RouteContext& c) {
                   return json_response(200, nlohmann::json{{"bytes", c.request.body.size()}});
                 }});
    router_.add({.method = Method::kGet, .pattern = "/echo", .role = Role::kViewer, .tag = "t", .summary = "echo",
                 .params = {{.name = "x", .type = ParamType::kString}},
                 .handler = [](const RouteContext& c) {
                   return json_response(200, nlohmann::json{{"x", c.params.str("x").value_or("")}});
                 }});
    router_.add({.method = Method::kPost, .pattern = "/upload", .role = Role::kNone, .tag = "t", .summary = "size",
                 .body_media_type = "application/octet-stream", .handler = [](const RouteContext& c) {
                   return json_response(200, nlohmann::json{{"bytes", c.request.body.size()}});
                 }});
    server_ = std::make_unique<HttpServer>(io_, router_, limits, metrics_);
    port_ = server_->listen("127.0.0.1", 0);
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    if (server_) server_->stop();
    work_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int echo_status() {
    fleet::ApiClient c(url(), "v-token", 5s);
    return c.get("/echo?x=ok").status;
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_.get_executor()};
  TokenTable tokens_;
  Router router_{&tokens_};
  ServerMetrics metrics_;
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
  std::thread thread_;
};

TEST_F(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  start({});
  fleet::ApiClient c(url(), "v-token", 5s);
  for (int i = 0; i < 50; ++i) {
    auto r = c.get("/echo?x=" + std::to_string(i));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(nlohmann::json::parse(r.body)["x"], std::to_string(i));
  }
  EXPECT_EQ(metrics_.connections_accepted.load(), 1u);
  EXPECT_EQ(metrics_.responses_2xx.load(), 50u);
}

TEST_F(HttpServerTest, OversizedHeadersAndBodiesAreRefusedAndServingGoesOn) {
  ServerLimits l;
  l.header_limit = 2048;
  l.body_limit = 1024;
  start(l);
  RawConnection big_header(port_);
  big_header.send("GET /echo HTTP/1.1\r\nHost: x\r\nX-Junk: " + std::string(8000, 'a') + "\r\n\r\n");
  auto r = big_header.read(3s);
  EXPECT_EQ(RawConnection::status_of(r), 431) << r;
  EXPECT_NE(r.find("headers_too_large"), std::string::npos);

  fleet::ApiClient c(url(), "", 5s);
  EXPECT_EQ(c.request("POST", "/upload", std::string(1024, 'b'), "application/octet-stream").status, 200);
  auto too_big = c.request("POST", "/upload", std::string(1025, 'b'), "application/octet-stream");
  EXPECT_EQ(too_big.status, 413);
  EXPECT_EQ(echo_status(), 200);
  EXPECT_GE(metrics_.malformed.load(), 2u);
}

TEST_F(HttpServerTest, SlowlorisClientIsCutOffWhileOthersAreServed) {
  ServerLimits l;
  l.request_timeout = 600ms;
  start(l);
  RawConnection slow(port_);
  ASSERT_TRUE(slow.connected());
  const auto t0 = std::chrono::steady_clock::now();
  // Trickle a header a byte at a time, never finishing it.
  bool cut = false;
  for (char ch : std::string("GET /echo HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")) {
    if (!slow.send(std::string(1, ch))) {
      cut = true;
      break;
    }
    slow.read(50ms);
    if (slow.closed()) {
      cut = true;
      break;
    }
    if (std::chrono::steady_clock::now() - t0 > 5s) break;
  }
  EXPECT_TRUE(cut) << "the server kept a trickling connection open past its request deadline";
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_EQ(echo_status(), 200);
  EXPECT_GE(metrics_.timeouts.load(), 1u);
}

TEST_F(HttpServerTest, PerClientRateLimitAnswers429) {
  ServerLimits l;
  l.rate_per_client = 5;
  l.burst_per_client = 10;
  start(l);
  fleet::ApiClient c(url(), "v-token", 5s);
  int ok = 0, limited = 0;
  for (int i = 0; i < 40; ++i) {
    auto r = c.get("/echo");
    if (r.status == 200) ++ok;
    if (r.status == 429) {
      ++limited;
      EXPECT_EQ(r.header("Retry-After"), "1");
      EXPECT_NE(r.body.find("rate_limited"), std::string::npos);
    }
  }
  EXPECT_GE(ok, 10);
  EXPECT_LT(ok, 20);
  EXPECT_EQ(ok + limited, 40);
}

TEST_F(HttpServerTest, ConnectionCapPerClientRefusesTheExtraOnes) {
  ServerLimits l;
  l.max_connections_per_client = 4;
  start(l);
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 4; ++i) held.push_back(std::make_unique<RawConnection>(port_));
  // Let the server accept the four before the fifth arrives.
  for (int i = 0; i < 100 && metrics_.connections_open.load() < 4; ++i) std::this_thread::sleep_for(10ms);
  RawConnection fifth(port_);
  fifth.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
  auto r = fifth.read(2s);
  EXPECT_EQ(r, "");
  EXPECT_TRUE(fifth.closed());
  EXPECT_GE(metrics_.connections_refused.load(), 1u);
  held.clear();
  for (int i = 0; i < 100 && metrics_.connections_open.load() > 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(echo_status(), 200);
}

TEST_F(HttpServerTest, GarbageIsA400AndTheConnectionCloses) {
  start({});
  RawConnection c(port_);
  c.send("\x16\x03\x01\x02\x00garbage that is not http\r\n\r\n");
  auto r = c.read(3s, true);
  EXPECT_EQ(RawConnection::status_of(r), 400) << r;
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(echo_status(), 200);
}

TEST_F(HttpServerTest, MetricsTextCountsResponses) {
  start({});
  EXPECT_EQ(echo_status(), 200);
  fleet::ApiClient c(url(), "bad", 5s);
  EXPECT_EQ(c.get("/echo").status, 401);
  const std::string text = metrics_.prometheus();
  EXPECT_NE(text.find("tinyedge_http_responses_total{class=\"2xx\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("tinyedge_http_auth_failures_total 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("tinyedge_http_request_duration_seconds_count 2\n"), std::string::npos) << text;
}

TEST_F(HttpServerTest, BodiesWithoutAValidTokenAreRefusedFromTheHeadersBeforeAnyIsRead) {
  start({});
  constexpr size_t kAnnounced = 15 * 1024 * 1024;
  constexpr int kClients = 16;
  std::vector<Answer> answers(kClients);
  PeakRss rss;
  {
    std::vector<std::thread> clients;
    for (int i = 0; i < kClients; ++i)
      clients.emplace_back([&, i] { answers[i] = send_announced_body(port_, post_head("/secure", kAnnounced, ""), kAnnounced); });
    for (auto& t : clients) t.join();
  }
  const int64_t grew = rss.growth_mib();
  for (const auto& a : answers) {
    EXPECT_EQ(a.status, 401) << a.text;
    EXPECT_NE(a.text.find("missing Authorization"), std::string::npos) << a.text;
    EXPECT_LT(a.took, 2s) << "the 401 came only after the body";
  }
  // 16 x 15 MB were announced (and sent until the answer came): none of it may be held.
  EXPECT_LT(grew, 32) << "resident memory grew by " << grew << " MiB for bodies that were never authorised";

  // A token whose role cannot use the route: 403, also before the body.
  const Answer viewer = send_announced_body(port_, post_head("/secure", kAnnounced, "v-token"), kAnnounced);
  EXPECT_EQ(viewer.status, 403) << viewer.text;
  EXPECT_LT(viewer.took, 2s);
  const Answer unknown = send_announced_body(port_, post_head("/nowhere", kAnnounced, "op-token"), kAnnounced);
  EXPECT_EQ(unknown.status, 404) << unknown.text;
  EXPECT_GE(metrics_.refused_before_body.load(), static_cast<uint64_t>(kClients + 2));
  EXPECT_EQ(metrics_.auth_failures.load(), static_cast<uint64_t>(kClients + 1));

  // The operator's own upload is read and served, and the server goes on.
  fleet::ApiClient op(url(), "op-token", 10s);
  auto r = op.request("POST", "/secure", std::string(1024 * 1024, 'b'), "application/octet-stream");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["bytes"], 1024 * 1024);
  EXPECT_EQ(echo_status(), 200);
}

TEST_F(HttpServerTest, BodiesInFlightShareOneBudgetAcrossConnections) {
  ServerLimits l;
  l.body_limit = 8 * 1024 * 1024;
  l.body_budget = 16 * 1024 * 1024;
  start(l);
  constexpr size_t kBody = 6 * 1024 * 1024;  // two fit in the budget, a third does not
  std::vector<std::unique_ptr<RawConnection>> admitted;
  int refused = 0;
  for (int i = 0; i < 6; ++i) {
    auto c = std::make_unique<RawConnection>(port_);
    ASSERT_TRUE(c->send(post_head("/secure", kBody, "op-token")));
    const std::string early = c->read(300ms);
    if (early.empty()) {
      admitted.push_back(std::move(c));  // waiting for its body
      continue;
    }
    ++refused;
    EXPECT_EQ(RawConnection::status_of(early), 503) << early;
    EXPECT_NE(early.find("too many request bodies at once"), std::string::npos) << early;
    EXPECT_NE(early.find("Retry-After: 1"), std::string::npos) << early;
  }
  EXPECT_EQ(admitted.size(), 2u) << "a budget of 16 MiB admits two 6 MiB bodies at once";
  EXPECT_EQ(refused, 4);
  EXPECT_EQ(metrics_.body_budget_refused.load(), 4u);
  EXPECT_EQ(metrics_.body_bytes_in_flight.load(), 2 * kBody);
  for (auto& c : admitted) {
    ASSERT_TRUE(c->send(std::string(kBody, 'y')));
    const std::string r = c->read(10s);
    EXPECT_EQ(RawConnection::status_of(r), 200) << r.substr(0, 300);
    EXPECT_NE(r.find("\"bytes\":" + std::to_string(kBody)), std::string::npos) << r.substr(0, 300);
  }
  // The shares come back once the bodies are gone: the next upload is admitted.
  for (int i = 0; i < 100 && metrics_.body_bytes_in_flight.load() > 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(metrics_.body_bytes_in_flight.load(), 0u);
  fleet::ApiClient op(url(), "op-token", 10s);
  EXPECT_EQ(op.request("POST", "/secure", std::string(kBody, 'z'), "application/octet-stream").status, 200);
}

TEST_F(HttpServerTest, ExpectContinueIsAnsweredOnlyForAnAdmittedBody) {
  start({});
  RawConnection ok(port_);
  ok.send(post_head("/secure", 5, "op-token", true));
  const std::string go = ok.read(2s);
  EXPECT_EQ(go.rfind("HTTP/1.1 100 Continue\r\n", 0), 0u) << go;
  ok.send("12345");
  const std::string done = ok.read(2s);
  EXPECT_NE(done.find("HTTP/1.1 200"), std::string::npos) << done;
  EXPECT_NE(done.find("\"bytes\":5"), std::string::npos) << done;

  RawConnection anonymous(port_);
  anonymous.send(post_head("/secure", 5, "", true));
  const std::string no = anonymous.read(2s);
  EXPECT_EQ(RawConnection::status_of(no), 401) << no;
  EXPECT_EQ(no.find("100 Continue"), std::string::npos) << no;
}

}  // namespace
}  // namespace tinyedge::dashboard
