#include "dashboard_api/auth.h"

#include <mbedtls/sha256.h>

#include <stdexcept>

namespace tinyedge::dashboard {

Sha256 sha256(std::string_view data) {
  Sha256 out{};
  // mbedtls 2.28 spelling; is224 = 0 selects SHA-256.
  mbedtls_sha256_ret(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), 0);
  return out;
}

std::string to_hex(const Sha256& digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(64);
  for (unsigned char b : digest) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 15]);
  }
  return s;
}

std::optional<Sha256> sha256_from_hex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Sha256 out{};
  for (size_t i = 0; i < 32; ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  return out;
}

bool constant_time_equal(const Sha256& a, const Sha256& b) {
  volatile unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff = diff | (a[i] ^ b[i]);
  return diff == 0;
}

std::optional<Role> role_from_string(std::string_view s) {
  if (s == "viewer") return Role::kViewer;
  if (s == "operator") return Role::kOperator;
  return std::nullopt;
}

void TokenTable::add(const std::string& name, const std::string& role, const std::string& sha256_hex) {
  auto r = role_from_string(role);
  if (!r) throw std::invalid_argument("token '" + name + "': role must be viewer or operator, not '" + role + "'");
  auto h = sha256_from_hex(sha256_hex);
  if (!h) throw std::invalid_argument("token '" + name + "': sha256 must be 64 hex digits");
  entries_.push_back(TokenEntry{name, *r, *h});
}

std::optional<TokenEntry> TokenTable::authenticate(std::string_view header) const {
  constexpr std::string_view kScheme = "Bearer ";
  if (header.size() <= kScheme.size() || header.size() > 4096) return std::nullopt;
  // The scheme name is case-insensitive (RFC 9110 11.1).
  for (size_t i = 0; i < kScheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(header[i])) != std::tolower(static_cast<unsigned char>(kScheme[i])))
      return std::nullopt;
  const Sha256 presented = sha256(header.substr(kScheme.size()));
  const TokenEntry* match = nullptr;
  for (const auto& e : entries_)
    if (constant_time_equal(e.hash, presented) && !match) match = &e;
  if (!match) return std::nullopt;
  return *match;
}

}  // namespace tinyedge::dashboard
