// ota_verify_footprint_m4: the verify path's RAM measured on the Cortex-M4 itself (qemu
// mps2-an386, semihosting): peak crypto-heap use (MBEDTLS_MEMORY_DEBUG) and stack depth (the
// stack below the caller is painted, verification runs, the untouched paint is counted).
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "ota/crypto_heap.h"
#include "ota/payload_cipher.h"
#include "ota/verify.h"
#include "ota/size/footprint_vector.h"

extern "C" void _start();

// qemu takes the initial SP and reset PC from address 0; newlib's rdimon crt0 does the rest
// (it moves the stack to where semihosting says RAM ends).
extern "C" __attribute__((section(".vectors"), used)) const void* const ota_footprint_vectors[2] = {
    reinterpret_cast<void*>(0x20400000), reinterpret_cast<void*>(&_start)};

namespace {

constexpr size_t kPaintBytes = 16 * 1024;
constexpr uint8_t kPaint = 0xA5;

// The region below the current stack pointer, which verify() will grow into.
volatile uint8_t* paint_bottom() {
  uintptr_t sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  return reinterpret_cast<volatile uint8_t*>(sp - 64 - kPaintBytes);  // 64: this frame and paint()'s
}

__attribute__((noinline)) void paint(volatile uint8_t* bottom) {
  for (size_t i = 0; i < kPaintBytes; ++i) bottom[i] = kPaint;
}

__attribute__((noinline)) size_t untouched(const volatile uint8_t* bottom) {
  size_t n = 0;
  while (n < kPaintBytes && bottom[n] == kPaint) ++n;  // lowest addresses are the deepest
  return n;
}

tinyedge::ota::Manifest g_manifest;

__attribute__((noinline)) tinyedge::ota::Reason verify(const uint8_t* signature, size_t signature_size) {
  tinyedge::ota::PublicKey point;
  std::memcpy(point.data(), tinyedge::ota::footprint::kPublicKey, point.size());
  const tinyedge::ota::TrustedKey key = tinyedge::ota::make_trusted_key(point);
  return tinyedge::ota::verify_manifest(std::span(&key, 1), tinyedge::ota::footprint::kManifest,
                                        std::span(signature, signature_size), g_manifest);
}

// The decrypt path's costly step: the ECDH that opens an encrypted package's wrapped key.
__attribute__((noinline)) bool ecdh(tinyedge::ota::SharedSecret& shared) {
  uint8_t scalar[tinyedge::ota::kPrivateScalarBytes];
  for (size_t i = 0; i < sizeof(scalar); ++i) scalar[i] = static_cast<uint8_t>(i + 1);  // below the order n
  return tinyedge::ota::ecdh_p256(std::span<const uint8_t, 32>(scalar), tinyedge::ota::footprint::kPublicKey,
                                  shared);
}
}  // namespace

int main() {
  using namespace tinyedge::ota;
  volatile uint8_t* bottom = paint_bottom();
  paint(bottom);
  const Reason good = verify(footprint::kSignature, sizeof(footprint::kSignature));
  const size_t stack = kPaintBytes + 64 - untouched(bottom);  // upper bound: counts main's own spill
  uint8_t bad[sizeof(footprint::kSignature)];
  std::memcpy(bad, footprint::kSignature, sizeof(bad));
  bad[sizeof(bad) - 1] ^= 1;
  const Reason flipped = verify(bad, sizeof(bad));
  const size_t used = crypto_heap_high_water(), blocks = crypto_heap_peak_blocks();
  std::printf("cortex-m4 verify: %s, flipped signature: %s\n", to_string(good), to_string(flipped));
  std::printf("crypto heap peak %u bytes in %u blocks (+%u bytes allocator headers), buffer %u\n",
              static_cast<unsigned>(used), static_cast<unsigned>(blocks), static_cast<unsigned>(blocks * 32),
              static_cast<unsigned>(crypto_heap_capacity()));
  std::printf("stack used by verify_manifest %u bytes\n", static_cast<unsigned>(stack));
  paint(bottom);
  SharedSecret shared{};
  const bool opened = ecdh(shared);
  const size_t ecdh_stack = kPaintBytes + 64 - untouched(bottom);
  std::printf("cortex-m4 ecdh (decrypt path): %s; crypto heap peak so far %u bytes in %u blocks; stack %u bytes\n",
              opened ? "ok" : "FAILED", static_cast<unsigned>(crypto_heap_high_water()),
              static_cast<unsigned>(crypto_heap_peak_blocks()), static_cast<unsigned>(ecdh_stack));
  return good == Reason::kOk && flipped == Reason::kBadSignature && opened ? 0 : 1;
}
