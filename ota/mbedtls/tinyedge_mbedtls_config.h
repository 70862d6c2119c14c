/* Mbed TLS 2.28 configuration for the node: verify an ECDSA P-256 signature over a SHA-256
 * digest, and open an encrypted payload (ECDH on P-256, AES-128), nothing else. No system heap:
 * bignums come from a static buffer (MBEDTLS_MEMORY_BUFFER_ALLOC_C, see ota/crypto_heap.cpp).
 * Sizes are traded for RAM and flash: a window of 2 and no fixed-point comb table for P-256. */
#ifndef TINYEDGE_MBEDTLS_CONFIG_H
#define TINYEDGE_MBEDTLS_CONFIG_H

#if defined(__arm__)
#define MBEDTLS_HAVE_ASM /* UMAAL multiply-accumulate in bn_mul.h on Cortex-M4 */
#endif
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C

#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECP_NO_INTERNAL_RNG /* verification handles no secret; ECDH brings its own blinding generator */
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C /* required by MBEDTLS_ECDSA_C; the linker drops the signing side */
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER
/* Encrypted payloads (ota/payload_cipher.h): AES-128 encryption only (CTR runs the cipher forward),
 * its tables in flash rather than built in RAM, and one table instead of four. */
#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES
#define MBEDTLS_AES_FEWER_TABLES

#define MBEDTLS_MPI_WINDOW_SIZE 1
#define MBEDTLS_MPI_MAX_SIZE 64
#define MBEDTLS_ECP_MAX_BITS 256
#define MBEDTLS_ECP_WINDOW_SIZE 2
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 0

#include "mbedtls/check_config.h"

#endif
