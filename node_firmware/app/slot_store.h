// A/B model slots in flash with a power-safe boot record and a resumable download journal.
//
// Layout (pages): [record copy 0][record copy 1][journal ...][slot 0 ...][slot 1 ...]
// - Boot record: two copies, each with a sequence number and CRC-32. A new record is always
//   written over the copy that is NOT the current one, so a power cut mid-write leaves the
//   current record intact; at boot the valid copy with the highest sequence wins.
// - The record names the active slot (model id, version, size, SHA-256), an anti-rollback floor
//   per model id (a bounded table: a node can run different models over its life, and model 8 v2
//   must not be refused because model 7 reached v5), plus the created_at of the last rollback
//   grant consumed.
// - Records written by older firmware (one floor for every model, magic "TEBR") still mount: the
//   old floor is taken as the floor of the model in the record's active slot (the model it was
//   last raised for), and the next record written is in the new format. Until then the old record
//   stays on flash untouched, so a power cut during that first write boots the old record again.
// - Journal: the download in progress (manifest digest, target slot, size, block size), an
//   "erased" mark and one mark (one write unit of zeros) per block written. Blocks are marked
//   only after their data is programmed, so a resumed download re-fetches only unmarked blocks.
// The active slot is never erased or programmed while it is active.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "node_firmware/app/flash.h"
#include "ota/sha256.h"

namespace tinyedge::app {

enum class StoreStatus : uint8_t {
  kOk,
  kNoRecord,    // no valid boot record: nothing installed
  kCorrupt,     // a record exists but neither slot it names holds a model with the right hash
  kFlashError,  // the flash refused an operation (or power was lost)
  kTooLarge,    // payload larger than a slot or the journal can track
  kBadLayout,   // flash too small, or write unit / block size the store cannot use
  kBadBlock,    // block index or length does not fit the download
  kTableFull,   // no room for another model id's anti-rollback floor
};

const char* to_string(StoreStatus status);

struct SlotInfo {
  uint32_t state = 0;  // kSlotValid or 0
  uint32_t model_id = 0;
  uint32_t version = 0;
  uint32_t size = 0;
  uint8_t sha256[ota::kDigestBytes] = {};
};
inline constexpr uint32_t kSlotValid = 0x56414c44;  // "VALD"

// Model ids a node keeps an anti-rollback floor for. Never evicted: forgetting a floor would let
// that model's old (possibly vulnerable) versions install again.
inline constexpr uint32_t kMaxModelFloors = 8;

struct ModelFloor {
  uint32_t model_id = 0;
  uint32_t version = 0;  // lowest version allowed without a grant is version + 1
};

struct BootRecord {
  uint32_t magic = 0;
  uint32_t sequence = 0;
  uint32_t active_slot = 0;
  uint32_t floor_count = 0;
  uint64_t last_grant_created_at = 0;
  SlotInfo slots[2];
  ModelFloor floors[kMaxModelFloors];
  uint32_t crc = 0;
  uint32_t reserved = 0;
};

class SlotStore {
 public:
  static constexpr size_t kMinBlockBytes = 128;  // journal sized for blocks at least this large
  static constexpr size_t kJournalHeaderBytes = 64;

  explicit SlotStore(Flash& flash);

  // Reads the records, picks the newest valid one and checks the active slot's SHA-256 (falling
  // back to the other slot if its content is damaged). kOk: a model is ready in active_model().
  StoreStatus mount();

  // Factory state: erases records and journal (models become unreachable).
  StoreStatus format();
  // Factory / test image: writes `payload` into a slot and makes it active with a new record.
  // kTableFull if `model_id` would need a floor and the table is full (nothing is written).
  StoreStatus provision(std::span<const uint8_t> payload, uint32_t model_id, uint32_t version);

