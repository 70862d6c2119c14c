// Where Mbed TLS's bignums live. On the firmware: a static buffer (MBEDTLS_MEMORY_BUFFER_ALLOC_C),
// so verification never touches a system heap; on the host: the C library's allocator that Debian's
// libmbedcrypto is built with (crypto_heap_init() is then a no-op).
#pragma once
#include <cstddef>

namespace tinyedge::ota {

// Idempotent; called by every verification entry point.
void crypto_heap_init();

// Size of the static crypto heap (0 on the host).
size_t crypto_heap_capacity();

// Peak bytes in use since start, when Mbed TLS is built with MBEDTLS_MEMORY_DEBUG; 0 otherwise.
size_t crypto_heap_high_water();
// Peak number of live allocations (each also costs the allocator's header: 8 words).
size_t crypto_heap_peak_blocks();

}  // namespace tinyedge::ota
