// A small synchronous HTTP/1.1 client for the gateway's REST API, shared by the fleet commands
// (`tinyedge nodes|models|logs`), the rollout commands and the tests. One keep-alive connection,
// reopened transparently when the server closed it. Plain http:// on loopback or a LAN; TLS is
// left to a reverse proxy in front of the gateway.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tinyedge::fleet {

struct HttpResponse {
  int status = 0;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string header(const std::string& name) const;  // case-insensitive, "" if absent
};

class ApiError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ApiClient {
 public:
  // base_url: "http://127.0.0.1:8080" (a trailing path prefix is allowed). Throws ApiError if malformed.
  ApiClient(const std::string& base_url, std::string token,
            std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~ApiClient();
  ApiClient(ApiClient&&) noexcept;
  ApiClient& operator=(ApiClient&&) noexcept;

  // `target` is a path with optional query: "/api/v1/events?node=n1". Throws ApiError on network
  // failure; any HTTP status is returned (see check()).
  HttpResponse request(const std::string& method, const std::string& target, const std::string& body = "",
                       const std::string& content_type = "application/json");
  HttpResponse get(const std::string& target) { return request("GET", target); }

  // Throws ApiError with the server's error message if status is not 2xx.
  static const HttpResponse& check(const HttpResponse& r);

  // Query-string building: adds "name=value" percent-encoded.
  static std::string query(const std::vector<std::pair<std::string, std::string>>& params);

  // From flags or the TINYEDGE_GATEWAY / TINYEDGE_TOKEN environment; defaults to http://127.0.0.1:8080.
  static std::string gateway_from_env(const std::string& flag);
  static std::string token_from_env(const std::string& flag);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tinyedge::fleet
