// ota_verify_footprint: the RAM the node's verify path needs, measured on the host with the same
// trimmed Mbed TLS configuration the Cortex-M4 build uses (ota/mbedtls/tinyedge_mbedtls_config.h)
// and the allocator's statistics on: peak static-heap bytes, and stack bytes touched (the verify
// runs on a thread whose stack is painted first). Prints figures; run it, it asserts nothing timed.
#include <pthread.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include "ota/crypto_heap.h"
#include "ota/verify.h"

namespace {

// A manifest signed by `tinyedge package create` with a throwaway key (test vector, not a secret).
constexpr uint8_t kPublicKey[] = {
    0x04, 0xa4, 0xfc, 0xb4, 0xc6, 0xeb, 0xe5, 0xd3, 0x6c, 0xbd, 0xd3, 0x65, 0x22, 0x0d, 0x76, 0x80,
    0x4a, 0xe1, 0x34, 0xb3, 0xae, 0xd1, 0xeb, 0x8a, 0x5f, 0x96, 0x5d, 0x93, 0x1e, 0x2a, 0xbf, 0x29,
    0x0c, 0xed, 0x0b, 0xc4, 0x64, 0x65, 0xd7, 0xd1, 0xe9, 0x45, 0x5c, 0x6a, 0xcc, 0x2b, 0x68, 0xec,
    0x80, 0xd6, 0x5f, 0x9f, 0xcd, 0x8f, 0xbb, 0x87, 0xb1, 0x8d, 0xf5, 0x4a, 0x44, 0xde, 0xe5, 0xa2,
    0x0f,
};
constexpr uint8_t kManifest[] = {
    0x08, 0x01, 0x10, 0x01, 0x18, 0x09, 0x28, 0xa0, 0x1f, 0x32, 0x20, 0x80, 0xc4, 0xab, 0x14, 0xbb,
    0xb3, 0x40, 0x6d, 0xd1, 0xec, 0x40, 0x46, 0x6f, 0xa2, 0xc5, 0xb9, 0x74, 0xca, 0xe6, 0xc9, 0xb9,
    0x21, 0x64, 0xc0, 0x3b, 0x62, 0x73, 0x0b, 0xe4, 0xbb, 0xd7, 0x09, 0x3a, 0x0a, 0x6d, 0x70, 0x73,
    0x32, 0x2d, 0x61, 0x6e, 0x33, 0x38, 0x36, 0x48, 0x80, 0x40, 0x62, 0x08, 0x35, 0xac, 0x9c, 0x9d,
    0x62, 0xfc, 0x86, 0xf5, 0x68, 0xd4, 0xd1, 0x98, 0xd8, 0x06,
};
constexpr uint8_t kSignature[] = {
    0x30, 0x44, 0x02, 0x20, 0x57, 0x54, 0xe6, 0xbf, 0x19, 0xd4, 0x28, 0x15, 0x3e, 0xd7, 0x5d, 0x23,
    0x1e, 0xcc, 0x61, 0xd2, 0x83, 0xfd, 0x43, 0x68, 0xf0, 0xa7, 0x61, 0x45, 0xbb, 0x9d, 0x07, 0x66,
    0xa3, 0x16, 0x18, 0xd9, 0x02, 0x20, 0x54, 0xd3, 0x02, 0x0d, 0xf6, 0x93, 0xab, 0x22, 0xad, 0xb0,
    0xa9, 0x78, 0xe9, 0x7d, 0x3d, 0x6d, 0xf1, 0xf2, 0x48, 0x12, 0x9b, 0xff, 0x77, 0xbd, 0xea, 0xce,
    0xfa, 0xba, 0x96, 0xe1, 0x99, 0x5b,
};

constexpr size_t kStackBytes = 256 * 1024;
constexpr uint8_t kPaint = 0xA5;

struct Run {
  tinyedge::ota::Reason good = tinyedge::ota::Reason::kBadManifest;
  tinyedge::ota::Reason flipped = tinyedge::ota::Reason::kOk;
  double ms = 0;
};

void* verify_both(void* arg) {
  auto* run = static_cast<Run*>(arg);
  tinyedge::ota::PublicKey point;
  std::memcpy(point.data(), kPublicKey, point.size());
  const tinyedge::ota::TrustedKey key = tinyedge::ota::make_trusted_key(point);
  static tinyedge::ota::Manifest manifest;  // static: a node keeps it in its client object
  const auto start = std::chrono::steady_clock::now();
  run->good = tinyedge::ota::verify_manifest(std::span(&key, 1), kManifest, kSignature, manifest);
  run->ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  uint8_t bad[sizeof(kSignature)];
  std::memcpy(bad, kSignature, sizeof(bad));
  bad[sizeof(bad) - 1] ^= 1;
  run->flipped = tinyedge::ota::verify_manifest(std::span(&key, 1), kManifest, bad, manifest);
  return nullptr;
}

}  // namespace

int main() {
  std::vector<uint8_t> stack(kStackBytes, kPaint);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstack(&attr, stack.data(), stack.size());
  Run run;
  pthread_t thread;
  if (pthread_create(&thread, &attr, verify_both, &run) != 0) return 2;
  pthread_join(thread, nullptr);
  size_t untouched = 0;
  while (untouched < stack.size() && stack[untouched] == kPaint) ++untouched;  // stacks grow down
  if (run.good != tinyedge::ota::Reason::kOk || run.flipped != tinyedge::ota::Reason::kBadSignature) {
    std::printf("verify gave %s / %s: measurement invalid\n", tinyedge::ota::to_string(run.good),
                tinyedge::ota::to_string(run.flipped));
    return 1;
  }
  std::printf("ECDSA P-256 manifest verify (trimmed Mbed TLS, host %zu-bit limbs):\n", sizeof(void*) * 8);
  const size_t used = tinyedge::ota::crypto_heap_high_water(), blocks = tinyedge::ota::crypto_heap_peak_blocks();
  std::printf("  crypto heap peak   %zu bytes in %zu blocks; with 8-word headers: %zu bytes here, %zu on a 32-bit MCU"
              " (static buffer %zu)\n",
              used, blocks, used + blocks * 8 * sizeof(void*), used + blocks * 32, tinyedge::ota::crypto_heap_capacity());
  std::printf("  stack touched      %zu bytes (thread incl. its start-up)\n", stack.size() - untouched);
  std::printf("  Manifest struct    %zu bytes (decoded, kept by the client)\n", sizeof(tinyedge::ota::Manifest));
  std::printf("  one verify         %.2f ms on this host\n", run.ms);
  return 0;
}
