#include "node_firmware/app/flash.h"

#include <cstring>

namespace tinyedge::app {

const char* to_string(FlashStatus status) {
  switch (status) {
    case FlashStatus::kOk: return "ok";
    case FlashStatus::kOutOfRange: return "out of range";
    case FlashStatus::kMisaligned: return "misaligned";
    case FlashStatus::kFailed: return "flash failed";
  }
  return "unknown flash status";
}

FlashStatus MemoryFlash::erase_page(size_t page) {
  if ((page + 1) * page_size_ > storage_.size()) return FlashStatus::kOutOfRange;
  std::memset(storage_.data() + page * page_size_, 0xFF, page_size_);
  return FlashStatus::kOk;
}

FlashStatus MemoryFlash::program(size_t offset, std::span<const uint8_t> data) {
  if (offset > storage_.size() || data.size() > storage_.size() - offset) return FlashStatus::kOutOfRange;
  if (offset % write_unit_ != 0 || data.size() % write_unit_ != 0) return FlashStatus::kMisaligned;
  // NOR: programming clears bits, it never sets them.
  for (size_t i = 0; i < data.size(); ++i) storage_[offset + i] &= data[i];
  return FlashStatus::kOk;
}

FlashStatus MemoryFlash::read(size_t offset, std::span<uint8_t> out) const {
  if (offset > storage_.size() || out.size() > storage_.size() - offset) return FlashStatus::kOutOfRange;
  std::memcpy(out.data(), storage_.data() + offset, out.size());
  return FlashStatus::kOk;
}

}  // namespace tinyedge::app
