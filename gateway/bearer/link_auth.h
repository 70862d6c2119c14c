// Proof of identity for links without a broker login (serial lines, qemu sockets, BLE-UART
// bridges): every node holds a 32-byte link key provisioned at manufacture and the gateway a copy
// of it, one file per node (`<link_keys>/<node-id>.key`, 64 hex digits, as `tinyedge keys link`
// writes them). A link answers a fresh nonce with ota::link_proof before anything it sends is
// stored, acked or routed. This object holds what outlives one link: where the keys are, which
// node is bound to which live link, and the back-off for sources that keep failing.
#pragma once
#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "gateway/core/log.h"
#include "gateway/core/metrics.h"
#include "ota/link_proof.h"

namespace tinyedge::gateway {

class Link;

class LinkAuthenticator {
 public:
  using Nonce = std::array<uint8_t, ota::kLinkNonceBytes>;
  using Clock = std::chrono::steady_clock;

  // `key_dir` must exist (checked by the daemon at start); keys are read when a link proves
  // itself, so a node provisioned later needs no restart.
  LinkAuthenticator(std::filesystem::path key_dir, Metrics& metrics, Logger& log);

  // 16 bytes from the kernel's CSPRNG, fresh for every link.
  Nonce new_nonce();

  enum class Verdict { kProven, kAlreadyBound, kLockedOut, kNoKey, kBadProof };
  struct Outcome {
    Verdict verdict;
    std::string reason;  // for the log line; empty when proven
  };

  // Checks a LinkProof from `source` (the peer: "tcp:127.0.0.1", a unix socket path, a tty)
  // and, when it holds, binds `node` to `link`. Every refusal is counted in the metrics.
  Outcome prove(const std::string& source, std::string_view node, uint32_t boot_id, const Nonce& nonce,
                std::span<const uint8_t> mac, const std::shared_ptr<Link>& link);

  // True when `node` is bound to a live link other than `link`.
  bool bound_elsewhere(std::string_view node, const Link* link) const;
  // The link closed: its node may be bound again.
  void release(std::string_view node, const Link* link);

  static const char* to_string(Verdict verdict);

 private:
  struct Penalty {
    uint32_t failures = 0;
    Clock::time_point until{};
  };
  void penalise(const std::string& source);

  std::filesystem::path key_dir_;
  Metrics& metrics_;
  Logger& log_;
  std::map<std::string, std::weak_ptr<Link>, std::less<>> bound_;
  std::map<std::string, Penalty, std::less<>> penalties_;
};

}  // namespace tinyedge::gateway
