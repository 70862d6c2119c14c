// Host side: a signed package (.tep) = manifest + signature + payload (.tem), and how it is made.
//
// File layout (little-endian):
//   0  "TEP1"                 magic
//   4  u32 manifest length    (≤ tinyedge_v1_Manifest_size)
//   8  u32 signature length   (≤ 72, DER)
//  12  manifest bytes, signature bytes, payload bytes as they travel (length = wire_size_of(manifest):
//      the installed size for PLAIN, the encoded size otherwise), and the file ends exactly there
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "ota/manifest.h"
#include "ota/payload_cipher.h"
#include "ota/sha256.h"
#include "ota/signing_key.h"

namespace tinyedge::ota {

class PackageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Package {
  std::vector<uint8_t> manifest;   // exactly the bytes that were signed
  std::vector<uint8_t> signature;  // DER
  std::vector<uint8_t> payload;    // as on the wire (encoded when the manifest says so)
};

struct PackageSpec {
  uint32_t model_id = 0;
  uint32_t version = 0;
  std::string model_name;
  std::vector<uint8_t> payload;
  std::vector<std::string> hardware;  // empty = any
  uint32_t min_firmware = 0;
  uint32_t arena_bytes = 0;
  std::vector<uint8_t> self_test_input;
  std::optional<Digest> self_test_output_sha256;
  uint64_t created_at = 0;  // 0 = now
  // PAYLOAD_LZ_BLOCKS: compressed on the wire in blocks of wire_block_bytes (ota/block_codec.h);
  // the digest and signature still cover the installed bytes.
  tinyedge_v1_PayloadEncoding encoding = tinyedge_v1_PayloadEncoding_PAYLOAD_PLAIN;
  uint32_t wire_block_bytes = 512;
  // PAYLOAD_LZ_DELTA: the installed bytes of the base model (what nodes on it run); the manifest
  // names their SHA-256, signed.
  std::vector<uint8_t> base;
  // Encrypted for the fleet encryption key with this public point (ota/payload_cipher.h): the wire
  // bytes (after any encoding) are AES-128-CTR under a fresh content key wrapped in the manifest.
  std::optional<PublicKey> encrypt_for;
};

// Builds and signs; throws PackageError if a field does not fit the manifest's bounds or the payload's
// .tem header names another model id or version than the spec.
Package create_package(const PackageSpec& spec, const SigningKey& key);

std::vector<uint8_t> encode_package(const Package& package);
// Structure only (lengths, magic, payload size); throws PackageError naming what is wrong.
Package parse_package(std::span<const uint8_t> bytes);

Package read_package_file(const std::filesystem::path& path);
void write_package_file(const std::filesystem::path& path, const Package& package);

// Decodes the (unverified) manifest of a package, for display; throws PackageError.
Manifest manifest_of(const Package& package);

// The bytes a node installs from this package: the payload itself, or decoded as the manifest's
// encoding says; throws PackageError naming a block that does not decode or an unknown encoding.
// A delta needs `base`, the base model's installed bytes (PackageError if missing or another model);
// an encrypted package needs `decryption`, the fleet's decryption key (PackageError naming the key
// id it is encrypted for when missing or another).
std::vector<uint8_t> installed_payload(const Package& package, std::span<const uint8_t> base = {},
                                       const DecryptionKey* decryption = nullptr);

struct SignedRollbackGrant {
  std::vector<uint8_t> grant;      // encoded RollbackGrant
  std::vector<uint8_t> signature;  // DER over SHA-256(grant)
};

SignedRollbackGrant create_rollback_grant(uint32_t model_id, uint32_t from_version, uint32_t to_version,
                                          const Digest& to_payload_sha256, uint64_t created_at,
                                          const SigningKey& key);

std::vector<uint8_t> read_file(const std::filesystem::path& path);  // throws PackageError
std::string hex(std::span<const uint8_t> bytes);

}  // namespace tinyedge::ota
