// Test rig for the node's OTA client: a flash that loses power at a chosen write, a link that
// records and sizes every message as it would travel, and a driver that plays the gateway with
// ota::ChunkServer.
#pragma once
#include <cstring>
#include <deque>
#include <optional>
#include <vector>

#include "node_firmware/app/flash.h"
#include "node_firmware/app/model_self_test.h"
#include "node_firmware/app/ota_client.h"
#include "node_firmware/app/slot_store.h"
#include "ota/chunk_server.h"
#include "ota/package.h"
#include "protocol/codec.h"
#include "tests/node/fault_flash.h"
#include "tests/rollout/test_packages.h"

namespace tinyedge::ota::testing {

using app::testing::FaultFlash;

// Stands in for the runtime: "runs" a model by hashing model bytes and input together, so a
// package's expected output can be computed on the host and any payload change shows.
class HashSelfTest final : public app::ModelSelfTest {
 public:
  static Digest expected(std::span<const uint8_t> model, std::span<const uint8_t> input) {
    Sha256 hash;
    hash.update(model);
    hash.update(input);
    return hash.finish();
  }
  app::SelfTestStatus run(std::span<const uint8_t> model, std::span<const uint8_t> input, Digest& out) override {
    ++runs;
    if (model.empty()) return app::SelfTestStatus::kBadModel;
    if (refuse_front_end) return app::SelfTestStatus::kFrontEndUnsupported;
    out = expected(model, input);
    return app::SelfTestStatus::kOk;
  }
  int runs = 0;
  bool refuse_front_end = false;  // as a node whose microphone cannot feed the model
};

// Records what the node sends and sizes every message as an encoded Uplink/Downlink.
class RecordingLink final : public app::OtaLink {
 public:
  void send_chunk_request(const tinyedge_v1_ChunkRequest& request) override {
    requests.push_back(request);
    all_requests.push_back(request);
    tinyedge_v1_Uplink up = tinyedge_v1_Uplink_init_zero;
    up.which_payload = tinyedge_v1_Uplink_chunk_request_tag;
    up.payload.chunk_request = request;
    count_uplink(up);
  }
  void send_ota_status(const tinyedge_v1_OtaStatus& status) override {
    statuses.push_back(status);
    tinyedge_v1_Uplink up = tinyedge_v1_Uplink_init_zero;
    up.which_payload = tinyedge_v1_Uplink_ota_status_tag;
    up.payload.ota_status = status;
    count_uplink(up);
  }
  void model_activated() override { ++activations; }

  void count_downlink(const tinyedge_v1_Downlink& down) {
    std::vector<uint8_t> wire(protocol::kMaxDownlinkBytes);
    tinyedge_v1_Downlink copy = down;
    copy.seq = ++downlink_seq;
    const auto result = protocol::encode_downlink(copy, wire);
    if (result.ok) downlink_bytes += result.size;
  }

  const tinyedge_v1_OtaStatus& last_status() const { return statuses.back(); }

  std::deque<tinyedge_v1_ChunkRequest> requests;  // not yet answered
  std::vector<tinyedge_v1_ChunkRequest> all_requests;
  std::vector<tinyedge_v1_OtaStatus> statuses;
  int activations = 0;
  uint64_t uplink_bytes = 0, downlink_bytes = 0;
  uint32_t uplink_seq = 0, downlink_seq = 0;

 private:
  void count_uplink(tinyedge_v1_Uplink& up) {
    up.seq = ++uplink_seq;
    up.boot_id = 0x1234;
    std::strcpy(up.node_id, "node-0001");
    std::vector<uint8_t> wire(protocol::kMaxUplinkBytes);
    const auto result = protocol::encode_uplink(up, wire);
    if (result.ok) uplink_bytes += result.size;
  }
};

// Plays the gateway: offers the package, then answers requests in order until the node stops
// asking, the power is lost, or `max_chunks` chunks were delivered. Returns chunks delivered.
inline size_t serve(app::OtaClient& client, ChunkServer& server, RecordingLink& link, const FaultFlash* flash,
                    size_t max_chunks = SIZE_MAX, uint32_t now_ms = 0) {
  const auto offer = server.offer();
  link.count_downlink(offer);
  client.on_offer(offer.payload.offer, now_ms);
  size_t delivered = 0;
  while (!link.requests.empty() && delivered < max_chunks) {
    if (flash != nullptr && flash->power_lost()) break;
    const auto request = link.requests.front();
    link.requests.pop_front();
    const auto chunk = server.answer(request);
    if (!chunk) continue;
    link.count_downlink(*chunk);
    client.on_chunk(chunk->payload.chunk, now_ms);
    ++delivered;
  }
  return delivered;
}

inline std::vector<uint8_t> pattern(size_t size, uint32_t seed) {
  std::vector<uint8_t> bytes(size);
  for (auto& b : bytes) {
    seed ^= seed << 13;
    seed ^= seed >> 17;
    seed ^= seed << 5;
    b = static_cast<uint8_t>(seed >> 24);
  }
  return bytes;
}

// A synthetic payload that names itself model `model_id` v`version` in a .tem header, as every
// package's payload must (the rest is pattern() bytes).
inline std::vector<uint8_t> tem_payload(size_t size, uint32_t seed, uint32_t model_id, uint32_t version) {
  std::vector<uint8_t> bytes = pattern(size, seed);
  rollout::testing::stamp_tem_identity(bytes, model_id, version);
  return bytes;
}

}  // namespace tinyedge::ota::testing
