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
#include "ota/size/footprint_vector.h"
#include "ota/verify.h"

namespace {

using namespace tinyedge::ota::footprint;

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
  std::printf("  crypto heap peak   %zu bytes in %zu blocks; with 8-word headers: %zu bytes (static buffer %zu)\n"
              "                     (the Cortex-M4 figure: ota_verify_footprint_m4 under qemu)\n",
              used, blocks, used + blocks * 8 * sizeof(void*), tinyedge::ota::crypto_heap_capacity());
  std::printf("  stack touched      %zu bytes (thread incl. its start-up)\n", stack.size() - untouched);
  std::printf("  Manifest struct    %zu bytes (decoded, kept by the client)\n", sizeof(tinyedge::ota::Manifest));
  std::printf("  one verify         %.2f ms on this host\n", run.ms);
  return 0;
}
