#include "gateway/bearer/endpoint.h"

#include <charconv>

namespace tinyedge::gateway {
namespace {

bool parse_number(std::string_view text, uint32_t max, uint32_t& out) {
  const auto r = std::from_chars(text.data(), text.data() + text.size(), out);
  return r.ec == std::errc() && r.ptr == text.data() + text.size() && out <= max;
}

}  // namespace

std::optional<Endpoint> parse_endpoint(std::string_view text, std::string& error) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    error = "endpoint '" + std::string(text) + "' has no kind (tcp-listen:, tcp-connect:, unix-listen:, ...)";
    return std::nullopt;
  }
  const std::string_view kind = text.substr(0, colon);
  const std::string_view rest = text.substr(colon + 1);
  Endpoint endpoint{Endpoint::Kind::kSerial, {}, 0, 115200, std::string(text)};
  if (kind == "tcp-listen" || kind == "tcp-connect") {
    endpoint.kind = kind == "tcp-listen" ? Endpoint::Kind::kTcpListen : Endpoint::Kind::kTcpConnect;
    const size_t last = rest.rfind(':');
    uint32_t port = 0;
    if (last == std::string_view::npos || last == 0 || !parse_number(rest.substr(last + 1), 65535, port)) {
      error = "endpoint '" + std::string(text) + "' needs HOST:PORT with a port 0..65535";
      return std::nullopt;
    }
    endpoint.host_or_path = std::string(rest.substr(0, last));
    endpoint.port = static_cast<uint16_t>(port);
    if (endpoint.kind == Endpoint::Kind::kTcpConnect && port == 0) {
      error = "endpoint '" + std::string(text) + "': cannot connect to port 0";
      return std::nullopt;
    }
  } else if (kind == "unix-listen" || kind == "unix-connect") {
    endpoint.kind = kind == "unix-listen" ? Endpoint::Kind::kUnixListen : Endpoint::Kind::kUnixConnect;
    if (rest.empty()) {
      error = "endpoint '" + std::string(text) + "' needs a socket path";
      return std::nullopt;
    }
    endpoint.host_or_path = std::string(rest);
  } else if (kind == "serial") {
    const size_t at = rest.rfind('@');
    endpoint.host_or_path = std::string(rest.substr(0, at));
    if (at != std::string_view::npos && !parse_number(rest.substr(at + 1), 4000000, endpoint.baud)) {
      error = "endpoint '" + std::string(text) + "' has a bad baud rate";
      return std::nullopt;
    }
    if (endpoint.host_or_path.empty()) {
      error = "endpoint '" + std::string(text) + "' needs a device path";
      return std::nullopt;
    }
  } else {
    error = "endpoint kind '" + std::string(kind) + "' is not tcp-listen, tcp-connect, unix-listen, unix-connect or serial";
    return std::nullopt;
  }
  return endpoint;
}

}  // namespace tinyedge::gateway
