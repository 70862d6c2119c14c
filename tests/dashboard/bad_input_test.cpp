// Hostile input against a real server over a real gateway database: malformed requests, huge
// headers, bad JSON, wrong tokens, path traversal, and seeded random mutations. Each is answered
// with a 4xx (never a 5xx, never a crash) and the server keeps serving.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <random>

#include "deploy/fleet/api_client.h"
#include "tests/dashboard/api_fixture.h"
#include "tests/dashboard/fleet_db.h"
#include "tests/dashboard/raw_http.h"

namespace tinyedge::dashboard {
namespace {

using namespace testing;
using namespace std::chrono_literals;

class BadInputTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    db_path_ = new std::string(temp_db_path("bad-input"));
    FleetSpec spec;
    spec.events = 20'000;
    build_fleet_db(*db_path_, spec);
    ServerLimits limits;
    limits.header_limit = 8 * 1024;
    limits.body_limit = 64 * 1024;
    limits.request_timeout = 1500ms;
    limits.rate_per_client = 0;
    server_ = new ApiServer(*db_path_, limits);
  }
  static void TearDownTestSuite() {
    delete server_;
    std::filesystem::remove_all(std::filesystem::path(*db_path_).parent_path());
    delete db_path_;
  }

  // Sends raw bytes, half-closes, and returns the status of the answer (0: none).
  static int send_raw(const std::string& bytes, std::string* response = nullptr) {
    RawConnection c(server_->port);
    EXPECT_TRUE(c.connected());
    c.send(bytes);
    // Half-close: the server sees the end of input, so a truncated request is answered at once.
    c.shutdown_write();
    std::string r = c.read(3s);
    if (response) *response = r;
    return RawConnection::status_of(r);
  }
  static void expect_still_serving() {
    fleet::ApiClient c(server_->url(), kViewerToken, 5s);
    auto r = c.get("/api/v1/events?limit=3");
    ASSERT_EQ(r.status, 200) << "the server stopped serving: " << r.body;
  }

  static std::string* db_path_;
  static ApiServer* server_;
};

std::string* BadInputTest::db_path_ = nullptr;
ApiServer* BadInputTest::server_ = nullptr;

const std::string kAuth = "Authorization: Bearer " + kViewerToken + "\r\n";

TEST_F(BadInputTest, MalformedRequestsAre4xx) {
  const std::vector<std::string> cases = {
      "GET\r\n\r\n",
      "GET / HTTP/9.9\r\n\r\n",
      std::string("\0\0\0\0\r\n\r\n", 8),
      "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03 tls hello\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcde",
      "POST /api/v1/models HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nHost x\r\n\r\n",
      std::string("GET /healthz HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n", 42),
      "GET /healthz HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n",
      "GET http://evil.example/ HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET * HTTP/1.1\r\nHost: x\r\n\r\n",
      "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: x\r\n\r\n",
      "BREW /api/v1/events HTTP/1.1\r\nHost: x\r\n\r\n",
      "TRACE / HTTP/1.1\r\nHost: x\r\n\r\n",
      "DELETE /api/v1/events HTTP/1.1\r\nHost: x\r\n" + kAuth + "\r\n",
      "GET /api/v1/events?limit=%ZZ HTTP/1.1\r\nHost: x\r\n" + kAuth + "\r\n",
      "GET /api/v1/events?node=%00 HTTP/1.1\r\nHost: x\r\n" + kAuth + "\r\n",
      "GET /api/v1/events?limit=1&limit=2 HTTP/1.1\r\nHost: x\r\n" + kAuth + "\r\n",
      "GET /api/v1/events?cursor=99999999999999999999999999 HTTP/1.1\r\nHost: x\r\n" + kAuth + "\r\n",
      "GET /api/v1/events?since=9999-99-99T99:99:99Z HTTP/1.1\r\nHost: x\r\n" + kAuth + "\r\n",
  };
  for (const auto& c : cases) {
    std::string response;
    const int status = send_raw(c, &response);
    EXPECT_GE(status, 400) << "request " << ::testing::PrintToString(c) << " got " << response.substr(0, 200);
    EXPECT_LT(status, 500) << "request " << ::testing::PrintToString(c) << " got " << response.substr(0, 200);
  }
  expect_still_serving();
}

