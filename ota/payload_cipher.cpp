#include "ota/payload_cipher.h"

#include <mbedtls/aes.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>

#include "ota/crypto_heap.h"
#include "ota/hmac_sha256.h"
#include "ota/sha256.h"

namespace tinyedge::ota {
namespace {

constexpr char kWrapInfo[] = "tinyedge ota content key v1";

template <size_t N>
void wipe(std::array<uint8_t, N>& bytes) {
  volatile uint8_t* p = bytes.data();
  for (size_t i = 0; i < N; ++i) p[i] = 0;
}

// Blinding values for the scalar multiplication: HMAC-SHA256 under the scalar over the peer point
// and a counter, so they are as secret as the scalar and differ for every peer.
struct Blinding {
  std::span<const uint8_t> scalar;
  std::span<const uint8_t> peer;
  uint32_t counter = 0;
};

int blinding_bytes(void* state, unsigned char* out, size_t length) {
  auto& blinding = *static_cast<Blinding*>(state);
  while (length > 0) {
    HmacSha256 mac(blinding.scalar);
    mac.update(blinding.peer);
    const uint8_t counter[4] = {static_cast<uint8_t>(blinding.counter >> 24),
                                static_cast<uint8_t>(blinding.counter >> 16),
                                static_cast<uint8_t>(blinding.counter >> 8), static_cast<uint8_t>(blinding.counter)};
    ++blinding.counter;
    mac.update(counter);
    Digest block = mac.finish();
    const size_t take = length < block.size() ? length : block.size();
    for (size_t i = 0; i < take; ++i) out[i] = block[i];
    wipe(block);
    out += take;
    length -= take;
  }
  return 0;
}

// Owns the Mbed TLS objects so every return path frees them (their bignums live on the crypto heap).
class EcdhContext {
 public:
  EcdhContext() {
    mbedtls_ecp_group_init(&group);
    mbedtls_ecp_point_init(&peer);
    mbedtls_ecp_point_init(&product);
    mbedtls_mpi_init(&scalar);
  }
  ~EcdhContext() {
    mbedtls_mpi_free(&scalar);
    mbedtls_ecp_point_free(&product);
    mbedtls_ecp_point_free(&peer);
    mbedtls_ecp_group_free(&group);
  }
  EcdhContext(const EcdhContext&) = delete;
  EcdhContext& operator=(const EcdhContext&) = delete;

