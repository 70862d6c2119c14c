// The LinkProver of a node that holds its link key in memory (built into the image, or read from
// a file on the host): HMAC-SHA256 as ota/link_proof.h lays it out.
#pragma once
#include <span>

#include "node_firmware/app/link_prover.h"
#include "ota/link_proof.h"

namespace tinyedge::app {

class LinkKeyProver final : public LinkProver {
 public:
  static_assert(kLinkProofBytes == ota::kLinkProofBytes);
  // `key` must outlive the prover (it is not copied: on the MCU it stays in flash).
  explicit LinkKeyProver(std::span<const uint8_t, ota::kLinkKeyBytes> key) : key_(key) {}

  [[nodiscard]] bool prove(std::span<const uint8_t> nonce, std::string_view node_id, uint32_t boot_id,
                           std::span<uint8_t, kLinkProofBytes> mac) override {
    return ota::link_proof(key_, nonce, node_id, boot_id, mac);
  }

 private:
  std::span<const uint8_t, ota::kLinkKeyBytes> key_;
};

}  // namespace tinyedge::app
