#include "deploy/fleet/api_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>

namespace tinyedge::fleet {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct ApiClient::Impl {
  std::string host, port, prefix, token;
  std::chrono::milliseconds timeout;
  asio::io_context io;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  void connect() {
    stream.emplace(io);
    tcp::resolver resolver(io);
    stream->expires_after(timeout);
    beast::error_code ec;
    auto results = resolver.resolve(host, port, ec);
    if (ec) throw ApiError("cannot resolve gateway host '" + host + "': " + ec.message());
    stream->connect(results, ec);
    if (ec) throw ApiError("cannot connect to the gateway at " + host + ":" + port + ": " + ec.message());
    buffer.clear();
  }
};

std::string HttpResponse::header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (beast::iequals(k, name)) return v;
  return "";
}

ApiClient::ApiClient(const std::string& base_url, std::string token, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  const std::string scheme = "http://";
  if (base_url.rfind(scheme, 0) != 0)
    throw ApiError("gateway URL must start with http:// (got '" + base_url + "')");
  std::string rest = base_url.substr(scheme.size());
  const size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  impl_->prefix = slash == std::string::npos ? "" : rest.substr(slash);
  while (!impl_->prefix.empty() && impl_->prefix.back() == '/') impl_->prefix.pop_back();
  const size_t colon = authority.rfind(':');
  if (colon == std::string::npos) {
    impl_->host = authority;
    impl_->port = "80";
  } else {
    impl_->host = authority.substr(0, colon);
    impl_->port = authority.substr(colon + 1);
  }
  if (impl_->host.empty() || impl_->port.empty() ||
      impl_->port.find_first_not_of("0123456789") != std::string::npos)
    throw ApiError("gateway URL '" + base_url + "' needs a host and a numeric port");
  impl_->token = std::move(token);
  impl_->timeout = timeout;
}

ApiClient::~ApiClient() = default;
ApiClient::ApiClient(ApiClient&&) noexcept = default;
ApiClient& ApiClient::operator=(ApiClient&&) noexcept = default;

HttpResponse ApiClient::request(const std::string& method, const std::string& target, const std::string& body,
                                const std::string& content_type) {
  http::request<http::string_body> req;
  req.method(http::string_to_verb(method));
  if (req.method() == http::verb::unknown) throw ApiError("unknown HTTP method " + method);
  req.target(impl_->prefix + target);
  req.version(11);
  req.set(http::field::host, impl_->host + ":" + impl_->port);
  req.set(http::field::user_agent, "tinyedge-cli");
  req.keep_alive(true);
  if (!impl_->token.empty()) req.set(http::field::authorization, "Bearer " + impl_->token);
  if (!body.empty() || method == "POST" || method == "PUT") {
    req.set(http::field::content_type, content_type);
    req.body() = body;
  }
  req.prepare_payload();

  // A kept-alive connection may have been closed by the server since the last call: retry once.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool fresh = !impl_->stream;
    if (fresh) impl_->connect();
    beast::error_code ec;
    impl_->stream->expires_after(impl_->timeout);
    http::write(*impl_->stream, req, ec);
    http::response_parser<http::string_body> parser;
    parser.body_limit(256 * 1024 * 1024);
    if (!ec) http::read(*impl_->stream, impl_->buffer, parser, ec);
    if (ec) {
      impl_->stream.reset();
      if (!fresh && (ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
                     ec == asio::error::broken_pipe || ec == asio::error::eof))
        continue;
      throw ApiError("request " + method + " " + target + " failed: " + ec.message());
    }
    auto res = parser.release();
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    out.content_type = std::string(res[http::field::content_type]);
    for (const auto& f : res) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    out.body = std::move(res.body());
    if (!res.keep_alive()) impl_->stream.reset();
    return out;
  }
  throw ApiError("request " + method + " " + target + " failed: connection closed by the gateway");
}

const HttpResponse& ApiClient::check(const HttpResponse& r) {
  if (r.status >= 200 && r.status < 300) return r;
  std::string message = r.body;
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_discarded() && j.contains("error") && j["error"].contains("message"))
    message = j["error"]["message"].get<std::string>();
  std::string hint;
  if (r.status == 401) hint = " (set --token or TINYEDGE_TOKEN)";
  throw ApiError("gateway answered " + std::to_string(r.status) + ": " + message + hint);
}

std::string ApiClient::query(const std::vector<std::pair<std::string, std::string>>& params) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const auto& [k, v] : params) {
    out += out.empty() ? '?' : '&';
    for (const std::string* s : {&k, &v}) {
      for (unsigned char c : *s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':') {
          out.push_back(static_cast<char>(c));
        } else {
          out.push_back('%');
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
        }
      }
      if (s == &k) out.push_back('=');
    }
  }
  return out;
}

std::string ApiClient::gateway_from_env(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* e = std::getenv("TINYEDGE_GATEWAY"); e && *e) return e;
  return "http://127.0.0.1:8080";
}

std::string ApiClient::token_from_env(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* e = std::getenv("TINYEDGE_TOKEN"); e && *e) return e;
  return "";
}

}  // namespace tinyedge::fleet
