// Answers a serial link's LinkChallenge: proves to the gateway that this is the node it claims to
// be, with the link key provisioned at manufacture. A port without a key has no prover, and its
// serial links are never bound (MQTT links are authenticated by the broker instead).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace tinyedge::app {

inline constexpr size_t kLinkProofBytes = 32;

class LinkProver {
 public:
  // Writes the proof for `nonce` (protocol: LinkProof.mac); false if it cannot be made.
  [[nodiscard]] virtual bool prove(std::span<const uint8_t> nonce, std::string_view node_id, uint32_t boot_id,
                                   std::span<uint8_t, kLinkProofBytes> mac) = 0;

 protected:
  ~LinkProver() = default;
};

}  // namespace tinyedge::app
