// Wires the OTA client into the node: UpdateOffer / Chunk / CANCEL_UPDATE downlinks go to the
// client, its ChunkRequest / OtaStatus go out as uplinks through the node's bearer, and when a
// new model is activated the engine is reloaded from the slot store's active slot.
#pragma once
#include <cstdint>

#include "node_firmware/app/node.h"
#include "node_firmware/app/ota_client.h"
#include "node_firmware/app/runtime_engine.h"
#include "node_firmware/app/slot_store.h"

namespace tinyedge::app {

class NodeOta final : public DownlinkListener, public OtaLink {
 public:
  NodeOta(Platform& platform, SlotStore& store, RuntimeEngine& engine) : platform_(platform), store_(store), engine_(engine) {}

  // Both halves are needed before the first step(): the node sends, the client decides.
  void attach(Node& node, OtaClient& client) {
    node_ = &node;
    client_ = &client;
    node.set_downlink_listener(this);
  }
  // Call once per main-loop pass: re-requests chunks that timed out.
  void tick() {
    if (client_ != nullptr) client_->tick(platform_.now_ms());
  }

  void on_downlink(const tinyedge_v1_Downlink& downlink) override;
  void send_chunk_request(const tinyedge_v1_ChunkRequest& request) override;
  void send_ota_status(const tinyedge_v1_OtaStatus& status) override;
  void model_activated() override;

  uint32_t activations() const { return activations_; }

 private:
  Platform& platform_;
  SlotStore& store_;
  RuntimeEngine& engine_;
  Node* node_ = nullptr;
  OtaClient* client_ = nullptr;
  uint32_t activations_ = 0;
};

// Boot-time model selection: mount the store; if it holds no model yet, provision `factory` (the
// model shipped with the image or named on the command line) into it; load the active model.
// Returns the runtime's status of the final load (kNotInitialised when there is no model at all).
runtime::Status load_active_model(SlotStore& store, RuntimeEngine& engine, std::span<const uint8_t> factory);

}  // namespace tinyedge::app
