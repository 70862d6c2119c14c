#include "node_firmware/app/slot_store.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace tinyedge::app {
namespace {

constexpr uint32_t kRecordMagic = 0x32424554;        // "TEB2": per-model anti-rollback floors
constexpr uint32_t kLegacyRecordMagic = 0x54454252;  // "TEBR": one floor for all models
constexpr uint32_t kJournalMagic = 0x54454a4e;  // "TEJN"
constexpr size_t kMaxWriteUnit = 16;

struct JournalHeader {
  uint32_t magic;
  uint32_t target_slot;
  uint32_t payload_size;
  uint32_t block_size;
  uint8_t manifest_digest[ota::kDigestBytes];
  uint32_t crc;
};
// The boot record as firmware before per-model floors wrote it; read, converted, never written.
struct LegacyBootRecord {
  uint32_t magic;
  uint32_t sequence;
  uint32_t active_slot;
  uint32_t installed_version;
  uint64_t last_grant_created_at;
  SlotInfo slots[2];
  uint32_t crc;
  uint32_t reserved;
};
static_assert(sizeof(LegacyBootRecord) == 128 && sizeof(LegacyBootRecord) <= sizeof(BootRecord));

static_assert(sizeof(JournalHeader) <= SlotStore::kJournalHeaderBytes);
static_assert(std::is_trivially_copyable_v<BootRecord> && sizeof(BootRecord) % kMaxWriteUnit == 0);

template <typename T>
uint32_t crc_before(const T& value, const uint32_t T::*crc_field) {
  const size_t length = reinterpret_cast<const uint8_t*>(&(value.*crc_field)) - reinterpret_cast<const uint8_t*>(&value);
  return crc32(std::span(reinterpret_cast<const uint8_t*>(&value), length));
}

size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

}  // namespace

const char* to_string(StoreStatus status) {
  switch (status) {
    case StoreStatus::kOk: return "ok";
    case StoreStatus::kNoRecord: return "no boot record";
    case StoreStatus::kCorrupt: return "no slot holds an intact model";
    case StoreStatus::kFlashError: return "flash error";
    case StoreStatus::kTooLarge: return "too large for a slot";
    case StoreStatus::kBadLayout: return "flash layout unusable";
    case StoreStatus::kBadBlock: return "bad block";
    case StoreStatus::kTableFull: return "anti-rollback table full";
  }
  return "unknown store status";
}

