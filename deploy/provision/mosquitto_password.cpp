#include "deploy/provision/mosquitto_password.h"

#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>
#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "deploy/command_registry.h"

namespace tinyedge::deploy {
namespace {

void fill_random(uint8_t* data, size_t size) {
  size_t filled = 0;
  while (filled < size) {
    const ssize_t n = ::getrandom(data + filled, size - filled, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw CommandError(std::string("no randomness for a password: ") + std::strerror(errno));
    filled += static_cast<size_t>(n);
  }
}

std::string base64(const uint8_t* data, size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  size_t written = 0;
  if (mbedtls_base64_encode(reinterpret_cast<unsigned char*>(out.data()), out.size(), &written, data, size) != 0) {
    throw std::logic_error("base64 buffer too small");
  }
  out.resize(written);
  return out;
}

bool unbase64(std::string_view text, std::vector<uint8_t>& out) {
  out.assign(text.size(), 0);
  size_t written = 0;
  if (mbedtls_base64_decode(out.data(), out.size(), &written, reinterpret_cast<const unsigned char*>(text.data()),
                            text.size()) != 0) {
    return false;
  }
  out.resize(written);
  return true;
}

std::vector<uint8_t> pbkdf2_sha512(std::string_view password, const uint8_t* salt, size_t salt_size, int iterations) {
  std::vector<uint8_t> hash(64);
  mbedtls_md_context_t md;
  mbedtls_md_init(&md);
  int rc = mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA512), 1);
  if (rc == 0) {
    rc = mbedtls_pkcs5_pbkdf2_hmac(&md, reinterpret_cast<const unsigned char*>(password.data()), password.size(), salt,
                                   salt_size, static_cast<unsigned>(iterations), hash.size(), hash.data());
  }
  mbedtls_md_free(&md);
  if (rc != 0) throw CommandError("PBKDF2-SHA512 failed (Mbed TLS error " + std::to_string(rc) + ")");
  return hash;
}

std::string hash_with(std::string_view password, const uint8_t* salt, size_t salt_size, int iterations) {
  const auto hash = pbkdf2_sha512(password, salt, salt_size, iterations);
  return "$7$" + std::to_string(iterations) + "$" + base64(salt, salt_size) + "$" + base64(hash.data(), hash.size());
}

}  // namespace

std::string mosquitto_password_hash(std::string_view password, const MosquittoSalt& salt, int iterations) {
  return hash_with(password, salt.data(), salt.size(), iterations);
}

std::string mosquitto_password_entry(std::string_view user, std::string_view password) {
  MosquittoSalt salt;
  fill_random(salt.data(), salt.size());
  return std::string(user) + ":" + mosquitto_password_hash(password, salt);
}

bool mosquitto_password_matches(std::string_view hash, std::string_view password) {
  // $7$<iterations>$<salt>$<hash>
  if (hash.substr(0, 3) != "$7$") return false;
  hash.remove_prefix(3);
  const size_t d1 = hash.find('$');
  if (d1 == std::string_view::npos) return false;
  const size_t d2 = hash.find('$', d1 + 1);
  if (d2 == std::string_view::npos) return false;
  int iterations = 0;
  for (char c : hash.substr(0, d1)) {
    if (c < '0' || c > '9' || iterations > 1000000) return false;
    iterations = iterations * 10 + (c - '0');
  }
  std::vector<uint8_t> salt;
  if (iterations <= 0 || !unbase64(hash.substr(d1 + 1, d2 - d1 - 1), salt) || salt.empty()) return false;
  return hash_with(password, salt.data(), salt.size(), iterations).substr(3) == hash;
}

std::string random_mqtt_password() {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::array<uint8_t, 32> bytes;
  fill_random(bytes.data(), bytes.size());
  std::string password;
  for (uint8_t b : bytes) password += kAlphabet[b & 63];  // 64 symbols: 6 unbiased bits each
  return password;
}

}  // namespace tinyedge::deploy
