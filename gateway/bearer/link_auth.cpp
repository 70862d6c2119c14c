#include "gateway/bearer/link_auth.h"

#include <sys/random.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "gateway/bearer/stream_link.h"
#include "protocol/topics.h"

namespace tinyedge::gateway {
namespace {

// After the n-th consecutive failed proof from one source, its next proofs are refused unchecked
// for min(2^(n-1), 60) seconds: a key cannot be guessed, but a flood of HMACs and log lines
// should cost the flooder, not the gateway.
constexpr uint32_t kMaxLockoutS = 60;
// Sources remembered at most; expired entries go first when this is reached.
constexpr size_t kMaxPenalties = 4096;

}  // namespace

LinkAuthenticator::LinkAuthenticator(std::filesystem::path key_dir, Metrics& metrics, Logger& log)
    : key_dir_(std::move(key_dir)), metrics_(metrics), log_(log) {}

LinkAuthenticator::Nonce LinkAuthenticator::new_nonce() {
  Nonce nonce{};
  size_t filled = 0;
  while (filled < nonce.size()) {
    const ssize_t n = ::getrandom(nonce.data() + filled, nonce.size() - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("getrandom failed: no randomness for link challenges");
    }
    filled += static_cast<size_t>(n);
  }
  return nonce;
}

const char* LinkAuthenticator::to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::kProven:
      return "proven";
    case Verdict::kAlreadyBound:
      return "node already bound on another live link";
    case Verdict::kLockedOut:
      return "too many failed proofs from this source";
    case Verdict::kNoKey:
      return "no link key for this node";
    case Verdict::kBadProof:
      return "proof does not match the node's link key";
  }
  return "unknown";
}

bool LinkAuthenticator::bound_elsewhere(std::string_view node, const Link* link) const {
  const auto it = bound_.find(node);
  if (it == bound_.end()) return false;
  const auto holder = it->second.lock();
  return holder && holder.get() != link && holder->is_open();
}

void LinkAuthenticator::release(std::string_view node, const Link* link) {
  const auto it = bound_.find(node);
  if (it == bound_.end()) return;
  const auto holder = it->second.lock();
  if (!holder || holder.get() == link) bound_.erase(it);
}

void LinkAuthenticator::penalise(const std::string& source) {
  const auto now = Clock::now();
  if (penalties_.size() >= kMaxPenalties)
    std::erase_if(penalties_, [&](const auto& p) { return p.second.until <= now; });
  if (penalties_.size() >= kMaxPenalties) penalties_.erase(penalties_.begin());
  Penalty& p = penalties_[source];
  ++p.failures;
  const uint32_t seconds = p.failures >= 7 ? kMaxLockoutS : std::min<uint32_t>(kMaxLockoutS, 1u << (p.failures - 1));
  p.until = now + std::chrono::seconds(seconds);
}

LinkAuthenticator::Outcome LinkAuthenticator::prove(const std::string& source, std::string_view node, uint32_t boot_id,
                                                    const Nonce& nonce, std::span<const uint8_t> mac,
                                                    const std::shared_ptr<Link>& link) {
  if (const auto p = penalties_.find(source); p != penalties_.end() && Clock::now() < p->second.until) {
    metrics_.link_proofs_failed.add();
    const auto left = std::chrono::duration_cast<std::chrono::seconds>(p->second.until - Clock::now()).count() + 1;
    return {Verdict::kLockedOut,
            std::string(to_string(Verdict::kLockedOut)) + "; retry in " + std::to_string(left) + " s"};
  }
  if (bound_elsewhere(node, link.get())) {
    metrics_.links_refused.add();
    return {Verdict::kAlreadyBound, to_string(Verdict::kAlreadyBound)};
  }
  // The id was validated by the caller ([A-Za-z0-9_-]{1,32}), so it is a plain file name.
  if (!protocol::is_valid_node_id(node)) throw std::logic_error("link proof for an unvalidated node id");
  const std::filesystem::path file = key_dir_ / (std::string(node) + ".key");
  std::ifstream in(file);
  ota::LinkKey key{};
  std::stringstream text;
  if (in) text << in.rdbuf();
  if (!in || !ota::parse_link_key(text.str(), key)) {
    metrics_.link_proofs_failed.add();
    penalise(source);
    return {Verdict::kNoKey, std::string(to_string(Verdict::kNoKey)) + " (" + file.string() +
                                 (in ? " is not 64 hex digits)" : " missing)")};
  }
  const bool valid = ota::link_proof_valid(key, nonce, node, boot_id, mac);
  key.fill(0);
  if (!valid) {
    metrics_.link_proofs_failed.add();
    penalise(source);
    return {Verdict::kBadProof, to_string(Verdict::kBadProof)};
  }
  penalties_.erase(source);
  bound_[std::string(node)] = link;
  metrics_.links_proven.add();
  return {Verdict::kProven, {}};
}

}  // namespace tinyedge::gateway
