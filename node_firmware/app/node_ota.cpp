#include "node_firmware/app/node_ota.h"

#include "node_firmware/runtime/model.h"

namespace tinyedge::app {

void NodeOta::on_downlink(const tinyedge_v1_Downlink& downlink) {
  if (client_ == nullptr) return;
  switch (downlink.which_payload) {
    case tinyedge_v1_Downlink_offer_tag:
      client_->on_offer(downlink.payload.offer, platform_.now_ms());
      break;
    case tinyedge_v1_Downlink_chunk_tag:
      client_->on_chunk(downlink.payload.chunk, platform_.now_ms());
      break;
    case tinyedge_v1_Downlink_command_tag:
      if (downlink.payload.command.kind == tinyedge_v1_Command_Kind_CANCEL_UPDATE) client_->on_cancel();
      break;
    default:
      break;
  }
}

void NodeOta::send_chunk_request(const tinyedge_v1_ChunkRequest& request) {
  if (node_ == nullptr) return;
  // A lost request is re-sent by the client's timeout.
  node_->send_message(tinyedge_v1_Uplink_chunk_request_tag, tinyedge_v1_ChunkRequest_fields, &request);
}

void NodeOta::send_ota_status(const tinyedge_v1_OtaStatus& status) {
  if (node_ == nullptr) return;
  node_->send_message(tinyedge_v1_Uplink_ota_status_tag, tinyedge_v1_OtaStatus_fields, &status);
}

void NodeOta::model_activated() {
  // The slot store verified the new slot's hash and the client ran its self-test; a load
  // failure here would mean a runtime bug, and then the node reports no results rather than
  // wrong ones.
  engine_.load(store_.active_model());
  ++activations_;
}

runtime::Status load_active_model(SlotStore& store, RuntimeEngine& engine, std::span<const uint8_t> factory) {
  StoreStatus mounted = store.mount();
  if (mounted != StoreStatus::kOk && !factory.empty()) {
    runtime::Model model;
    const runtime::Status valid = runtime::Model::load(factory, model);
    if (valid != runtime::Status::kOk) return valid;
    mounted = store.provision(factory, model.model_id(), model.version());
  }
  if (mounted != StoreStatus::kOk || !store.has_model()) return runtime::Status::kNotInitialised;
  return engine.load(store.active_model());
}

}  // namespace tinyedge::app
