#include "node_firmware/app/ota_client.h"

#include <cstring>

#include "ota/block_codec.h"
#include "ota/payload_identity.h"
#include "ota/verify.h"

namespace tinyedge::app {
namespace {

using ota::Reason;

std::span<const uint8_t> bytes_of(const uint8_t* data, pb_size_t size) { return {data, size}; }

// Blocks are a power of two so the journal's block grid never depends on the gateway's exact
// chunk size, only on its upper bound.
uint32_t block_size_for(uint32_t chunk_size) {
  uint32_t block = OtaClient::kMaxBlockBytes;
  while (block > chunk_size) block /= 2;
  return block;
}

bool encoded(const ota::Manifest& manifest) {
  return manifest.encoding != tinyedge_v1_PayloadEncoding_PAYLOAD_PLAIN;
}

// An encoded block's output goes straight to the inactive slot, and its window is read back from it.
class SlotSink final : public ota::BlockSink {
 public:
  explicit SlotSink(SlotStore& store) : store_(store) {}
  bool write(size_t offset, std::span<const uint8_t> bytes) override {
    return store_.program_download(offset, bytes) == StoreStatus::kOk;
  }
  bool read(size_t offset, std::span<uint8_t> out) const override {
    return store_.read_download(offset, out) == StoreStatus::kOk;
  }