uint32_t crc32(std::span<const uint8_t> bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (uint8_t byte : bytes) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

SlotStore::SlotStore(Flash& flash) : flash_(flash) {
  const size_t page = flash_.page_size();
  const size_t unit = flash_.write_unit();
  if (page == 0 || unit == 0 || unit > kMaxWriteUnit || kJournalHeaderBytes % unit != 0 ||
      kMinBlockBytes % unit != 0 || sizeof(BootRecord) > page)
    return;
  const size_t pages = flash_.size() / page;
  // The journal must hold a mark per block of the largest payload; its size depends on the slot
  // size, which depends on the journal's: two rounds settle it.
  size_t journal = 1;
  for (int round = 0; round < 3; ++round) {
    if (pages < 2 + journal + 2) return;
    const size_t slot = (pages - 2 - journal) / 2;
    const size_t blocks = ceil_div(slot * page, kMinBlockBytes);
    journal = ceil_div(kJournalHeaderBytes + unit * (1 + blocks), page);
  }
  if (pages < 2 + journal + 2) return;
  journal_pages_ = journal;
  slot_pages_ = (pages - 2 - journal) / 2;
  max_blocks_ = (journal * page - kJournalHeaderBytes) / unit - 1;
}

StoreStatus SlotStore::erase_pages(size_t first_page, size_t count) {
  for (size_t p = first_page; p < first_page + count; ++p) {
    if (flash_.erase_page(p) != FlashStatus::kOk) return StoreStatus::kFlashError;
  }
  return StoreStatus::kOk;
}

// Programs data whose length need not be a multiple of the write unit: the tail is padded with
// 0xFF, which programming leaves as it is.
StoreStatus SlotStore::program_padded(size_t offset, std::span<const uint8_t> data) {
  const size_t unit = flash_.write_unit();
  const size_t aligned = data.size() - data.size() % unit;
  if (aligned > 0 && flash_.program(offset, data.first(aligned)) != FlashStatus::kOk) return StoreStatus::kFlashError;
  if (aligned < data.size()) {
    uint8_t tail[kMaxWriteUnit];
    std::memset(tail, 0xFF, sizeof(tail));
    std::memcpy(tail, data.data() + aligned, data.size() - aligned);
    if (flash_.program(offset + aligned, std::span(tail, unit)) != FlashStatus::kOk) return StoreStatus::kFlashError;
  }
  return StoreStatus::kOk;
}

ota::Digest SlotStore::slot_digest(int slot, uint32_t size) const {
  ota::Sha256 hash;
  uint8_t buffer[128];
  for (uint32_t done = 0; done < size;) {
    const uint32_t n = std::min<uint32_t>(sizeof(buffer), size - done);
    if (flash_.read(slot_offset(slot) + done, std::span(buffer, n)) != FlashStatus::kOk) return ota::Digest{};
    hash.update(std::span(buffer, n));
    done += n;
  }
  return hash.finish();
}

bool SlotStore::slot_matches(const SlotInfo& info, int slot) const {
  if (info.state != kSlotValid || info.size == 0 || info.size > slot_capacity()) return false;
  return ota::digest_equal(slot_digest(slot, info.size), info.sha256);
}

// A valid record in either format; a legacy one comes back converted (its single floor becomes
// the floor of the model in its active slot).
bool SlotStore::read_record(int copy, BootRecord& out) const {
  BootRecord candidate;
  if (flash_.read(copy * flash_.page_size(), std::span(reinterpret_cast<uint8_t*>(&candidate), sizeof(candidate))) !=
      FlashStatus::kOk)
    return false;
  if (candidate.magic == kRecordMagic) {
    if (candidate.crc != crc_before(candidate, &BootRecord::crc) || candidate.active_slot > 1 ||
        candidate.floor_count > kMaxModelFloors)
      return false;
    out = candidate;
    return true;
  }
  LegacyBootRecord legacy;
  static_assert(std::is_trivially_copyable_v<LegacyBootRecord>);
  std::memcpy(static_cast<void*>(&legacy), &candidate, sizeof(legacy));
  if (legacy.magic != kLegacyRecordMagic || legacy.crc != crc_before(legacy, &LegacyBootRecord::crc) ||
      legacy.active_slot > 1)
    return false;
  out = BootRecord{};
  out.magic = kLegacyRecordMagic;
  out.sequence = legacy.sequence;
  out.active_slot = legacy.active_slot;
  out.last_grant_created_at = legacy.last_grant_created_at;
  out.slots[0] = legacy.slots[0];
  out.slots[1] = legacy.slots[1];
  const SlotInfo& active = legacy.slots[legacy.active_slot];
  if (active.state == kSlotValid && legacy.installed_version > 0) {
    out.floors[0] = {active.model_id, legacy.installed_version};
    out.floor_count = 1;
  }
  return true;
}

StoreStatus SlotStore::mount() {
  has_record_ = false;
  current_copy_ = -1;
  booted_slot_ = -1;
  fell_back_ = false;
  legacy_record_ = false;
  download_slot_ = -1;
  if (!layout_ok()) return StoreStatus::kBadLayout;
  for (int copy = 0; copy < 2; ++copy) {
    BootRecord candidate;
    if (!read_record(copy, candidate)) continue;
    if (!has_record_ || candidate.sequence > record_.sequence) {
      record_ = candidate;
      has_record_ = true;
      current_copy_ = copy;
    }
  }
  legacy_record_ = has_record_ && record_.magic == kLegacyRecordMagic;
  if (!has_record_) return StoreStatus::kNoRecord;
  const int active = static_cast<int>(record_.active_slot);
  if (slot_matches(record_.slots[active], active)) {
    booted_slot_ = active;
  } else if (slot_matches(record_.slots[1 - active], 1 - active)) {
    booted_slot_ = 1 - active;  // the active slot is damaged: run the previous model
    fell_back_ = true;
  } else {
    return StoreStatus::kCorrupt;
  }
  return StoreStatus::kOk;
}

std::span<const uint8_t> SlotStore::active_model() const {
  const auto view = flash_.mapped();
  if (!has_model() || view.empty()) return {};
  return view.subspan(slot_offset(booted_slot_), record_.slots[booted_slot_].size);
}

StoreStatus SlotStore::format() {
  if (!layout_ok()) return StoreStatus::kBadLayout;
  const StoreStatus status = erase_pages(0, 2 + journal_pages_);
  mount();
  return status;
}

StoreStatus SlotStore::write_record(const BootRecord& next) {
  BootRecord record = next;
  record.magic = kRecordMagic;
  record.reserved = 0;
  record.crc = crc_before(record, &BootRecord::crc);
  const int copy = current_copy_ == 0 ? 1 : 0;  // never the copy holding the current record
  if (erase_pages(copy, 1) != StoreStatus::kOk) return StoreStatus::kFlashError;
  if (flash_.program(copy * flash_.page_size(), std::span(reinterpret_cast<const uint8_t*>(&record), sizeof(record))) !=
      FlashStatus::kOk)
    return StoreStatus::kFlashError;
  BootRecord back;
  if (flash_.read(copy * flash_.page_size(), std::span(reinterpret_cast<uint8_t*>(&back), sizeof(back))) !=
          FlashStatus::kOk ||
      std::memcmp(&back, &record, sizeof(record)) != 0)
    return StoreStatus::kFlashError;
  record_ = record;
  has_record_ = true;
  current_copy_ = copy;
  legacy_record_ = false;
  return StoreStatus::kOk;
}

uint32_t SlotStore::installed_version(uint32_t model_id) const {
  if (!has_record_) return 0;
  for (uint32_t i = 0; i < record_.floor_count; ++i) {
    if (record_.floors[i].model_id == model_id) return record_.floors[i].version;
  }
  return 0;
}

bool SlotStore::can_track(uint32_t model_id) const {
  if (!has_record_ || record_.floor_count < kMaxModelFloors) return true;
  for (uint32_t i = 0; i < record_.floor_count; ++i) {
    if (record_.floors[i].model_id == model_id) return true;
  }
  return false;
}

// Sets the floor of `model_id` to `version` (a consumed grant may lower it); false when the
// model has no entry and the table is full.
bool SlotStore::set_floor(BootRecord& record, uint32_t model_id, uint32_t version) {
  for (uint32_t i = 0; i < record.floor_count; ++i) {
    if (record.floors[i].model_id == model_id) {
      record.floors[i].version = version;
      return true;
    }
  }
  if (record.floor_count >= kMaxModelFloors) return false;
  record.floors[record.floor_count++] = {model_id, version};
  return true;
}

StoreStatus SlotStore::provision(std::span<const uint8_t> payload, uint32_t model_id, uint32_t version) {
  if (!layout_ok()) return StoreStatus::kBadLayout;
  if (payload.empty() || payload.size() > slot_capacity()) return StoreStatus::kTooLarge;
  if (!can_track(model_id)) return StoreStatus::kTableFull;
  const int slot = inactive_slot();
  const size_t first_page = slot_offset(slot) / flash_.page_size();
  if (erase_pages(first_page, ceil_div(payload.size(), flash_.page_size())) != StoreStatus::kOk ||
      program_padded(slot_offset(slot), payload) != StoreStatus::kOk)
    return StoreStatus::kFlashError;
  SlotInfo info;
  info.state = kSlotValid;
  info.model_id = model_id;
  info.version = version;
  info.size = static_cast<uint32_t>(payload.size());
  const ota::Digest digest = ota::sha256(payload);
  std::memcpy(info.sha256, digest.data(), digest.size());
  BootRecord next = has_record_ ? record_ : BootRecord{};
  if (!set_floor(next, model_id, version)) return StoreStatus::kTableFull;
  next.sequence = record_sequence() + 1;
  next.active_slot = static_cast<uint32_t>(slot);
  next.slots[slot] = info;
  if (write_record(next) != StoreStatus::kOk) return StoreStatus::kFlashError;
  return mount();
}

// --- journal ---

size_t SlotStore::mark_offset(uint32_t index) const {
  return journal_offset() + kJournalHeaderBytes + static_cast<size_t>(index) * flash_.write_unit();
}

bool SlotStore::mark_set(uint32_t index) const {
  uint8_t mark[kMaxWriteUnit];
  const size_t unit = flash_.write_unit();
  if (flash_.read(mark_offset(index), std::span(mark, unit)) != FlashStatus::kOk) return false;
  // Only a fully programmed mark counts: a cut mid-program leaves some bits set.
  return std::all_of(mark, mark + unit, [](uint8_t b) { return b == 0; });
}

StoreStatus SlotStore::set_mark(uint32_t index) {
  const uint8_t zeros[kMaxWriteUnit] = {};
  return flash_.program(mark_offset(index), std::span(zeros, flash_.write_unit())) == FlashStatus::kOk
             ? StoreStatus::kOk
             : StoreStatus::kFlashError;
}

StoreStatus SlotStore::begin_download(const ota::Digest& manifest_digest, uint32_t payload_size, uint32_t block_size,
                                      bool& resumed, uint32_t wire_size) {
  resumed = false;
  download_slot_ = -1;
  if (!layout_ok()) return StoreStatus::kBadLayout;
  if (block_size < kMinBlockBytes || block_size % flash_.write_unit() != 0) return StoreStatus::kBadLayout;
  if (payload_size == 0 || payload_size > slot_capacity()) return StoreStatus::kTooLarge;
  if (wire_size == 0) wire_size = payload_size;
  const uint32_t blocks = static_cast<uint32_t>(ceil_div(wire_size, block_size));
  if (blocks > max_blocks_) return StoreStatus::kTooLarge;
  const int target = inactive_slot();

  JournalHeader header;
  const bool readable =
      flash_.read(journal_offset(), std::span(reinterpret_cast<uint8_t*>(&header), sizeof(header))) == FlashStatus::kOk;
  const bool same = readable && header.magic == kJournalMagic && header.crc == crc_before(header, &JournalHeader::crc) &&
                    header.target_slot == static_cast<uint32_t>(target) && header.payload_size == payload_size &&
                    header.block_size == block_size &&
                    ota::digest_equal(header.manifest_digest, manifest_digest);
  if (!same) {
    if (erase_pages(journal_offset() / flash_.page_size(), journal_pages_) != StoreStatus::kOk)
      return StoreStatus::kFlashError;
    JournalHeader fresh{};
    fresh.magic = kJournalMagic;
    fresh.target_slot = static_cast<uint32_t>(target);
    fresh.payload_size = payload_size;
    fresh.block_size = block_size;
    std::memcpy(fresh.manifest_digest, manifest_digest.data(), manifest_digest.size());
    fresh.crc = crc_before(fresh, &JournalHeader::crc);
    uint8_t bytes[kJournalHeaderBytes];
    std::memset(bytes, 0xFF, sizeof(bytes));
    std::memcpy(bytes, &fresh, sizeof(fresh));
    if (flash_.program(journal_offset(), std::span(bytes, sizeof(bytes))) != FlashStatus::kOk)
      return StoreStatus::kFlashError;
  }
  // The target pages are erased once per download; the mark after it says the erase completed.
  if (!same || !mark_set(0)) {
    const size_t first_page = slot_offset(target) / flash_.page_size();
    if (erase_pages(first_page, ceil_div(payload_size, flash_.page_size())) != StoreStatus::kOk ||
        set_mark(0) != StoreStatus::kOk)
      return StoreStatus::kFlashError;
  } else {
    resumed = true;
  }
  download_slot_ = target;
  payload_size_ = payload_size;
  wire_size_ = wire_size;
  block_size_ = block_size;
  block_count_ = blocks;
  return StoreStatus::kOk;
}

uint32_t SlotStore::block_length(uint32_t index) const {
  if (index >= block_count_) return 0;
  return index + 1 < block_count_ ? block_size_ : wire_size_ - index * block_size_;
}

bool SlotStore::block_done(uint32_t index) const {
  return download_slot_ >= 0 && index < block_count_ && mark_set(index + 1);
}

uint32_t SlotStore::blocks_done() const {
  uint32_t done = 0;
  for (uint32_t i = 0; i < block_count_; ++i) done += block_done(i) ? 1 : 0;
  return done;
}

StoreStatus SlotStore::write_block(uint32_t index, std::span<const uint8_t> data) {
  if (download_slot_ < 0 || index >= block_count_ || data.size() != block_length(index)) return StoreStatus::kBadBlock;
  // Reprogramming a block a cut interrupted writes the same bits again, which NOR flash allows.
  if (program_padded(slot_offset(download_slot_) + static_cast<size_t>(index) * block_size_, data) !=
      StoreStatus::kOk)
    return StoreStatus::kFlashError;
  return set_mark(index + 1);
}

StoreStatus SlotStore::program_download(size_t offset, std::span<const uint8_t> data) {
  if (download_slot_ < 0 || offset % flash_.write_unit() != 0 || offset > payload_size_ ||
      data.size() > payload_size_ - offset)
    return StoreStatus::kBadBlock;
  return program_padded(slot_offset(download_slot_) + offset, data);
}

StoreStatus SlotStore::mark_block(uint32_t index) {
  if (download_slot_ < 0 || index >= block_count_) return StoreStatus::kBadBlock;
  return set_mark(index + 1);
}

ota::Digest SlotStore::download_digest() const {
  if (download_slot_ < 0) return ota::Digest{};
  return slot_digest(download_slot_, payload_size_);
}

std::span<const uint8_t> SlotStore::download_view() const {
  const auto view = flash_.mapped();
  if (download_slot_ < 0 || view.empty()) return {};
  return view.subspan(slot_offset(download_slot_), payload_size_);
}

StoreStatus SlotStore::read_download(size_t offset, std::span<uint8_t> out) const {
  if (download_slot_ < 0 || offset > payload_size_ || out.size() > payload_size_ - offset)
    return StoreStatus::kBadBlock;
  return flash_.read(slot_offset(download_slot_) + offset, out) == FlashStatus::kOk ? StoreStatus::kOk
                                                                                    : StoreStatus::kFlashError;
}

StoreStatus SlotStore::activate(const SlotInfo& info, uint64_t grant_created_at) {
  if (download_slot_ < 0) return StoreStatus::kBadBlock;
  BootRecord next = has_record_ ? record_ : BootRecord{};
  if (!set_floor(next, info.model_id, info.version)) return StoreStatus::kTableFull;
  next.sequence = record_sequence() + 1;
  next.active_slot = static_cast<uint32_t>(download_slot_);
  next.last_grant_created_at = std::max(next.last_grant_created_at, grant_created_at);
  next.slots[download_slot_] = info;
  next.slots[download_slot_].state = kSlotValid;
  if (write_record(next) != StoreStatus::kOk) return StoreStatus::kFlashError;
  booted_slot_ = download_slot_;
  fell_back_ = false;
  download_slot_ = -1;
  // A journal left behind by a cut here names the now-active slot, so begin_download ignores it.
  return clear_download();
}

StoreStatus SlotStore::clear_download() {
  download_slot_ = -1;
  block_count_ = 0;
  return erase_pages(journal_offset() / flash_.page_size(), 1);
}

}  // namespace tinyedge::app
