// The Beast server over real loopback sockets: keep-alive, limits, and that it keeps serving.
#include "dashboard_api/http_server.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "deploy/fleet/api_client.h"
#include "tests/dashboard/raw_http.h"

namespace tinyedge::dashboard {
namespace {

using testing::RawConnection;
using namespace std::chrono_literals;

class HttpServerTest : public ::testing::Test {
 protected:
  void start(ServerLimits limits) {
    tokens_.add("v", "viewer", to_hex(sha256("v-token")));
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

}  // namespace
}  // namespace tinyedge::dashboard