// A body is never read for a caller who may not send it: the answer comes from the headers alone
// while the client still holds its body back (the connection is not half-closed).
TEST_F(BadInputTest, BodiesBehindMissingBadOrWeakTokensAreAnsweredFromTheHeaders) {
  const std::string length = "Content-Length: 60000\r\n";
  const std::string chunked = "Transfer-Encoding: chunked\r\n";
  const std::string viewer = "Authorization: Bearer " + kViewerToken + "\r\n";
  const std::vector<std::pair<std::string, int>> cases = {
      {"POST /api/v1/models HTTP/1.1\r\nHost: x\r\n" + length + "\r\n", 401},
      {"POST /api/v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\n" + length + "\r\n", 401},
      {"POST /api/v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Basic dXNlcjpwYXNz\r\n" + length + "\r\n", 401},
      {"POST /api/v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + std::string(7000, 'a') + "\r\n" + length +
           "\r\n",
       401},
      {"POST /api/v1/models HTTP/1.1\r\nHost: x\r\n" + viewer + length + "\r\n", 403},
      {"POST /api/v1/models HTTP/1.1\r\nHost: x\r\n" + viewer + chunked + "\r\n", 403},
      {"PUT /api/v1/nodes/n1/groups HTTP/1.1\r\nHost: x\r\n" + chunked + "\r\n", 401},
      {"PUT /api/v1/nodes/n1/groups HTTP/1.1\r\nHost: x\r\n" + viewer + length + "\r\n", 403},
      {"POST /api/v1/no-such-route HTTP/1.1\r\nHost: x\r\n" + length + "\r\n", 404},
  };
  for (const auto& [head, expected] : cases) {
    RawConnection c(server_->port);
    ASSERT_TRUE(c.send(head));
    const std::string r = c.read(1s);
    EXPECT_EQ(RawConnection::status_of(r), expected)
        << "request " << ::testing::PrintToString(head.substr(0, 120)) << " got " << r.substr(0, 200);
  }
  // Seeded random token bytes (no CR/LF): refused from the headers, never a 5xx.
  std::mt19937 rng(1717);
  for (int i = 0; i < 200; ++i) {
    std::string token(1 + rng() % 120, ' ');
    for (auto& ch : token) {
      do ch = static_cast<char>(rng() % 256);
      while (ch == '\r' || ch == '\n');
    }
    RawConnection c(server_->port);
    ASSERT_TRUE(
        c.send("POST /api/v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\n" + length + "\r\n"));
    const std::string r = c.read(1s);
    const int status = RawConnection::status_of(r);
    EXPECT_TRUE(status == 400 || status == 401)
        << "token " << ::testing::PrintToString(token) << " got " << r.substr(0, 200);
  }
  expect_still_serving();
}

