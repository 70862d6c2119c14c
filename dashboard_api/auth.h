// Bearer tokens with roles. The config holds only SHA-256 hashes of tokens, so a leaked config
// file does not leak a credential; a presented token is hashed and compared in constant time
// against every configured hash (no early exit, so timing tells nothing about which matched).
#pragma once
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dashboard_api/api_types.h"

namespace tinyedge::dashboard {

using Sha256 = std::array<unsigned char, 32>;
Sha256 sha256(std::string_view data);
std::string to_hex(const Sha256& digest);
std::optional<Sha256> sha256_from_hex(std::string_view hex);
bool constant_time_equal(const Sha256& a, const Sha256& b);

struct TokenEntry {
  std::string name;  // who holds it, for logs; never the token itself
  Role role = Role::kViewer;
  Sha256 hash{};
};

class TokenTable {
 public:
  // `role` is "viewer" or "operator"; `sha256_hex` is 64 hex digits. Throws std::invalid_argument.
  void add(const std::string& name, const std::string& role, const std::string& sha256_hex);
  void add(TokenEntry entry) { entries_.push_back(std::move(entry)); }
  bool empty() const { return entries_.empty(); }

  // Role for an Authorization header value ("Bearer <token>"), or nullopt if absent/unknown.
  std::optional<TokenEntry> authenticate(std::string_view authorization_header) const;

 private:
  std::vector<TokenEntry> entries_;
};

std::optional<Role> role_from_string(std::string_view s);

}  // namespace tinyedge::dashboard
