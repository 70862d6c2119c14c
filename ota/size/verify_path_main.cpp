// Links only the node's verify path (manifest decode + SHA-256 + ECDSA P-256 verify) and, since
// encrypted packages, its decrypt path (ECDH P-256 + HKDF + AES-128-CTR) into a Cortex-M4 image
// so arm-none-eabi-size reports what they cost in flash and RAM. Never run.
#include "ota/payload_cipher.h"
#include "ota/verify.h"

namespace {
tinyedge::ota::Manifest g_manifest;
tinyedge::ota::DecryptionKey g_decryption;
tinyedge::ota::ContentKey g_content;
volatile uint8_t g_input[1200];
uint8_t g_block[512];
volatile int g_result;
}  // namespace

int main() {
  const tinyedge::ota::TrustedKey key{};
  const auto* bytes = const_cast<const uint8_t*>(g_input);
  g_result = static_cast<int>(tinyedge::ota::verify_manifest(std::span(&key, 1), std::span(bytes, 1100),
                                                             std::span(bytes + 1100, 72), g_manifest));
  g_result = static_cast<int>(tinyedge::ota::unwrap_content_key(&g_decryption, g_manifest, g_content));
  tinyedge::ota::ctr_xor(g_content, 0, g_block);
  return 0;
}
