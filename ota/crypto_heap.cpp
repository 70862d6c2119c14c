#include "ota/crypto_heap.h"

#include <mbedtls/platform.h>

#if defined(MBEDTLS_MEMORY_BUFFER_ALLOC_C)
#include <mbedtls/memory_buffer_alloc.h>
#endif

#include <cstdint>

#ifndef TINYEDGE_OTA_CRYPTO_HEAP_BYTES
// ECDSA P-256 verify with MBEDTLS_ECP_WINDOW_SIZE 2 and no fixed-point table peaks, on the
// Cortex-M4, at 1692 bytes of bignums in 34 blocks plus 32 bytes of allocator header each =
// 2780 bytes (ota_verify_footprint_m4 under qemu); with 64-bit pointers and limbs, 4616 bytes
// (ota_verify_footprint). The rest is margin for fragmentation.
#define TINYEDGE_OTA_CRYPTO_HEAP_BYTES (sizeof(void*) == 4 ? 4096 : 6144)
#endif

namespace tinyedge::ota {

#if defined(MBEDTLS_MEMORY_BUFFER_ALLOC_C)
namespace {
alignas(8) uint8_t g_heap[TINYEDGE_OTA_CRYPTO_HEAP_BYTES];
bool g_ready = false;
}  // namespace

void crypto_heap_init() {
  if (g_ready) return;
  mbedtls_memory_buffer_alloc_init(g_heap, sizeof(g_heap));
  g_ready = true;
}

size_t crypto_heap_capacity() { return sizeof(g_heap); }

size_t crypto_heap_high_water() {
#if defined(MBEDTLS_MEMORY_DEBUG)
  size_t max_used = 0, max_blocks = 0;
  mbedtls_memory_buffer_alloc_max_get(&max_used, &max_blocks);
  return max_used;
#else
  return 0;
#endif
}

size_t crypto_heap_peak_blocks() {
#if defined(MBEDTLS_MEMORY_DEBUG)
  size_t max_used = 0, max_blocks = 0;
  mbedtls_memory_buffer_alloc_max_get(&max_used, &max_blocks);
  return max_blocks;
#else
  return 0;
#endif
}
#else
void crypto_heap_init() {}
size_t crypto_heap_capacity() { return 0; }
size_t crypto_heap_high_water() { return 0; }
size_t crypto_heap_peak_blocks() { return 0; }
#endif

}  // namespace tinyedge::ota