 private:
  SlotStore& store_;
};

}  // namespace

const char* to_string(SelfTestStatus status) {
  switch (status) {
    case SelfTestStatus::kOk: return "ok";
    case SelfTestStatus::kBadModel: return "model does not load";
    case SelfTestStatus::kInputMismatch: return "self-test input does not fit the model";
    case SelfTestStatus::kFailed: return "inference failed";
    case SelfTestStatus::kFrontEndUnsupported: return "model's front-end is not one this node runs";
  }
  return "unknown self-test status";
}

OtaClient::OtaClient(const OtaConfig& config, SlotStore& store, ModelSelfTest& self_test, OtaLink& link)
    : config_(config), store_(store), self_test_(self_test), link_(link) {
  if (config_.window == 0) config_.window = 1;
  if (config_.window > kMaxWindow) config_.window = kMaxWindow;
  window_ = config_.window;
}

uint32_t OtaClient::window_for(uint32_t offered) const {
  if (offered == 0) return config_.window;
  return offered < kMaxWindow ? offered : kMaxWindow;
}

bool OtaClient::is_active_package() const {
  const SlotInfo* active = store_.active();
  return active != nullptr && active->model_id == manifest_.model_id && active->version == manifest_.version &&
         ota::digest_equal(active->sha256, bytes_of(manifest_.payload_sha256.bytes, manifest_.payload_sha256.size));
}

void OtaClient::on_offer(const tinyedge_v1_UpdateOffer& offer, uint32_t now_ms) {
  const auto manifest_bytes = bytes_of(offer.manifest.bytes, offer.manifest.size);
  const ota::Digest digest = ota::sha256(manifest_bytes);
  if (busy()) {
    if (ota::digest_equal(digest, manifest_digest_)) {
      // The same package offered again (the link dropped): ask again for what is missing, with
      // the window of the link it came back on. The block grid stays: it is in the journal.
      window_ = window_for(offer.window);
      outstanding_count_ = 0;
      next_block_ = 0;
      report(tinyedge_v1_OtaState_OTA_DOWNLOADING, Reason::kOk);
      fill_window(now_ms);
    } else {
      // Report without disturbing the download in progress.
      tinyedge_v1_OtaStatus status = tinyedge_v1_OtaStatus_init_zero;
      status.state = tinyedge_v1_OtaState_OTA_REFUSED;
      status.reason = ota::to_wire(Reason::kBusy);
      status.active_version = store_.active() ? store_.active()->version : 0;
      link_.send_ota_status(status);
    }
    return;
  }

  uint64_t grant_created_at = 0;
  const Reason reason = check_offer(offer, grant_created_at);
  if (reason != Reason::kOk) {
    const bool decoded = reason != Reason::kBadManifest && reason != Reason::kUnknownKey &&
                         reason != Reason::kBadSignature;
    refuse(reason, decoded ? manifest_.model_id : 0, decoded ? manifest_.version : 0);
    return;
  }
  if (is_active_package()) {
    // Already running it (e.g. the ACTIVATED report was lost): say so again, change nothing.
    state_ = tinyedge_v1_OtaState_OTA_ACTIVATED;
    last_reason_ = Reason::kOk;
    report(state_, Reason::kOk);
    return;
  }
  manifest_digest_ = digest;
  grant_created_at_ = grant_created_at;
  // An encoded payload's blocks are cut at packing time; a plain one's follow the gateway's chunks.
  block_size_ = encoded(manifest_) ? manifest_.wire_block_bytes : block_size_for(offer.chunk_size);
  window_ = window_for(offer.window);
  start_download(now_ms);
}

Reason OtaClient::check_offer(const tinyedge_v1_UpdateOffer& offer, uint64_t& grant_created_at) {
  const Reason verified = ota::verify_manifest(config_.keys, bytes_of(offer.manifest.bytes, offer.manifest.size),
                                               bytes_of(offer.signature.bytes, offer.signature.size), manifest_);
  if (verified != Reason::kOk) return verified;
  if (is_active_package()) return Reason::kOk;

  // Anti-rollback counts per model id: model 8 v2 may follow model 7 v5, model 7 v4 may not.
  if (manifest_.version <= store_.installed_version(manifest_.model_id)) {
    if (offer.rollback_grant.size == 0) return Reason::kRollback;
    ota::RollbackGrant grant;
    const Reason grant_ok = ota::verify_rollback_grant(
        config_.rollback_keys, bytes_of(offer.rollback_grant.bytes, offer.rollback_grant.size),
        bytes_of(offer.rollback_signature.bytes, offer.rollback_signature.size), grant);
    if (grant_ok == Reason::kUnknownKey || grant_ok == Reason::kBadSignature) return grant_ok;
    const SlotInfo* active = store_.active();
    // A grant is good for one step from the running version to this exact package, once.
    if (grant_ok != Reason::kOk || active == nullptr || active->model_id != manifest_.model_id ||
        grant.model_id != manifest_.model_id || grant.from_version != active->version ||
        grant.to_version != manifest_.version ||
        !ota::digest_equal(bytes_of(grant.to_payload_sha256.bytes, grant.to_payload_sha256.size),
                           bytes_of(manifest_.payload_sha256.bytes, manifest_.payload_sha256.size)) ||
        grant.created_at <= store_.last_grant_created_at())
      return Reason::kRollback;
    grant_created_at = grant.created_at;
  }
  if (!store_.can_track(manifest_.model_id)) return Reason::kRollbackTableFull;
  if (manifest_.hardware_count > 0) {
    bool listed = false;
    for (pb_size_t i = 0; i < manifest_.hardware_count; ++i) {
      listed = listed || std::strcmp(manifest_.hardware[i], config_.hardware) == 0;
    }
    if (!listed) return Reason::kWrongHardware;
  }
  if (manifest_.min_firmware > config_.firmware_version) return Reason::kFirmwareTooOld;
  if (manifest_.payload_size > store_.slot_capacity()) return Reason::kTooLargeForSlot;
  if (manifest_.arena_bytes > config_.arena_bytes) return Reason::kTooLargeForRam;
  if (offer.chunk_size < SlotStore::kMinBlockBytes) return Reason::kBadChunk;
  if (encoded(manifest_) && offer.chunk_size < manifest_.wire_block_bytes) return Reason::kBadChunk;
  // A delta copies from the running model: only the exact base it was made against will do (the
  // gateway then offers the full package instead).
  if (manifest_.encoding == tinyedge_v1_PayloadEncoding_PAYLOAD_LZ_DELTA) {
    const SlotInfo* active = store_.active();
    if (active == nullptr || store_.active_model().empty() ||
        !ota::digest_equal(std::span<const uint8_t>(active->sha256),
                           bytes_of(manifest_.base_sha256.bytes, manifest_.base_sha256.size)))
      return Reason::kBaseMismatch;
  }
  // Last, being the costliest check (an ECDH): a package for another key is refused before any fetch.
  if (ota::is_encrypted(manifest_)) return ota::unwrap_content_key(config_.decryption_key, manifest_, content_key_);
  return Reason::kOk;
}

void OtaClient::start_download(uint32_t now_ms) {
  bool resumed = false;
  const StoreStatus status = store_.begin_download(manifest_digest_, manifest_.payload_size, block_size_, resumed,
                                                   encoded(manifest_) ? manifest_.wire_size : 0);
  if (status == StoreStatus::kTooLarge || status == StoreStatus::kBadLayout) {
    refuse(Reason::kTooLargeForSlot, manifest_.model_id, manifest_.version);
    return;
  }
  state_ = tinyedge_v1_OtaState_OTA_DOWNLOADING;
  last_reason_ = Reason::kOk;
  if (status != StoreStatus::kOk) {
    fail(Reason::kFlashError, false);
    return;
  }
  done_count_ = store_.blocks_done();
  outstanding_count_ = 0;
  next_block_ = 0;
  report(state_, Reason::kOk);
  if (done_count_ == store_.block_count()) {
    finish();
  } else {
    fill_window(now_ms);
  }
}

void OtaClient::request(uint32_t block, uint32_t now_ms, uint32_t retries) {
  tinyedge_v1_ChunkRequest request = tinyedge_v1_ChunkRequest_init_zero;
  request.model_id = manifest_.model_id;
  request.version = manifest_.version;
  request.offset = block * block_size_;
  request.length = store_.block_length(block);
  link_.send_chunk_request(request);
  for (uint32_t i = 0; i < outstanding_count_; ++i) {
    if (outstanding_[i].block == block) {
      outstanding_[i] = {block, now_ms, retries};
      return;
    }
  }
  outstanding_[outstanding_count_++] = {block, now_ms, retries};
}

void OtaClient::fill_window(uint32_t now_ms) {
  while (outstanding_count_ < window_ && next_block_ < store_.block_count()) {
    const uint32_t block = next_block_++;
    if (!store_.block_done(block)) request(block, now_ms, 0);
  }
}

void OtaClient::on_chunk(const tinyedge_v1_Chunk& chunk, uint32_t now_ms) {
  if (!busy() || chunk.model_id != manifest_.model_id || chunk.version != manifest_.version ||
      chunk.offset % block_size_ != 0) {
    ++chunks_rejected_;
    return;
  }
  const uint32_t block = chunk.offset / block_size_;
  if (block >= store_.block_count() || chunk.data.size != store_.block_length(block)) {
    ++chunks_rejected_;
    return;
  }
  bool was_outstanding = false;
  for (uint32_t i = 0; i < outstanding_count_; ++i) {
    if (outstanding_[i].block == block) {
      outstanding_[i] = outstanding_[--outstanding_count_];
      was_outstanding = true;
      break;
    }
  }
  if (!was_outstanding && store_.block_done(block)) return;  // a duplicate: already written
  const Reason stored = store_block(block, bytes_of(chunk.data.bytes, chunk.data.size), chunk.offset);
  if (stored != Reason::kOk) {
    // Bits a malformed block programmed cannot be taken back: the next attempt starts over.
    fail(stored, stored == Reason::kBadEncoding);
    return;
  }
  ++done_count_;
  if (done_count_ >= store_.block_count()) {
    finish();
  } else {
    fill_window(now_ms);
  }
}

// Not inlined: its block buffer must be off the stack before finish() runs the self-test.
[[gnu::noinline]] Reason OtaClient::store_block(uint32_t block, std::span<const uint8_t> wire, uint32_t wire_offset) {
  uint8_t plain[kMaxBlockBytes];
  if (ota::is_encrypted(manifest_)) {
    std::memcpy(plain, wire.data(), wire.size());
    wire = std::span<uint8_t>(plain, wire.size());
    ota::ctr_xor(content_key_, wire_offset, std::span<uint8_t>(plain, wire.size()));
  }
  if (encoded(manifest_)) {
    // Decoded into the slot first, marked after: a cut in between re-fetches and rewrites the block.
    SlotSink sink(store_);
    ota::BlockRange range;
    // A delta's base is the active slot, checked against the signed base hash when offered and
    // never written while active.
    const Reason decoded =
        manifest_.encoding == tinyedge_v1_PayloadEncoding_PAYLOAD_LZ_DELTA
            ? ota::decode_delta_block(wire, manifest_.payload_size, store_.active_model(), sink, range)
            : ota::decode_block(wire, manifest_.payload_size, sink, range);
    if (decoded != Reason::kOk) return decoded;
    return store_.mark_block(block) == StoreStatus::kOk ? Reason::kOk : Reason::kFlashError;
  }
  return store_.write_block(block, wire) == StoreStatus::kOk ? Reason::kOk : Reason::kFlashError;
}

void OtaClient::tick(uint32_t now_ms) {
  if (!busy()) return;
  for (uint32_t i = 0; i < outstanding_count_; ++i) {
    Outstanding& entry = outstanding_[i];
    if (now_ms - entry.sent_ms < config_.request_timeout_ms) continue;
    if (entry.retries >= config_.max_retries) {
      fail(Reason::kTimeout, false);  // the journal stays: a later offer resumes
      return;
    }
    request(entry.block, now_ms, entry.retries + 1);
  }
}

void OtaClient::on_cancel() {
  if (busy()) fail(Reason::kAborted, false);
}

void OtaClient::finish() {
  outstanding_count_ = 0;
  state_ = tinyedge_v1_OtaState_OTA_VERIFYING;
  report(state_, Reason::kOk);
  const auto expected_payload = bytes_of(manifest_.payload_sha256.bytes, manifest_.payload_sha256.size);
  if (!ota::digest_equal(store_.download_digest(), expected_payload)) {
    fail(Reason::kHashMismatch, true);  // the bytes are wrong: the next attempt starts over
    return;
  }
  // The signed bytes are in the slot; they must also be the model the manifest names, or the node
  // would run one model while reporting, and counting anti-rollback for, another.
  uint8_t head[ota::kPayloadIdentityBytes];
  if (store_.read_download(0, head) != StoreStatus::kOk) {
    fail(manifest_.payload_size < sizeof(head) ? Reason::kBadModel : Reason::kFlashError, true);
    return;
  }
  ota::PayloadIdentity found;
  const Reason identity = ota::check_payload_identity(head, manifest_, found);
  if (identity != Reason::kOk) {
    fail(identity, true);
    return;
  }
  ota::Digest output{};
  const auto input = bytes_of(manifest_.self_test_input.bytes, manifest_.self_test_input.size);
  const SelfTestStatus tested = self_test_.run(store_.download_view(), input, output);
  if (tested == SelfTestStatus::kBadModel) {
    fail(Reason::kBadModel, true);
    return;
  }
  if (tested == SelfTestStatus::kFrontEndUnsupported) {
    fail(Reason::kFrontEndUnsupported, true);
    return;
  }
  if (tested != SelfTestStatus::kOk ||
      (manifest_.self_test_output_sha256.size != 0 &&
       !ota::digest_equal(output, bytes_of(manifest_.self_test_output_sha256.bytes,
                                           manifest_.self_test_output_sha256.size)))) {
    fail(Reason::kSelfTestFailed, true);
    return;
  }
  SlotInfo info;
  info.state = kSlotValid;
  info.model_id = manifest_.model_id;
  info.version = manifest_.version;
  info.size = manifest_.payload_size;
  std::memcpy(info.sha256, manifest_.payload_sha256.bytes, sizeof(info.sha256));
  const StoreStatus activated = store_.activate(info, grant_created_at_);
  if (activated == StoreStatus::kTableFull) {
    fail(Reason::kRollbackTableFull, true);
    return;
  }
  if (activated != StoreStatus::kOk) {
    fail(Reason::kFlashError, false);
    return;
  }
  state_ = tinyedge_v1_OtaState_OTA_ACTIVATED;
  last_reason_ = Reason::kOk;
  report(state_, Reason::kOk);
  link_.model_activated();
}

void OtaClient::refuse(Reason reason, uint32_t model_id, uint32_t version) {
  state_ = tinyedge_v1_OtaState_OTA_REFUSED;
  last_reason_ = reason;
  tinyedge_v1_OtaStatus status = tinyedge_v1_OtaStatus_init_zero;
  status.model_id = model_id;
  status.version = version;
  status.state = state_;
  status.reason = ota::to_wire(reason);
  status.active_version = store_.active() ? store_.active()->version : 0;
  link_.send_ota_status(status);
}

void OtaClient::fail(Reason reason, bool forget_download) {
  if (forget_download) store_.clear_download();
  outstanding_count_ = 0;
  state_ = tinyedge_v1_OtaState_OTA_FAILED;
  last_reason_ = reason;
  report(state_, reason);
}

// Progress counts bytes on the wire (the encoded size for an encoded payload).
uint32_t OtaClient::bytes_written() const {
  if (done_count_ >= store_.block_count()) return ota::wire_size_of(manifest_);
  return done_count_ * block_size_;
}

void OtaClient::report(tinyedge_v1_OtaState state, Reason reason) {
  tinyedge_v1_OtaStatus status = tinyedge_v1_OtaStatus_init_zero;
  status.model_id = manifest_.model_id;
  status.version = manifest_.version;
  status.state = state;
  status.reason = ota::to_wire(reason);
  status.bytes_written = state == tinyedge_v1_OtaState_OTA_ACTIVATED ? ota::wire_size_of(manifest_) : bytes_written();
  status.total_bytes = ota::wire_size_of(manifest_);
  status.active_version = store_.active() ? store_.active()->version : 0;
  link_.send_ota_status(status);
}

}  // namespace tinyedge::app