TEST_F(BadInputTest, HugeRequestsAreRefusedWithoutReadingThemWhole) {
  EXPECT_EQ(send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(100'000, 'a') + "\r\n\r\n"), 431);
  EXPECT_EQ(send_raw("GET /" + std::string(100'000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n"), 431);
  std::string many = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 2000; ++i) many += "X-" + std::to_string(i) + ": y\r\n";
  EXPECT_EQ(send_raw(many + "\r\n"), 431);
  EXPECT_EQ(send_raw("POST /api/v1/models HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n\r\nabc"), 413);
  fleet::ApiClient op(server_->url(), kOperatorToken, 5s);
  EXPECT_EQ(op.request("POST", "/api/v1/models", std::string(65 * 1024, 'x'), "application/octet-stream").status, 413);
  expect_still_serving();
}

TEST_F(BadInputTest, BadJsonBodiesAre400) {
  fleet::ApiClient op(server_->url(), kOperatorToken, 5s);
  const std::vector<std::string> bodies = {
      "",    "{",        "[]",   "null", "\"groups\"", "{\"groups\":", "{\"groups\":[1,2]}", "{\"groups\":{}}",
      "{\"groups\":[\"" + std::string(200, 'a') + "\"]}", "{\"groups\":[\"\\u0000\"]}", "{\"groups\":[\"\xff\xfe\"]}",
      std::string(5000, '[') + std::string(5000, ']'), "{\"groups\":[" + std::string(40, '1') + "]}",
  };
  for (const auto& b : bodies) {
    auto r = op.request("PUT", "/api/v1/nodes/node-001/groups", b);
    EXPECT_EQ(r.status, 400) << "body " << ::testing::PrintToString(b.substr(0, 60)) << " got " << r.body;
  }
  for (const auto& b : {std::string("{"), std::string("[1]"), std::string("{\"rollback\": \"yes\"}")}) {
    auto r = op.request("POST", "/api/v1/rollouts/1/abort", b);
    EXPECT_GE(r.status, 400);
    EXPECT_LT(r.status, 500);
  }
  expect_still_serving();
}

TEST_F(BadInputTest, WrongTokensAre401AndViewersCannotWrite) {
  const std::vector<std::string> headers = {
      "",
      "Authorization: Bearer wrong\r\n",
      "Authorization: Bearer " + kViewerToken + "x\r\n",
      "Authorization: Bearer " + kViewerToken.substr(1) + "\r\n",
      "Authorization: Basic dXNlcjpwYXNz\r\n",
      "Authorization: Bearer\r\n",
      "Authorization: Bearer " + to_hex(sha256(kOperatorToken)) + "\r\n",
      "Authorization: Bearer " + std::string(6000, 'x') + "\r\n",
      "Authorization: " + kViewerToken + "\r\n",
  };
  for (const auto& h : headers) {
    EXPECT_EQ(send_raw("GET /api/v1/events HTTP/1.1\r\nHost: x\r\n" + h + "\r\n"), 401) << h.substr(0, 80);
  }
  EXPECT_EQ(send_raw("PUT /api/v1/nodes/node-001/groups HTTP/1.1\r\nHost: x\r\n" + kAuth +
                     "Content-Type: application/json\r\nContent-Length: 14\r\n\r\n{\"groups\":[]}\n"),
            403);
  EXPECT_EQ(send_raw("POST /api/v1/rollouts/1/pause HTTP/1.1\r\nHost: x\r\n" + kAuth + "Content-Length: 0\r\n\r\n"),
            403);
  expect_still_serving();
}

TEST_F(BadInputTest, PathTraversalFindsNothing) {
  for (const char* path : {"/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc%2fpasswd",
                           "/web/../../etc/passwd", "/index.html%00.js", "//etc/passwd", "/\\..\\..\\etc\\passwd",
                           "/%252e%252e/etc/passwd", "/api/v1/nodes/..%2f..%2fetc", "/api/v1/nodes/%2e%2e",
                           "/app.js/../../../etc/passwd", "/.git/config", "/etc/passwd"}) {
    std::string response;
    const int status = send_raw(std::string("GET ") + path + " HTTP/1.1\r\nHost: x\r\n" + kAuth + "\r\n", &response);
    EXPECT_GE(status, 400) << path;
    EXPECT_LT(status, 500) << path;
    EXPECT_EQ(response.find("root:"), std::string::npos) << path;
  }
  expect_still_serving();
}

TEST_F(BadInputTest, SeededRandomMutationsNeverBreakTheServer) {
  const std::vector<std::string> seeds = {
      "GET /api/v1/events?node=node-001&limit=5&min_score=10 HTTP/1.1\r\nHost: x\r\n" + kAuth + "\r\n",
      "PUT /api/v1/nodes/node-002/groups HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kOperatorToken +
          "\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{\"groups\":[\"lab\"]}  ",
      "GET /api/v1/stats/labels?window=1h&group=g1 HTTP/1.1\r\nHost: x\r\n" + kAuth + "\r\n",
  };
  std::mt19937 rng(1234);
  int answered = 0, client_errors = 0;
  for (int i = 0; i < 300; ++i) {
    std::string req = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t pos = rng() % req.size();
      switch (rng() % 4) {
        case 0: req[pos] = static_cast<char>(rng() % 256); break;
        case 1: req.insert(pos, 1, "%\0\r\n/.?&=:\xff"[rng() % 11]); break;
        case 2: req.erase(pos, 1 + rng() % 8); break;
        case 3: req.insert(pos, std::string(rng() % 64, static_cast<char>('A' + rng() % 26))); break;
      }
    }
    std::string response;
    const int status = send_raw(req, &response);
    if (status) ++answered;
    if (status >= 400 && status < 500) ++client_errors;
    ASSERT_TRUE(status == 0 || status < 500) << "mutation " << ::testing::PrintToString(req) << " got " << response;
    if (i % 50 == 49) expect_still_serving();
  }
  EXPECT_GT(answered, 250) << "most mutated requests must get an answer, not a silent close";
  EXPECT_GT(client_errors, 100);
  expect_still_serving();
}

}  // namespace
}  // namespace tinyedge::dashboard
