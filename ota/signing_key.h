// Host side: a P-256 key pair (Mbed TLS pk), PEM in and out: the fleet's ECDSA signing key, and
// the same kind of pair for the fleet's payload encryption key and a package's one-time ECDH key.
#pragma once
#include <array>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "ota/keys.h"
#include "ota/payload_cipher.h"
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

  // The private scalar (big-endian), for ECDH (ota/payload_cipher.h) and a node's decryption key.
  std::array<uint8_t, 32> private_scalar() const;

 private:
  struct Impl;
  explicit SigningKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Parses a PEM public key (as written by public_pem()); throws KeyError unless it is P-256.
TrustedKey public_key_from_pem(const std::string& pem);
std::string public_key_to_pem(const PublicKey& point);

std::string key_id_hex(const KeyId& id);

// A private key PEM (keys generate --encryption's .key) as a node holds it; throws KeyError.
DecryptionKey decryption_key_from_pem(const std::string& pem);
// The same from the bare scalar (a provisioning blob's decryption_key), its id computed from the
// public point; throws KeyError unless the scalar is a valid P-256 private key.
DecryptionKey decryption_key_from_scalar(std::span<const uint8_t, kPrivateScalarBytes> scalar);

// Bytes from the seeded DRBG (content keys); throws KeyError if it cannot be seeded.
void random_bytes(std::span<uint8_t> out);

}  // namespace tinyedge::ota
