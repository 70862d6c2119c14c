// Links only the node's verify path (manifest decode + SHA-256 + ECDSA P-256 verify) into a
// Cortex-M4 image so arm-none-eabi-size reports what it costs in flash and RAM. Never run.
#include "ota/verify.h"

namespace {
tinyedge::ota::Manifest g_manifest;
volatile uint8_t g_input[1200];
volatile int g_result;
}  // namespace

int main() {
  const tinyedge::ota::TrustedKey key{};
  const auto* bytes = const_cast<const uint8_t*>(g_input);
  g_result = static_cast<int>(tinyedge::ota::verify_manifest(std::span(&key, 1), std::span(bytes, 1100),
                                                             std::span(bytes + 1100, 72), g_manifest));
  return 0;
}
