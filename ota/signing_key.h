// Host side: the fleet's ECDSA P-256 signing key (Mbed TLS pk), PEM in and out, and signing.
#pragma once
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "ota/keys.h"
#include "ota/sha256.h"

namespace tinyedge::ota {

class KeyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class SigningKey {
 public:
  static SigningKey generate();
  static SigningKey from_pem(const std::string& pem);  // throws KeyError naming the problem

  SigningKey(SigningKey&&) noexcept;
  SigningKey& operator=(SigningKey&&) noexcept;
  ~SigningKey();

  std::string private_pem() const;
  std::string public_pem() const;
  PublicKey public_point() const;
  KeyId key_id() const { return key_id_of(public_point()); }

  // DER-encoded ECDSA signature over a SHA-256 digest.
  std::vector<uint8_t> sign(const Digest& digest) const;

 private:
  struct Impl;
  explicit SigningKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Parses a PEM public key (as written by public_pem()); throws KeyError unless it is P-256.
TrustedKey public_key_from_pem(const std::string& pem);
std::string public_key_to_pem(const PublicKey& point);

std::string key_id_hex(const KeyId& id);

}  // namespace tinyedge::ota
