// An in-process fleet for the rollout service: every node is the real node-side OTA client
// (signature check, anti-rollback, rollback grants, journalled download into an A/B slot store on
// a RAM flash, self-test) behind a queue, so the service is tested end to end without a broker.
#pragma once
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gateway/rollout/fleet.h"
#include "gateway/rollout/rollout_service.h"
#include "node_firmware/app/flash.h"
#include "node_firmware/app/model_self_test.h"
#include "node_firmware/app/ota_client.h"
#include "node_firmware/app/slot_store.h"
#include "ota/package.h"
#include "ota/sha256.h"
#include "tests/rollout/test_packages.h"

namespace tinyedge::rollout::testing {

inline constexpr size_t kSimPage = 1024;
inline constexpr size_t kSimFlashBytes = 64 * kSimPage;

// "Runs" a model by hashing it with the input, so packages can carry the expected output.
class HashingSelfTest final : public app::ModelSelfTest {
 public:
  static ota::Digest expected(std::span<const uint8_t> model, std::span<const uint8_t> input) {
    ota::Sha256 hash;
    hash.update(model);
    hash.update(input);
    return hash.finish();
  }
  app::SelfTestStatus run(std::span<const uint8_t> model, std::span<const uint8_t> input, ota::Digest& out) override {
    if (model.empty()) return app::SelfTestStatus::kBadModel;
    out = expected(model, input);
    return app::SelfTestStatus::kOk;
  }
};

inline ota::Package sim_package(const ota::SigningKey& key, uint32_t version, size_t size,
                                std::vector<std::string> hardware = {}) {
  ota::PackageSpec spec;
  spec.model_id = 21;
  spec.version = version;
  spec.model_name = "sim";
  spec.payload.resize(size);
  for (size_t i = 0; i < size; ++i) spec.payload[i] = static_cast<uint8_t>((i * 131 + version * 7) >> 2);
  stamp_tem_identity(spec.payload, spec.model_id, version);
  spec.hardware = std::move(hardware);
  spec.arena_bytes = 1024;
  spec.self_test_input = {1, 2, 3, 4};
  spec.self_test_output_sha256 = HashingSelfTest::expected(spec.payload, spec.self_test_input);
  spec.created_at = 1700000000 + version;
  return ota::create_package(spec, key);
}

// A sim package of `payload` (its .tem identity stamped as `version`), full or, with `base`, a
// delta against those installed bytes.
inline ota::Package payload_package(const ota::SigningKey& key, uint32_t version, std::vector<uint8_t> payload,
                                    const std::vector<uint8_t>& base = {}) {
  ota::PackageSpec spec;
  spec.model_id = 21;
  spec.version = version;
  spec.model_name = "sim";
  stamp_tem_identity(payload, 21, version);
  spec.payload = std::move(payload);
  spec.arena_bytes = 1024;
  spec.self_test_input = {1, 2, 3, 4};
  spec.self_test_output_sha256 = HashingSelfTest::expected(spec.payload, spec.self_test_input);
  spec.created_at = 1700000000 + version;
  if (!base.empty()) {
    spec.encoding = tinyedge_v1_PayloadEncoding_PAYLOAD_LZ_DELTA;
    spec.base = base;
  }
  return ota::create_package(spec, key);
}

// v1 with its last 400 bytes (the "head") changed: what a fine-tune of the head makes.
inline std::vector<uint8_t> head_changed(const ota::Package& v1, uint8_t salt) {
  std::vector<uint8_t> payload = v1.payload;
  for (size_t i = payload.size() - 400; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i * 7 + salt);
  return payload;
}

struct SimNode : app::OtaLink {
  SimNode(std::string id, std::string hw, const ota::TrustedKey* key, const ota::Package& factory,
          const ota::TrustedKey* rollback_key = nullptr)
      : node_id(std::move(id)),
        hardware(std::move(hw)),
        storage(kSimFlashBytes, 0xFF),
        trusted(key),
        trusted_rollback(rollback_key) {
    app::MemoryFlash flash(storage, kSimPage, 8);
    app::SlotStore factory_store(flash);
    factory_store.provision(factory.payload, 21, ota::manifest_of(factory).version);
    boot();
  }
  // Power cycle: everything but the flash is rebuilt.
  void boot() {
    flash = std::make_unique<app::MemoryFlash>(storage, kSimPage, 8);
    store = std::make_unique<app::SlotStore>(*flash);
    store->mount();
    config.keys = std::span(trusted, 1);
    config.rollback_keys = trusted_rollback ? std::span(trusted_rollback, 1) : std::span<const ota::TrustedKey>();
    config.hardware = hardware.c_str();
    config.firmware_version = 3;
    config.arena_bytes = 32768;
    config.window = 4;
    client = std::make_unique<app::OtaClient>(config, *store, self_test, *this);
    ++boots;
  }
  uint32_t version() const { return store->active() ? store->active()->version : 0; }

  void send_chunk_request(const tinyedge_v1_ChunkRequest& request) override {
    tinyedge_v1_Uplink up = tinyedge_v1_Uplink_init_zero;
    up.which_payload = tinyedge_v1_Uplink_chunk_request_tag;
    up.payload.chunk_request = request;
    if (request.offset == 0) ++requests_from_zero;
    outbox.push_back(up);
  }
  void send_ota_status(const tinyedge_v1_OtaStatus& status) override {
    tinyedge_v1_Uplink up = tinyedge_v1_Uplink_init_zero;
    up.which_payload = tinyedge_v1_Uplink_ota_status_tag;
    up.payload.ota_status = status;
    outbox.push_back(up);
  }

