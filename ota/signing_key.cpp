#include "ota/signing_key.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/pk.h>

#include <algorithm>
#include <cstdio>

namespace tinyedge::ota {
namespace {

std::string mbedtls_message(int code) {
  char text[128];
  mbedtls_strerror(code, text, sizeof(text));
  return text;
}

// A seeded DRBG for key generation and signature blinding (signatures themselves are
// deterministic, RFC 6979, in Debian's build).
class Random {
 public:
  Random() {
    mbedtls_entropy_init(&entropy_);
    mbedtls_ctr_drbg_init(&drbg_);
    static const char kPersonalisation[] = "tinyedge-ota";
    const int rc = mbedtls_ctr_drbg_seed(&drbg_, mbedtls_entropy_func, &entropy_,
                                         reinterpret_cast<const unsigned char*>(kPersonalisation),
                                         sizeof(kPersonalisation) - 1);
    if (rc != 0) throw KeyError("cannot seed random generator: " + mbedtls_message(rc));
  }
  ~Random() {
    mbedtls_ctr_drbg_free(&drbg_);
    mbedtls_entropy_free(&entropy_);
  }
  Random(const Random&) = delete;
  Random& operator=(const Random&) = delete;
  mbedtls_ctr_drbg_context* drbg() { return &drbg_; }

 private:
  mbedtls_entropy_context entropy_;
  mbedtls_ctr_drbg_context drbg_;
};

struct PkContext {
  PkContext() { mbedtls_pk_init(&pk); }
  ~PkContext() { mbedtls_pk_free(&pk); }
  PkContext(const PkContext&) = delete;
  PkContext& operator=(const PkContext&) = delete;
  mbedtls_pk_context pk;
};

void require_p256(const mbedtls_pk_context& pk, const char* what) {
  if (mbedtls_pk_get_type(&pk) != MBEDTLS_PK_ECKEY) throw KeyError(std::string(what) + " is not an EC key");
  if (mbedtls_pk_ec(pk)->grp.id != MBEDTLS_ECP_DP_SECP256R1)
    throw KeyError(std::string(what) + " is not on curve P-256");
}

PublicKey point_of(const mbedtls_pk_context& pk) {
  const mbedtls_ecp_keypair* ec = mbedtls_pk_ec(pk);
  PublicKey point{};
  size_t length = 0;
  const int rc = mbedtls_ecp_point_write_binary(&ec->grp, &ec->Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &length,
                                                point.data(), point.size());
  if (rc != 0 || length != point.size()) throw KeyError("cannot export public key: " + mbedtls_message(rc));
  return point;
}

std::string write_pem(const mbedtls_pk_context& pk, bool private_key) {
  std::vector<unsigned char> buffer(4096);
  auto* ctx = const_cast<mbedtls_pk_context*>(&pk);  // Mbed TLS 2.x writers take non-const
  const int rc = private_key ? mbedtls_pk_write_key_pem(ctx, buffer.data(), buffer.size())
                             : mbedtls_pk_write_pubkey_pem(ctx, buffer.data(), buffer.size());
  if (rc != 0) throw KeyError("cannot write PEM: " + mbedtls_message(rc));
  return std::string(reinterpret_cast<const char*>(buffer.data()));
}

}  // namespace

struct SigningKey::Impl {
  PkContext context;
};

SigningKey::SigningKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SigningKey::SigningKey(SigningKey&&) noexcept = default;
SigningKey& SigningKey::operator=(SigningKey&&) noexcept = default;
SigningKey::~SigningKey() = default;

SigningKey SigningKey::generate() {
  auto impl = std::make_unique<Impl>();
  mbedtls_pk_context& pk = impl->context.pk;
  int rc = mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
  if (rc != 0) throw KeyError("cannot set up key: " + mbedtls_message(rc));
  Random random;
  rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(pk), mbedtls_ctr_drbg_random, random.drbg());
  if (rc != 0) throw KeyError("cannot generate key: " + mbedtls_message(rc));
  return SigningKey(std::move(impl));
}

SigningKey SigningKey::from_pem(const std::string& pem) {
  auto impl = std::make_unique<Impl>();
  // The parser wants the terminating NUL counted for PEM input.
  const int rc = mbedtls_pk_parse_key(&impl->context.pk, reinterpret_cast<const unsigned char*>(pem.c_str()),
                                      pem.size() + 1, nullptr, 0);
  if (rc != 0) throw KeyError("not a private key in PEM: " + mbedtls_message(rc));
  require_p256(impl->context.pk, "private key");
  return SigningKey(std::move(impl));
}