  bool layout_ok() const { return slot_pages_ > 0; }
  bool has_model() const { return booted_slot_ >= 0; }
  const SlotInfo* active() const { return has_model() ? &record_.slots[booted_slot_] : nullptr; }
  std::span<const uint8_t> active_model() const;
  // The anti-rollback floor of `model_id`: the last version installed (0: never installed).
  uint32_t installed_version(uint32_t model_id) const;
  // False when `model_id` has no floor yet and the table is full (activating it would fail).
  bool can_track(uint32_t model_id) const;
  uint32_t floor_count() const { return has_record_ ? record_.floor_count : 0; }
  // True after mounting a record written by older firmware (not yet rewritten in the new format).
  bool legacy_record() const { return legacy_record_; }
  uint64_t last_grant_created_at() const { return has_record_ ? record_.last_grant_created_at : 0; }
  bool fell_back() const { return fell_back_; }
  uint32_t record_sequence() const { return has_record_ ? record_.sequence : 0; }
  int inactive_slot() const { return booted_slot_ == 1 ? 0 : 1; }
  size_t slot_capacity() const { return slot_pages_ * flash_.page_size(); }
  size_t max_blocks() const { return max_blocks_; }

  // --- download into the inactive slot ---
  // Resumes the journal if it describes this very download (same manifest digest, size, block
  // size, target slot); otherwise starts over: new journal, erased target pages. `resumed` says which.
  // An encoded payload (wire_size != 0) is journalled in blocks of its wire bytes, while the slot
  // receives payload_size decoded bytes through program_download and mark_block.
  StoreStatus begin_download(const ota::Digest& manifest_digest, uint32_t payload_size, uint32_t block_size,
                             bool& resumed, uint32_t wire_size = 0);
  uint32_t block_count() const { return block_count_; }
  uint32_t block_size() const { return block_size_; }
  uint32_t block_length(uint32_t index) const;
  bool block_done(uint32_t index) const;
  uint32_t blocks_done() const;
  // Programs the block's data, then its mark.
  StoreStatus write_block(uint32_t index, std::span<const uint8_t> data);
  // Encoded downloads: programs decoded bytes at `offset` of the payload (a multiple of the write
  // unit; a tail shorter than one is padded), and marks a wire block once all its output is in.
  [[nodiscard]] StoreStatus program_download(size_t offset, std::span<const uint8_t> data);
  [[nodiscard]] StoreStatus mark_block(uint32_t index);
  // SHA-256 of the first payload_size bytes of the download slot.
  ota::Digest download_digest() const;
  std::span<const uint8_t> download_view() const;
  // Reads downloaded bytes (within the payload) from the download slot; kBadBlock outside it.
  [[nodiscard]] StoreStatus read_download(size_t offset, std::span<uint8_t> out) const;
  // Makes the downloaded slot active (new boot record, the model's floor set to its version) and
  // clears the journal. kTableFull (nothing changed) if the model needs a floor and none is free.
  StoreStatus activate(const SlotInfo& info, uint64_t grant_created_at);
  // Forgets the download in progress (the next one starts from zero).
  StoreStatus clear_download();

 private:
  size_t slot_offset(int slot) const { return (2 + journal_pages_ + slot * slot_pages_) * flash_.page_size(); }
  size_t journal_offset() const { return 2 * flash_.page_size(); }
  size_t mark_offset(uint32_t index) const;  // index 0 = "erased", block i = i + 1
  bool mark_set(uint32_t index) const;
  StoreStatus set_mark(uint32_t index);
  StoreStatus erase_pages(size_t first_page, size_t count);
  StoreStatus program_padded(size_t offset, std::span<const uint8_t> data);
  StoreStatus write_record(const BootRecord& record);
  bool read_record(int copy, BootRecord& out) const;
  static bool set_floor(BootRecord& record, uint32_t model_id, uint32_t version);
  bool slot_matches(const SlotInfo& info, int slot) const;
  ota::Digest slot_digest(int slot, uint32_t size) const;

  Flash& flash_;
  size_t journal_pages_ = 0;
  size_t slot_pages_ = 0;
  size_t max_blocks_ = 0;

  BootRecord record_{};
  bool has_record_ = false;
  int current_copy_ = -1;
  int booted_slot_ = -1;
  bool fell_back_ = false;
  bool legacy_record_ = false;

  // The download in progress.
  int download_slot_ = -1;
  uint32_t payload_size_ = 0;
  uint32_t wire_size_ = 0;  // what the block grid covers: payload_size_ unless encoded
  uint32_t block_size_ = 0;
  uint32_t block_count_ = 0;
};

uint32_t crc32(std::span<const uint8_t> bytes);

}  // namespace tinyedge::app