  std::string node_id, hardware;
  std::vector<uint8_t> storage;
  const ota::TrustedKey* trusted;
  const ota::TrustedKey* trusted_rollback;
  std::unique_ptr<app::MemoryFlash> flash;
  std::unique_ptr<app::SlotStore> store;
  HashingSelfTest self_test;
  app::OtaConfig config;
  std::unique_ptr<app::OtaClient> client;
  bool online = true;
  std::vector<std::string> groups;
  std::deque<tinyedge_v1_Downlink> inbox;
  std::deque<tinyedge_v1_Uplink> outbox;
  int boots = 0;
  int requests_from_zero = 0;
  size_t chunk_bytes_received = 0;
  int offers = 0;
};

class SimFleet : public Fleet {
 public:
  // Nodes trust `key` for packages and, when given, `rollback_key` for rollback grants only.
  SimFleet(const ota::SigningKey& key, const ota::Package& factory, size_t count, const char* hw = "host-sim",
           const ota::SigningKey* rollback_key = nullptr)
      : trusted_(ota::make_trusted_key(key.public_point())),
        trusted_rollback_(ota::make_trusted_key((rollback_key ? *rollback_key : key).public_point())) {
    for (size_t i = 0; i < count; ++i) {
      char id[32];
      std::snprintf(id, sizeof id, "n%03u", static_cast<unsigned>(i % 1000));
      nodes_[id] = std::make_unique<SimNode>(id, hw, &trusted_, factory, rollback_key ? &trusted_rollback_ : nullptr);
    }
  }
  SimNode& node(const std::string& id) { return *nodes_.at(id); }
  std::map<std::string, std::unique_ptr<SimNode>>& all() { return nodes_; }

  std::vector<FleetNode> nodes() override {
    std::vector<FleetNode> out;
    for (auto& [id, n] : nodes_) {
      const bool known = !table_knows_no_model.count(id);
      const bool online = n->online && !table_shows_offline.count(id);
      out.push_back({id, online, n->hardware, known ? 21u : 0u, known ? n->version() : 0u, n->groups});
    }
    return out;
  }
  bool send(const std::string& node_id, const tinyedge_v1_Downlink& downlink) override {
    auto it = nodes_.find(node_id);
    if (it == nodes_.end() || !it->second->online) return false;
    if (downlink.which_payload == tinyedge_v1_Downlink_offer_tag) ++it->second->offers;
    it->second->inbox.push_back(downlink);
    return true;
  }
  std::vector<InferenceRow> results_since(int64_t& cursor, size_t limit) override {
    std::vector<InferenceRow> out;
    while (cursor < static_cast<int64_t>(results.size()) && out.size() < limit) out.push_back(results[cursor++]);
    return out;
  }
  int64_t results_cursor() override { return static_cast<int64_t>(results.size()); }

  // Delivers downlinks, runs the clients' timers, hands uplinks to the service; chunk requests to
  // `chunk_requests_to` when given (another gateway on the same store, as MQTT's shared
  // subscription hands a node's uplinks to either).
  void step(RolloutService& service, uint32_t now_ms, RolloutService* chunk_requests_to = nullptr) {
    for (auto& [id, n] : nodes_) {
      while (!n->inbox.empty()) {
        tinyedge_v1_Downlink d = n->inbox.front();
        n->inbox.pop_front();
        if (!n->online) continue;
        if (d.which_payload == tinyedge_v1_Downlink_offer_tag) n->client->on_offer(d.payload.offer, now_ms);
        if (d.which_payload == tinyedge_v1_Downlink_chunk_tag) {
          n->chunk_bytes_received += d.payload.chunk.data.size;
          n->client->on_chunk(d.payload.chunk, now_ms);
        }
        if (d.which_payload == tinyedge_v1_Downlink_command_tag &&
            d.payload.command.kind == tinyedge_v1_Command_Kind_CANCEL_UPDATE) {
          n->client->on_cancel();
        }
      }
      if (n->online) n->client->tick(now_ms);
      while (!n->outbox.empty()) {
        tinyedge_v1_Uplink up = n->outbox.front();
        n->outbox.pop_front();
        if (!n->online) continue;
        std::strncpy(up.node_id, id.c_str(), sizeof up.node_id - 1);
        const bool chunk_request = up.which_payload == tinyedge_v1_Uplink_chunk_request_tag;
        (chunk_request && chunk_requests_to ? *chunk_requests_to : service).on_uplink(id, up);
      }
    }
  }

  std::vector<InferenceRow> results;
  // Nodes whose row in the node table shows no model (the store has not written their Hello yet).
  std::set<std::string> table_knows_no_model;
  // Nodes the node table shows offline while they still talk (a restarted gateway that has not
  // heard from them yet).
  std::set<std::string> table_shows_offline;

 private:
  ota::TrustedKey trusted_;
  ota::TrustedKey trusted_rollback_;
  std::map<std::string, std::unique_ptr<SimNode>> nodes_;
};

}  // namespace tinyedge::rollout::testing
