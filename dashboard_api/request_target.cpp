#include "dashboard_api/request_target.h"

namespace tinyedge::dashboard {

std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      const int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi << 4 | lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return std::nullopt;  // NUL, CR/LF, controls
    out.push_back(c);
  }
  return out;
}

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::optional<RequestTarget> parse_request_target(std::string_view target, std::string& why) {
  if (target.empty() || target[0] != '/') {
    why = "request target must be an absolute path";
    return std::nullopt;
  }
  RequestTarget out;
  const size_t q = target.find('?');
  auto path = percent_decode(target.substr(0, q), false);
  if (!path) {
    why = "bad percent escape or control character in path";
    return std::nullopt;
  }
  // Dot segments and backslashes only ever appear in traversal attempts here.
  if (path->find("/../") != std::string::npos || path->find("/./") != std::string::npos ||
      path->ends_with("/..") || path->ends_with("/.") || path->find('\\') != std::string::npos ||
      path->find("//") != std::string::npos) {
    why = "path must not contain dot segments, backslashes or empty segments";
    return std::nullopt;
  }
  out.path = std::move(*path);
  if (q != std::string_view::npos) {
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
      const size_t amp = rest.find('&');
      std::string_view pair = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
      if (pair.empty()) continue;
      const size_t eq = pair.find('=');
      auto key = percent_decode(pair.substr(0, eq), true);
      auto value = percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
      if (!key || !value || key->empty()) {
        why = "bad percent escape, control character or empty name in query string";
        return std::nullopt;
      }
      out.query.emplace_back(std::move(*key), std::move(*value));
    }
  }
  return out;
}

}  // namespace tinyedge::dashboard
