#include "gateway/bearer/framed_link.h"

#include <algorithm>
#include <boost/asio/post.hpp>

namespace tinyedge::gateway {

FramedLink::FramedLink(boost::asio::any_io_executor executor, std::string name, std::string source, Context context)
    : context_(context), executor_(std::move(executor)), name_(std::move(name)), source_(std::move(source)) {}

void FramedLink::opened() {
  context_.metrics.links_open.add();
  open_ = true;
  nonce_ = context_.auth.new_nonce();
  context_.log.info(context_.area, "link open; challenge sent", {{"link", name_}});
  challenge();
}

bool FramedLink::send(const std::string&, std::span<const uint8_t> payload) {
  std::vector<uint8_t> frame(protocol::max_encoded_frame_size(payload.size()));
  const auto encoded = protocol::encode_frame(payload, frame);
  if (encoded.status != protocol::FrameStatus::kOk) return false;
  frame.resize(encoded.size);
  boost::asio::post(executor_, [self = shared_from_this(), frame = std::move(frame)]() mutable {
    if (self->open_) self->write_frame(std::move(frame));
  });
  return open_;
}

void FramedLink::close() {
  boost::asio::post(executor_, [self = shared_from_this()] { self->shut("closed by gateway"); });
}

void FramedLink::consume(std::span<const uint8_t> bytes) {
  for (size_t i = 0; i < bytes.size() && open_; ++i) {
    const auto status = decoder_.push(bytes[i]);
    if (status == protocol::FrameStatus::kNeedMore) continue;
    if (status != protocol::FrameStatus::kOk) {
      if (status == protocol::FrameStatus::kOverflow) context_.metrics.oversized.add();
      context_.ingest.reject(name_, "bad frame", protocol::to_string(status));
      bad_frame();
      if (bound_.empty() && context_.max_bad_frames_unproven != 0 &&
          ++bad_frames_unproven_ >= context_.max_bad_frames_unproven) {
        return shut("only bad frames (" + std::to_string(bad_frames_unproven_) + ") and no link proof");
      }
      continue;
    }
    if (bound_.empty()) {
      unproven(decoder_.payload());
      continue;
    }
    // Ingest ignores a bound link's repeated LinkProof (the node heard the challenge twice).
    context_.ingest.on_uplink(decoder_.payload(), bound_, shared_from_this());
  }
}

// A frame from a link that has not proven its node: only a LinkProof can change that.
void FramedLink::unproven(std::span<const uint8_t> bytes) {
  auto& metrics = context_.metrics;
  auto& log = context_.log;
  // The ingest checks first: an id the link cannot even claim (a NUL inside, bad text) is refused
  // as bad input rather than cut short and tried as another node's.
  if (context_.ingest.check(bytes, {}, name_).error != UplinkError::kOk) return;
  const tinyedge_v1_Uplink& uplink = context_.ingest.last_uplink();
  const std::string node(context_.ingest.last_node_id());
  if (context_.auth.bound_elsewhere(node, this)) {
    metrics.links_refused.add();
    log.warn(context_.area, "link refused",
             {{"link", name_},
              {"claimed_node", node},
              {"reason", LinkAuthenticator::to_string(LinkAuthenticator::Verdict::kAlreadyBound)}});
    return shut("refused: node already bound on another live link");
  }
  if (const std::string refusal = refuse_claim(node); !refusal.empty()) {
    metrics.links_refused.add();
    log.warn(context_.area, "link refused", {{"link", name_}, {"claimed_node", node}, {"reason", refusal}});
    return shut("refused: " + refusal);
  }
  if (uplink.which_payload != tinyedge_v1_Uplink_link_proof_tag) {
    metrics.unproven_uplinks.add();
    if (unproven_uplinks_++ == 0) {
      log.warn(context_.area, "uplink dropped: link has not proven its node (no link proof yet)",
               {{"link", name_}, {"claimed_node", node}});
    }
    if (unproven_uplinks_ >= kMaxUnprovenUplinks)
      return shut("no link proof after " + std::to_string(unproven_uplinks_) + " uplinks");
    // The node may have missed the first challenge (it booted later, the line was noisy).
    if (Clock::now() - last_challenge_ >= std::chrono::seconds(1)) challenge();
    return;
  }
  const auto& mac = uplink.payload.link_proof.mac;
  const auto outcome =
      context_.auth.prove(source_, node, uplink.boot_id, nonce_, {mac.bytes, mac.size}, shared_from_this());
  if (outcome.verdict != LinkAuthenticator::Verdict::kProven) {
    log.warn(context_.area, "link proof failed; link closed",
             {{"link", name_}, {"source", source_}, {"claimed_node", node}, {"reason", outcome.reason}});
    return shut("link proof failed");
  }
  bound_ = node;
  log.info(context_.area, "link proven and bound to node",
           {{"link", name_}, {"node", bound_}, {"boot_id", uplink.boot_id}});
  proven(bound_);
  context_.ingest.on_link(bound_, true, name_);
}

void FramedLink::challenge() {
  last_challenge_ = Clock::now();
  tinyedge_v1_Downlink downlink = tinyedge_v1_Downlink_init_zero;
  downlink.which_payload = tinyedge_v1_Downlink_link_challenge_tag;
  auto& nonce = downlink.payload.link_challenge.nonce;
  static_assert(sizeof nonce.bytes >= std::tuple_size_v<LinkAuthenticator::Nonce>);
  std::copy(nonce_.begin(), nonce_.end(), nonce.bytes);
  nonce.size = static_cast<pb_size_t>(nonce_.size());
  uint8_t payload[64];
  const auto encoded = protocol::encode_downlink(downlink, payload);
  if (encoded.ok) send({}, {payload, encoded.size});
}

void FramedLink::shut(const std::string& why) {
  if (!open_) return;
  open_ = false;
  release_transport();
  context_.metrics.links_open.value.fetch_sub(1, std::memory_order_relaxed);
  if (!bound_.empty()) {
    context_.auth.release(bound_, this);
    context_.ingest.on_link(bound_, false, name_);
  }
  context_.log.info(context_.area, "link closed", {{"link", name_}, {"node", bound_}, {"reason", why}});
}

}  // namespace tinyedge::gateway
