#include "ota/package.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>

#include "ota/block_encoder.h"
#include "ota/hmac_sha256.h"
#include "ota/payload_identity.h"
#include "protocol/codec.h"

namespace tinyedge::ota {
namespace {

constexpr uint8_t kMagic[4] = {'T', 'E', 'P', '1'};
constexpr size_t kHeaderBytes = 12;

void put_u32(std::vector<uint8_t>& out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

uint32_t get_u32(std::span<const uint8_t> bytes, size_t at) {
  return static_cast<uint32_t>(bytes[at]) | static_cast<uint32_t>(bytes[at + 1]) << 8 |
         static_cast<uint32_t>(bytes[at + 2]) << 16 | static_cast<uint32_t>(bytes[at + 3]) << 24;
}

template <typename Field>
void copy_bytes(Field& field, std::span<const uint8_t> bytes, const char* what) {
  if (bytes.size() > sizeof(field.bytes))
    throw PackageError(std::string(what) + " is " + std::to_string(bytes.size()) + " bytes, at most " +
                       std::to_string(sizeof(field.bytes)) + " fit in a manifest");
  std::copy(bytes.begin(), bytes.end(), field.bytes);
  field.size = static_cast<pb_size_t>(bytes.size());
}

void copy_string(char* field, size_t capacity, const std::string& text, const char* what) {
  if (text.size() + 1 > capacity)
    throw PackageError(std::string(what) + " '" + text + "' is longer than " + std::to_string(capacity - 1) +
                       " characters");
  std::memcpy(field, text.c_str(), text.size() + 1);
}

uint64_t now_unix() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

template <typename Message>
std::vector<uint8_t> encode(const pb_msgdesc_t* fields, const Message& message, size_t max) {
  std::vector<uint8_t> out(max);
  const auto result = protocol::encode_message(fields, &message, out);
  if (!result.ok) throw PackageError(std::string("cannot encode: ") + result.error);
  out.resize(result.size);
  return out;
}

// ECIES for the fleet (ota/payload_cipher.h): a fresh content key and one-time key pair per
// package; the wrapped key goes into the manifest, the wire bytes are encrypted in place.
void seal(Manifest& manifest, std::vector<uint8_t>& wire, const PublicKey& recipient) {
  const KeyId recipient_id = key_id_of(recipient);
  ContentKey content{};
  random_bytes(content);
  const SigningKey ephemeral = SigningKey::generate();
  const PublicKey ephemeral_point = ephemeral.public_point();
  SharedSecret shared{};
  if (!ecdh_p256(ephemeral.private_scalar(), recipient, shared))
    throw PackageError("the encryption public key is not a valid P-256 point");
  const WrapKeys keys = derive_wrap_keys(shared, ephemeral_point, recipient_id);
  std::array<uint8_t, kWrappedKeyBytes> wrapped{};
  std::copy(content.begin(), content.end(), wrapped.begin());
  ctr_xor(keys.kek, 0, std::span(wrapped).first<kContentKeyBytes>());
  HmacSha256 mac(keys.mac);
  mac.update(std::span(wrapped).first<kContentKeyBytes>());
  const Digest tag = mac.finish();
  std::copy(tag.begin(), tag.end(), wrapped.begin() + kContentKeyBytes);
  copy_bytes(manifest.encryption_key_id, recipient_id, "encryption key id");
  copy_bytes(manifest.ephemeral_public, ephemeral_point, "ephemeral public key");
  copy_bytes(manifest.wrapped_key, wrapped, "wrapped key");
  ctr_xor(content, 0, wire);
}

}  // namespace

Package create_package(const PackageSpec& spec, const SigningKey& key) {
  if (spec.payload.empty()) throw PackageError("model payload is empty");
  if (spec.payload.size() > UINT32_MAX) throw PackageError("model payload is larger than 4 GiB");
  if (spec.version == 0) throw PackageError("version must be at least 1");
  if (spec.hardware.size() > 4) throw PackageError("at most 4 hardware ids fit in a manifest");
  if (spec.self_test_output_sha256.has_value() == spec.self_test_input.empty())
    throw PackageError("a self-test needs both an input and its expected output");
  // Never sign a package whose payload is another model than its manifest says: the node would
  // run one model while the fleet view and the anti-rollback counter track another.
  PayloadIdentity payload;
  if (read_payload_identity(spec.payload, payload) != Reason::kOk)
    throw PackageError("model payload is not a .tem model (no TEM1 header)");
  if (payload.model_id != spec.model_id || payload.version != spec.version)
    throw PackageError("model mismatch: the payload's .tem header says model " + std::to_string(payload.model_id) +
                       " v" + std::to_string(payload.version) + ", the manifest would say model " +
                       std::to_string(spec.model_id) + " v" + std::to_string(spec.version));

  Manifest manifest = tinyedge_v1_Manifest_init_zero;
  manifest.format = kManifestFormat;
  manifest.model_id = spec.model_id;
  manifest.version = spec.version;
  copy_string(manifest.model_name, sizeof(manifest.model_name), spec.model_name, "model name");
  manifest.payload_size = static_cast<uint32_t>(spec.payload.size());
  copy_bytes(manifest.payload_sha256, sha256(spec.payload), "payload digest");
  for (const std::string& hardware : spec.hardware) {
    copy_string(manifest.hardware[manifest.hardware_count++], sizeof(manifest.hardware[0]), hardware, "hardware id");
  }
  manifest.min_firmware = spec.min_firmware;
  manifest.arena_bytes = spec.arena_bytes;
  copy_bytes(manifest.self_test_input, spec.self_test_input, "self-test input");
  if (spec.self_test_output_sha256) copy_bytes(manifest.self_test_output_sha256, *spec.self_test_output_sha256, "");
  copy_bytes(manifest.key_id, key.key_id(), "key id");
  manifest.created_at = spec.created_at != 0 ? spec.created_at : now_unix();
  std::vector<uint8_t> wire;
  if (spec.encoding == tinyedge_v1_PayloadEncoding_PAYLOAD_LZ_BLOCKS) {
    wire = encode_lz_blocks(spec.payload, spec.wire_block_bytes);
    // Checked here as a node would decode it, so a packer bug never reaches a signature.
    if (decode_lz_blocks(wire, spec.wire_block_bytes, manifest.payload_size) != spec.payload)
      throw PackageError("internal: the compressed payload does not decode to the model");
    manifest.encoding = spec.encoding;
    manifest.wire_size = static_cast<uint32_t>(wire.size());
    manifest.wire_block_bytes = spec.wire_block_bytes;
  } else if (spec.encoding == tinyedge_v1_PayloadEncoding_PAYLOAD_LZ_DELTA) {
    wire = encode_delta_blocks(spec.payload, spec.base, spec.wire_block_bytes);
    if (decode_delta_blocks(wire, spec.wire_block_bytes, manifest.payload_size, spec.base) != spec.payload)
      throw PackageError("internal: the delta payload does not decode to the model");
    manifest.encoding = spec.encoding;
    manifest.wire_size = static_cast<uint32_t>(wire.size());
    manifest.wire_block_bytes = spec.wire_block_bytes;
    copy_bytes(manifest.base_sha256, sha256(spec.base), "base SHA-256");
  } else if (spec.encoding != tinyedge_v1_PayloadEncoding_PAYLOAD_PLAIN) {
    throw PackageError("unknown payload encoding " + std::to_string(spec.encoding));
  }

  if (wire.empty()) wire = spec.payload;
  if (spec.encrypt_for) seal(manifest, wire, *spec.encrypt_for);

  Package package;
  package.manifest = encode(tinyedge_v1_Manifest_fields, manifest, kMaxManifestBytes);
  package.signature = key.sign(sha256(package.manifest));
  package.payload = std::move(wire);
  return package;
}

std::vector<uint8_t> encode_package(const Package& package) {
  std::vector<uint8_t> out(kMagic, kMagic + 4);
  put_u32(out, static_cast<uint32_t>(package.manifest.size()));
  put_u32(out, static_cast<uint32_t>(package.signature.size()));
  out.insert(out.end(), package.manifest.begin(), package.manifest.end());
  out.insert(out.end(), package.signature.begin(), package.signature.end());
  out.insert(out.end(), package.payload.begin(), package.payload.end());
  return out;
}

Package parse_package(std::span<const uint8_t> bytes) {
  if (bytes.size() < kHeaderBytes || !std::equal(kMagic, kMagic + 4, bytes.begin()))
    throw PackageError("not a TinyEdge package (missing TEP1 header)");
  const uint32_t manifest_size = get_u32(bytes, 4);
  const uint32_t signature_size = get_u32(bytes, 8);
  if (manifest_size == 0 || manifest_size > kMaxManifestBytes)
    throw PackageError("manifest length " + std::to_string(manifest_size) + " is out of range");
  if (signature_size == 0 || signature_size > 72)
    throw PackageError("signature length " + std::to_string(signature_size) + " is out of range");
  if (bytes.size() < kHeaderBytes + manifest_size + signature_size)
    throw PackageError("package is truncated inside the manifest or signature");
  Package package;
  auto at = bytes.begin() + kHeaderBytes;
  package.manifest.assign(at, at + manifest_size);
  at += manifest_size;
  package.signature.assign(at, at + signature_size);
  at += signature_size;
  package.payload.assign(at, bytes.end());
  Manifest manifest = manifest_of(package);
  if (wire_size_of(manifest) != package.payload.size())
    throw PackageError("payload is " + std::to_string(package.payload.size()) + " bytes but the manifest says " +
                       std::to_string(wire_size_of(manifest)));
  return package;
}

Manifest manifest_of(const Package& package) {
  Manifest manifest;
  if (decode_manifest(package.manifest, manifest) != Reason::kOk) throw PackageError("manifest does not decode");
  return manifest;
}

std::vector<uint8_t> installed_payload(const Package& package, std::span<const uint8_t> base,
                                       const DecryptionKey* decryption) {
  const Manifest manifest = manifest_of(package);
  std::vector<uint8_t> wire = package.payload;
  if (is_encrypted(manifest)) {
    const std::string key_id = hex(std::span(manifest.encryption_key_id.bytes, manifest.encryption_key_id.size));
    if (decryption == nullptr)
      throw PackageError("an encrypted package (for key " + key_id +
                         "): its payload needs the fleet's decryption key (--decryption-key)");
    ContentKey content{};
    const Reason opened = unwrap_content_key(decryption, manifest, content);
    if (opened == Reason::kBadManifest) throw PackageError("the manifest's encryption fields are malformed");
    if (opened != Reason::kOk)
      throw PackageError(hex(decryption->id) == key_id
                             ? "encrypted for key " + key_id + " but its wrapped key does not open with that key"
                             : "encrypted for key " + key_id + ", not for the decryption key given (" +
                                   hex(decryption->id) + ")");
    ctr_xor(content, 0, wire);
  }
  switch (manifest.encoding) {
    case tinyedge_v1_PayloadEncoding_PAYLOAD_PLAIN: return wire;
    case tinyedge_v1_PayloadEncoding_PAYLOAD_LZ_BLOCKS:
      return decode_lz_blocks(wire, manifest.wire_block_bytes, manifest.payload_size);
    case tinyedge_v1_PayloadEncoding_PAYLOAD_LZ_DELTA:
      if (base.empty()) throw PackageError("a delta package: its base model is needed to decode it (--base)");
      if (!digest_equal(sha256(base), std::span(manifest.base_sha256.bytes, manifest.base_sha256.size)))
        throw PackageError("the base given is not this delta's base model (its SHA-256 differs from the manifest's)");
      return decode_delta_blocks(wire, manifest.wire_block_bytes, manifest.payload_size, base);
  }
  throw PackageError("payload encoding " + std::to_string(manifest.encoding) + " is not one this tool knows");
}

std::vector<uint8_t> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw PackageError("cannot open " + path.string());
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw PackageError("cannot read " + path.string());
  return bytes;
}

Package read_package_file(const std::filesystem::path& path) {
  const auto bytes = read_file(path);
  try {
    return parse_package(bytes);
  } catch (const PackageError& e) {
    throw PackageError(path.string() + ": " + e.what());
  }
}

void write_package_file(const std::filesystem::path& path, const Package& package) {
  const auto bytes = encode_package(package);
  // Write beside and rename, so a failed write never leaves a half package under the real name.
  const std::filesystem::path temp = path.string() + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) throw PackageError("cannot create " + temp.string());
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out.flush()) throw PackageError("cannot write " + temp.string());
  }
  std::error_code error;
  std::filesystem::rename(temp, path, error);
  if (error) throw PackageError("cannot rename to " + path.string() + ": " + error.message());
}

SignedRollbackGrant create_rollback_grant(uint32_t model_id, uint32_t from_version, uint32_t to_version,
                                          const Digest& to_payload_sha256, uint64_t created_at,
                                          const SigningKey& key) {
  if (to_version >= from_version) throw PackageError("a rollback grant must go to a lower version");
  RollbackGrant grant = tinyedge_v1_RollbackGrant_init_zero;
  grant.model_id = model_id;
  grant.from_version = from_version;
  grant.to_version = to_version;
  copy_bytes(grant.to_payload_sha256, to_payload_sha256, "payload digest");
  copy_bytes(grant.key_id, key.key_id(), "key id");
  grant.created_at = created_at != 0 ? created_at : now_unix();
  SignedRollbackGrant signed_grant;
  signed_grant.grant = encode(tinyedge_v1_RollbackGrant_fields, grant, kMaxRollbackGrantBytes);
  signed_grant.signature = key.sign(sha256(signed_grant.grant));
  return signed_grant;
}

std::string hex(std::span<const uint8_t> bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

}  // namespace tinyedge::ota
