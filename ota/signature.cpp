#include "ota/signature.h"

#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>

#include "ota/crypto_heap.h"

namespace tinyedge::ota {
namespace {

// Owns the Mbed TLS key context so every return path frees it (its bignums live on the crypto heap).
class EcdsaKey {
 public:
  EcdsaKey() { mbedtls_ecdsa_init(&context_); }
  ~EcdsaKey() { mbedtls_ecdsa_free(&context_); }
  EcdsaKey(const EcdsaKey&) = delete;
  EcdsaKey& operator=(const EcdsaKey&) = delete;

  bool load(const PublicKey& point) {
    return mbedtls_ecp_group_load(&context_.grp, MBEDTLS_ECP_DP_SECP256R1) == 0 &&
           mbedtls_ecp_point_read_binary(&context_.grp, &context_.Q, point.data(), point.size()) == 0 &&
           mbedtls_ecp_check_pubkey(&context_.grp, &context_.Q) == 0;
  }
  mbedtls_ecdsa_context* get() { return &context_; }

 private:
  mbedtls_ecdsa_context context_;
};

}  // namespace

bool verify_signature(const TrustedKey& key, const Digest& digest, std::span<const uint8_t> der_signature) {
  if (der_signature.empty() || der_signature.size() > kMaxSignatureBytes) return false;
  crypto_heap_init();
  EcdsaKey ecdsa;
  if (!ecdsa.load(key.point)) return false;
  return mbedtls_ecdsa_read_signature(ecdsa.get(), digest.data(), digest.size(), der_signature.data(),
                                      der_signature.size()) == 0;
}

}  // namespace tinyedge::ota