std::string SigningKey::private_pem() const { return write_pem(impl_->context.pk, true); }
std::string SigningKey::public_pem() const { return write_pem(impl_->context.pk, false); }
PublicKey SigningKey::public_point() const { return point_of(impl_->context.pk); }

std::vector<uint8_t> SigningKey::sign(const Digest& digest) const {
  Random random;
  std::vector<uint8_t> signature(MBEDTLS_ECDSA_MAX_LEN);
  size_t length = 0;
  const int rc = mbedtls_pk_sign(&impl_->context.pk, MBEDTLS_MD_SHA256, digest.data(), digest.size(),
                                 signature.data(), &length, mbedtls_ctr_drbg_random, random.drbg());
  if (rc != 0) throw KeyError("signing failed: " + mbedtls_message(rc));
  signature.resize(length);
  return signature;
}

std::array<uint8_t, 32> SigningKey::private_scalar() const {
  std::array<uint8_t, 32> scalar{};
  const int rc = mbedtls_mpi_write_binary(&mbedtls_pk_ec(impl_->context.pk)->d, scalar.data(), scalar.size());
  if (rc != 0) throw KeyError("cannot export private key: " + mbedtls_message(rc));
  return scalar;
}

DecryptionKey decryption_key_from_pem(const std::string& pem) {
  const SigningKey key = SigningKey::from_pem(pem);
  DecryptionKey decryption;
  decryption.scalar = key.private_scalar();
  decryption.id = key.key_id();
  return decryption;
}

DecryptionKey decryption_key_from_scalar(std::span<const uint8_t, kPrivateScalarBytes> scalar) {
  mbedtls_ecp_keypair pair;
  mbedtls_ecp_keypair_init(&pair);
  Random random;
  int rc = mbedtls_ecp_group_load(&pair.grp, MBEDTLS_ECP_DP_SECP256R1);
  if (rc == 0) rc = mbedtls_mpi_read_binary(&pair.d, scalar.data(), scalar.size());
  if (rc == 0) rc = mbedtls_ecp_check_privkey(&pair.grp, &pair.d);
  if (rc == 0) rc = mbedtls_ecp_mul(&pair.grp, &pair.Q, &pair.d, &pair.grp.G, mbedtls_ctr_drbg_random, random.drbg());
  PublicKey point{};
  size_t length = 0;
  if (rc == 0) {
    rc = mbedtls_ecp_point_write_binary(&pair.grp, &pair.Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &length, point.data(),
                                        point.size());
  }
  mbedtls_ecp_keypair_free(&pair);
  if (rc != 0) throw KeyError("not a P-256 private key: " + mbedtls_message(rc));
  DecryptionKey decryption;
  std::copy(scalar.begin(), scalar.end(), decryption.scalar.begin());
  decryption.id = make_trusted_key(point).id;
  return decryption;
}

void random_bytes(std::span<uint8_t> out) {
  Random random;
  const int rc = mbedtls_ctr_drbg_random(random.drbg(), out.data(), out.size());
  if (rc != 0) throw KeyError("random generator failed: " + mbedtls_message(rc));
}

TrustedKey public_key_from_pem(const std::string& pem) {
  PkContext context;
  const int rc = mbedtls_pk_parse_public_key(&context.pk, reinterpret_cast<const unsigned char*>(pem.c_str()),
                                             pem.size() + 1);
  if (rc != 0) throw KeyError("not a public key in PEM: " + mbedtls_message(rc));
  require_p256(context.pk, "public key");
  return make_trusted_key(point_of(context.pk));
}

std::string public_key_to_pem(const PublicKey& point) {
  PkContext context;
  int rc = mbedtls_pk_setup(&context.pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
  mbedtls_ecp_keypair* ec = mbedtls_pk_ec(context.pk);
  if (rc == 0) rc = mbedtls_ecp_group_load(&ec->grp, MBEDTLS_ECP_DP_SECP256R1);
  if (rc == 0) rc = mbedtls_ecp_point_read_binary(&ec->grp, &ec->Q, point.data(), point.size());
  if (rc != 0) throw KeyError("not a P-256 point: " + mbedtls_message(rc));
  return write_pem(context.pk, false);
}

std::string key_id_hex(const KeyId& id) {
  std::string hex;
  char byte[3];
  for (uint8_t b : id) {
    std::snprintf(byte, sizeof(byte), "%02x", b);
    hex += byte;
  }
  return hex;
}

}  // namespace tinyedge::ota
