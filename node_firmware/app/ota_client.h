// The node's update client: a transport-agnostic state machine. It sees UpdateOffer and Chunk
// downlinks and answers with ChunkRequest and OtaStatus uplinks through OtaLink.
//
//   offer → verify signature (before any download) → anti-rollback (or a signed RollbackGrant),
//   hardware, firmware, slot and RAM fit → download blocks into the inactive slot, a window of
//   requests outstanding, progress journalled in flash (resumes after a reboot) → SHA-256 of the
//   slot → the slot's .tem header names the manifest's model id and version → golden self-test →
//   atomic switch of the boot record → ACTIVATED.
// Every refusal or failure is reported with a reason and leaves the running model untouched.
#pragma once
#include <cstdint>
#include <span>

#include "node_firmware/app/model_self_test.h"
#include "node_firmware/app/slot_store.h"
#include "ota/keys.h"
#include "ota/manifest.h"
#include "ota/payload_cipher.h"
#include "ota/reason.h"
#include "tinyedge.pb.h"

namespace tinyedge::app {

class OtaLink {
 public:
  virtual void send_chunk_request(const tinyedge_v1_ChunkRequest& request) = 0;
  virtual void send_ota_status(const tinyedge_v1_OtaStatus& status) = 0;
  // The new model is active (the app reloads its engine from the store's active_model()).
  virtual void model_activated() {}

 protected:
  ~OtaLink() = default;
};

struct OtaConfig {
  std::span<const ota::TrustedKey> keys;  // fleet keys, built into the firmware: packages only
  // Keys trusted only for RollbackGrants, never for packages (and fleet keys never for grants):
  // the gateway holds this private key to roll back on its own, so whoever owns the gateway host
  // can at most move a node one step down to a package the fleet key already signed.
  std::span<const ota::TrustedKey> rollback_keys;
  // The fleet's payload decryption key, given at provisioning; nullptr: encrypted packages are
  // refused with OTA_NOT_FOR_THIS_KEY.
  const ota::DecryptionKey* decryption_key = nullptr;
  const char* hardware = "";
  uint32_t firmware_version = 0;
  uint32_t arena_bytes = 0;  // RAM the node can give a model's arena
  uint32_t window = 4;       // chunk requests outstanding at once, unless the offer sets its own
  uint32_t request_timeout_ms = 3000;
  uint32_t max_retries = 5;  // per block, before the update fails with OTA_TIMEOUT
};

class OtaClient {
 public:
  static constexpr uint32_t kMaxBlockBytes = sizeof(tinyedge_v1_Chunk{}.data.bytes);
  static constexpr uint32_t kMaxWindow = 8;

  OtaClient(const OtaConfig& config, SlotStore& store, ModelSelfTest& self_test, OtaLink& link);

  void on_offer(const tinyedge_v1_UpdateOffer& offer, uint32_t now_ms);
  // An encrypted block is decrypted into a block-sized buffer on the stack of store_block, which
  // returns before the self-test runs (so the two never stack up).
  void on_chunk(const tinyedge_v1_Chunk& chunk, uint32_t now_ms);
  void on_cancel();
  // Re-requests blocks whose chunks did not come back in time.
  void tick(uint32_t now_ms);

  tinyedge_v1_OtaState state() const { return state_; }
  ota::Reason last_reason() const { return last_reason_; }
  bool busy() const { return state_ == tinyedge_v1_OtaState_OTA_DOWNLOADING; }
  uint32_t chunks_rejected() const { return chunks_rejected_; }
  uint32_t window() const { return window_; }

 private:
  struct Outstanding {
    uint32_t block;
    uint32_t sent_ms;
    uint32_t retries;
  };

  ota::Reason check_offer(const tinyedge_v1_UpdateOffer& offer, uint64_t& grant_created_at);
  bool is_active_package() const;
  // The offer's window (the gateway sized it from the link), at most kMaxWindow; 0: config's.
  uint32_t window_for(uint32_t offered) const;
  void start_download(uint32_t now_ms);
  void fill_window(uint32_t now_ms);
  void request(uint32_t block, uint32_t now_ms, uint32_t retries);
  [[nodiscard]] ota::Reason store_block(uint32_t block, std::span<const uint8_t> wire, uint32_t wire_offset);
  void finish();
  void refuse(ota::Reason reason, uint32_t model_id, uint32_t version);
  void fail(ota::Reason reason, bool forget_download);
  void report(tinyedge_v1_OtaState state, ota::Reason reason);
  uint32_t bytes_written() const;

  OtaConfig config_;
  SlotStore& store_;
  ModelSelfTest& self_test_;
  OtaLink& link_;

  tinyedge_v1_OtaState state_ = tinyedge_v1_OtaState_OTA_IDLE;
  ota::Reason last_reason_ = ota::Reason::kOk;
  ota::Manifest manifest_{};  // the package being installed (verified)
  ota::Digest manifest_digest_{};
  ota::ContentKey content_key_{};  // an encrypted package's, opened when offered
  uint64_t grant_created_at_ = 0;
  uint32_t block_size_ = 0;
  uint32_t window_ = 0;      // chunk requests outstanding at once for this download
  uint32_t next_block_ = 0;  // scan position for blocks not yet requested
  uint32_t done_count_ = 0;
  Outstanding outstanding_[kMaxWindow] = {};
  uint32_t outstanding_count_ = 0;
  uint32_t chunks_rejected_ = 0;
};

}  // namespace tinyedge::app
