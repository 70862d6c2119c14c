#include "gateway/rollout/ota_server.h"

#include <algorithm>
#include <stdexcept>

namespace tinyedge::rollout {

OtaServer::OtaServer(OtaServerConfig config) : config_(config), tokens_(static_cast<double>(config.burst_bytes)) {
  if (config_.chunk_size == 0 || config_.chunk_size > ota::ChunkServer::kMaxChunkBytes) {
    throw std::invalid_argument("ota server: chunk size must be 1.." + std::to_string(ota::ChunkServer::kMaxChunkBytes));
  }
  if (config_.bytes_per_second == 0) throw std::invalid_argument("ota server: rate must be positive");
  config_.burst_bytes = std::max<uint64_t>(config_.burst_bytes, config_.chunk_size);
  tokens_ = static_cast<double>(config_.burst_bytes);
}

void OtaServer::add_package(const ota::Package& package, int64_t delta_id) {
  ota::Manifest manifest = ota::manifest_of(package);
  Key key{manifest.model_id, manifest.version, delta_id};
  if (!servers_.count(key)) servers_[key] = std::make_unique<ota::ChunkServer>(package, config_.chunk_size);
}

bool OtaServer::has_package(uint32_t model_id, uint32_t version, int64_t delta_id) const {
  return servers_.count(Key{model_id, version, delta_id}) != 0;
}

void OtaServer::assign(const std::string& node_id, uint32_t model_id, uint32_t version, int64_t delta_id) {
  if (delta_id == 0) {
    assigned_.erase(node_id);
  } else {
    assigned_[node_id] = Key{model_id, version, delta_id};
  }
}

OtaServer::Key OtaServer::key_for(const std::string& node_id, uint32_t model_id, uint32_t version) const {
  auto it = assigned_.find(node_id);
  if (it != assigned_.end() && it->second.model_id == model_id && it->second.version == version) return it->second;
  return Key{model_id, version, 0};
}

tinyedge_v1_Downlink OtaServer::offer(uint32_t model_id, uint32_t version,
                                      const std::optional<ota::SignedRollbackGrant>& grant, uint32_t chunk_bytes,
                                      uint32_t window, int64_t delta_id) {
  auto it = servers_.find(Key{model_id, version, delta_id});
  if (it == servers_.end()) {
    throw std::out_of_range("ota server: model " + std::to_string(model_id) + " v" + std::to_string(version) +
                            (delta_id ? " delta " + std::to_string(delta_id) : std::string()) + " is not served");
  }
  // The grant rides in the offer only; chunks are the same package's.
  tinyedge_v1_Downlink down =
      grant ? ota::ChunkServer(it->second->package(), config_.chunk_size, grant).offer() : it->second->offer();
  // The link's chunk, unless the package's wire blocks are larger: a compressed block is never split.
  if (chunk_bytes != 0)
    down.payload.offer.chunk_size = std::max(std::min(chunk_bytes, config_.chunk_size), it->second->min_chunk_size());
  down.payload.offer.window = window;
  return down;
}

OtaServer::Request OtaServer::on_chunk_request(const std::string& node_id, const tinyedge_v1_ChunkRequest& request) {
  auto it = servers_.find(key_for(node_id, request.model_id, request.version));
  if (it == servers_.end()) return Request::kUnknownPackage;
  if (request.length == 0 || request.offset >= it->second->package().payload.size()) return Request::kBadRange;
  auto& queue = queues_[node_id];
  for (const auto& queued : queue) {
    // A node that re-asks (its request or our chunk got lost) should not get the chunk twice.
    if (queued.offset == request.offset && queued.version == request.version && queued.model_id == request.model_id) {
      return Request::kDuplicate;
    }
  }
  if (queue.size() >= config_.max_queued_per_node) return Request::kQueueFull;
  queue.push_back(request);
  ++queued_;
  return Request::kQueued;
}

void OtaServer::forget(const std::string& node_id) {
  auto it = queues_.find(node_id);
  if (it == queues_.end()) return;
  queued_ -= it->second.size();
  queues_.erase(it);
}

void OtaServer::refill(TimeMs now) {
  if (refilled_at_ >= 0 && now > refilled_at_) {
    tokens_ += static_cast<double>(now - refilled_at_) * static_cast<double>(config_.bytes_per_second) / 1000.0;
    tokens_ = std::min(tokens_, static_cast<double>(config_.burst_bytes));
  }
  if (now > refilled_at_) refilled_at_ = now;
}

std::vector<OtaServer::Outgoing> OtaServer::pump(TimeMs now) {
  std::vector<Outgoing> out;
  pump(now, [&out](const std::string& node_id, const tinyedge_v1_Downlink& chunk) {
    out.push_back({node_id, chunk});
    return SendResult::kSent;
  });
  return out;
}

size_t OtaServer::pump(TimeMs now, const Sender& send) {
  refill(now);
  if (now < backoff_until_) return 0;
  size_t sent = 0;
  while (queued_ > 0 && tokens_ >= config_.chunk_size) {
    // Next node after the cursor that has something queued (wrapping around).
    auto it = queues_.upper_bound(cursor_);
    if (it == queues_.end()) it = queues_.begin();
    auto& queue = it->second;
    tinyedge_v1_ChunkRequest request = queue.front();
    auto server = servers_.find(key_for(it->first, request.model_id, request.version));
    std::optional<tinyedge_v1_Downlink> chunk;
    if (server != servers_.end()) chunk = server->second->answer(request);
    SendResult result = chunk ? send(it->first, *chunk) : SendResult::kUndeliverable;
    if (result == SendResult::kBackedUp) {
      // Keep the request where it is (the same node goes first next time) and wait.
      backoff_until_ = now + config_.backoff_ms;
      ++backoffs_;
      break;
    }
    cursor_ = it->first;
    queue.pop_front();
    --queued_;
    if (queue.empty()) queues_.erase(it);
    if (result != SendResult::kSent) {
      undeliverable_ += chunk ? 1 : 0;
      continue;
    }
    tokens_ -= chunk->payload.chunk.data.size;
    payload_bytes_sent_ += chunk->payload.chunk.data.size;
    ++sent;
  }
  return sent;
}

TimeMs OtaServer::next_ready(TimeMs now) const {
  if (queued_ == 0) return -1;
  if (now < backoff_until_) return backoff_until_;
  if (tokens_ >= config_.chunk_size) return now;
  double missing = static_cast<double>(config_.chunk_size) - tokens_;
  auto wait = static_cast<TimeMs>(missing * 1000.0 / static_cast<double>(config_.bytes_per_second)) + 1;
  return std::max(now, refilled_at_) + wait;
}

std::string_view to_string(OtaServer::Request result) {
  switch (result) {
    case OtaServer::Request::kQueued: return "queued";
    case OtaServer::Request::kUnknownPackage: return "unknown package";
    case OtaServer::Request::kBadRange: return "outside the payload";
    case OtaServer::Request::kQueueFull: return "node queue full";
    case OtaServer::Request::kDuplicate: return "duplicate";
  }
  return "?";
}

}  // namespace tinyedge::rollout