  mbedtls_ecp_group group;
  mbedtls_ecp_point peer, product;
  mbedtls_mpi scalar;
};

// HKDF-Expand's blocks T(1), T(2) for 48 bytes of output.
Digest expand_block(const Digest& prk, std::span<const uint8_t> previous, std::span<const uint8_t> ephemeral_public,
                    std::span<const uint8_t> key_id, uint8_t index) {
  HmacSha256 mac(prk);
  mac.update(previous);
  mac.update(std::span(reinterpret_cast<const uint8_t*>(kWrapInfo), sizeof(kWrapInfo) - 1));
  mac.update(ephemeral_public);
  mac.update(key_id);
  mac.update(std::span(&index, 1));
  return mac.finish();
}

}  // namespace

bool ecdh_p256(std::span<const uint8_t, kPrivateScalarBytes> scalar, std::span<const uint8_t> peer,
               SharedSecret& shared) {
  if (peer.size() != kPublicKeyBytes) return false;
  crypto_heap_init();
  EcdhContext ecdh;
  Blinding blinding{scalar, peer};
  return mbedtls_ecp_group_load(&ecdh.group, MBEDTLS_ECP_DP_SECP256R1) == 0 &&
         mbedtls_ecp_point_read_binary(&ecdh.group, &ecdh.peer, peer.data(), peer.size()) == 0 &&
         mbedtls_ecp_check_pubkey(&ecdh.group, &ecdh.peer) == 0 &&
         mbedtls_mpi_read_binary(&ecdh.scalar, scalar.data(), scalar.size()) == 0 &&
         mbedtls_ecp_check_privkey(&ecdh.group, &ecdh.scalar) == 0 &&
         mbedtls_ecp_mul(&ecdh.group, &ecdh.product, &ecdh.scalar, &ecdh.peer, blinding_bytes, &blinding) == 0 &&
         mbedtls_mpi_write_binary(&ecdh.product.X, shared.data(), shared.size()) == 0;
}

WrapKeys derive_wrap_keys(const SharedSecret& shared, std::span<const uint8_t> ephemeral_public,
                          std::span<const uint8_t> encryption_key_id) {
  // Extract with no salt: HMAC under HashLen zero bytes.
  const uint8_t zero_salt[kDigestBytes] = {};
  HmacSha256 extract(zero_salt);
  extract.update(shared);
  Digest prk = extract.finish();
  Digest first = expand_block(prk, {}, ephemeral_public, encryption_key_id, 1);
  Digest second = expand_block(prk, first, ephemeral_public, encryption_key_id, 2);
  WrapKeys keys;
  for (size_t i = 0; i < keys.kek.size(); ++i) keys.kek[i] = first[i];
  for (size_t i = 0; i < keys.mac.size(); ++i) {
    const size_t at = keys.kek.size() + i;
    keys.mac[i] = at < first.size() ? first[at] : second[at - first.size()];
  }
  wipe(prk);
  wipe(first);
  wipe(second);
  return keys;
}

void ctr_xor(std::span<const uint8_t, kContentKeyBytes> key, uint32_t offset, std::span<uint8_t> bytes) {
  mbedtls_aes_context aes;
  mbedtls_aes_init(&aes);
  (void)mbedtls_aes_setkey_enc(&aes, key.data(), 128);  // fails only for another key length
  uint32_t counter = offset / kCipherBlockBytes;
  for (size_t at = 0; at < bytes.size(); at += kCipherBlockBytes, ++counter) {
    // The content key is fresh for every package, so a zero nonce with the block index never repeats.
    uint8_t block[kCipherBlockBytes] = {};
    block[12] = static_cast<uint8_t>(counter >> 24);
    block[13] = static_cast<uint8_t>(counter >> 16);
    block[14] = static_cast<uint8_t>(counter >> 8);
    block[15] = static_cast<uint8_t>(counter);
    uint8_t stream[kCipherBlockBytes];
    (void)mbedtls_aes_crypt_ecb(&aes, MBEDTLS_AES_ENCRYPT, block, stream);
    const size_t take = bytes.size() - at < kCipherBlockBytes ? bytes.size() - at : kCipherBlockBytes;
    for (size_t i = 0; i < take; ++i) bytes[at + i] ^= stream[i];
  }
  mbedtls_aes_free(&aes);  // zeroizes the key schedule
}

Reason unwrap_content_key(const DecryptionKey* key, const Manifest& manifest, ContentKey& out) {
  const std::span<const uint8_t> key_id(manifest.encryption_key_id.bytes, manifest.encryption_key_id.size);
  const std::span<const uint8_t> ephemeral(manifest.ephemeral_public.bytes, manifest.ephemeral_public.size);
  const std::span<const uint8_t> wrapped(manifest.wrapped_key.bytes, manifest.wrapped_key.size);
  if (key_id.size() != kKeyIdBytes || ephemeral.size() != kPublicKeyBytes || wrapped.size() != kWrappedKeyBytes)
    return Reason::kBadManifest;
  if (key == nullptr || !digest_equal(key->id, key_id)) return Reason::kNotForThisKey;
  SharedSecret shared{};
  if (!ecdh_p256(key->scalar, ephemeral, shared)) return Reason::kNotForThisKey;
  WrapKeys keys = derive_wrap_keys(shared, ephemeral, key_id);
  wipe(shared);
  HmacSha256 mac(keys.mac);
  mac.update(wrapped.first(kContentKeyBytes));
  const Digest tag = mac.finish();
  if (!digest_equal(tag, wrapped.subspan(kContentKeyBytes))) {
    wipe(keys.kek);
    wipe(keys.mac);
    return Reason::kNotForThisKey;
  }
  for (size_t i = 0; i < out.size(); ++i) out[i] = wrapped[i];
  ctr_xor(keys.kek, 0, out);
  wipe(keys.kek);
  wipe(keys.mac);
  return Reason::kOk;
}

}  // namespace tinyedge::ota
