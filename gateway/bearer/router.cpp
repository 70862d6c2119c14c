#include "gateway/bearer/router.h"

namespace tinyedge::gateway {

void Router::seen(const std::string& node_id, const std::shared_ptr<DownlinkSink>& sink) {
  std::lock_guard lock(mutex_);
  auto& route = routes_[node_id];
  if (route.lock() != sink) route = sink;
}

std::string Router::bearer_of(const std::string& node_id) {
  std::lock_guard lock(mutex_);
  auto it = routes_.find(node_id);
  if (it == routes_.end()) return {};
  auto sink = it->second.lock();
  return sink ? sink->bearer_name() : std::string();
}

size_t Router::backlog_of(const std::string& node_id) {
  std::shared_ptr<DownlinkSink> sink;
  {
    std::lock_guard lock(mutex_);
    if (auto it = routes_.find(node_id); it != routes_.end()) sink = it->second.lock();
  }
  return sink ? sink->backlog() : 0;
}

BulkShape Router::bulk_shape_of(const std::string& node_id) {
  std::shared_ptr<DownlinkSink> sink;
  {
    std::lock_guard lock(mutex_);
    if (auto it = routes_.find(node_id); it != routes_.end()) sink = it->second.lock();
  }
  return sink ? sink->bulk_shape() : BulkShape{};
}

bool Router::send_downlink(const std::string& node_id, const tinyedge_v1_Downlink& downlink) {
  std::shared_ptr<DownlinkSink> sink;
  tinyedge_v1_Downlink copy = downlink;
  {
    std::lock_guard lock(mutex_);
    if (auto it = routes_.find(node_id); it != routes_.end()) sink = it->second.lock();
    if (copy.seq == 0) copy.seq = next_seq_++;
  }
  if (!sink) {
    metrics_.downlinks_unroutable.add();
    log_.debug("router", "no bearer for node", {{"node", node_id}});
    return false;
  }
  uint8_t wire[protocol::kMaxDownlinkBytes];
  const auto encoded = protocol::encode_downlink(copy, wire);
  if (!encoded.ok) {
    log_.error("router", "cannot encode downlink", {{"node", node_id}, {"error", encoded.error}});
    return false;
  }
  if (!sink->send(node_id, {wire, encoded.size})) {
    metrics_.downlinks_unroutable.add();
    return false;
  }
  if (copy.which_payload == tinyedge_v1_Downlink_chunk_tag) sink->bulk_payload_sent(copy.payload.chunk.data.size);
  metrics_.downlinks_sent.add();
  return true;
}

bool Router::send_ack(const std::string& node_id, uint32_t boot_id, uint32_t through_seq) {
  tinyedge_v1_Downlink downlink = tinyedge_v1_Downlink_init_zero;
  downlink.which_payload = tinyedge_v1_Downlink_ack_tag;
  downlink.payload.ack.boot_id = boot_id;
  downlink.payload.ack.through_seq = through_seq;
  const bool sent = send_downlink(node_id, downlink);
  if (sent) metrics_.acks_sent.add();
  return sent;
}

}  // namespace tinyedge::gateway
