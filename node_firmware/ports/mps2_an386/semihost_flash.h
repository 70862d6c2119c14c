// The board's flash kept in a host file under qemu, so a restarted qemu boots with what the node
// wrote (its model slots, its enrolled classes): the SSRAM at 0x0 stands in for the flash, and
// every erase and program is written through to the file (qemu -append flash=PATH names it) by
// semihosting before it returns, as a real flash holds a write once it completes. At boot the
// file's content, if it has the region's size, replaces the image's erased region; a new file is
// made from the region. Without a file the flash is the SSRAM alone (lost at every start).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "node_firmware/app/flash.h"

namespace tinyedge::mps2 {

// The file behind the whole region [region.begin, region.end): opened once at boot.
class FlashFile {
 public:
  enum class State : uint8_t { kNone, kRestored, kCreated, kFailed };

  // Reads `flash=PATH` from the command line and restores `region` from the file or makes it.
  State open(std::span<uint8_t> region);
  // Writes region bytes [offset, offset + bytes) through to the file; false if the host refused.
  bool write_through(size_t offset, size_t bytes);
  bool is_open() const { return handle_ >= 0; }

 private:
  std::span<uint8_t> region_;
  int32_t handle_ = -1;
};

// A flash over part of the region (at `region_offset`): a MemoryFlash whose changes also reach
// the file. A failed file write is a failed flash operation (kFailed): the node's stores treat it
// as the power cut it would be.
class SemihostFlash final : public app::Flash {
 public:
  SemihostFlash(FlashFile& file, std::span<uint8_t> storage, size_t region_offset, size_t page_size, size_t write_unit)
      : file_(file), memory_(storage, page_size, write_unit), region_offset_(region_offset) {}

  size_t size() const override { return memory_.size(); }
  size_t page_size() const override { return memory_.page_size(); }
  size_t write_unit() const override { return memory_.write_unit(); }
  app::FlashStatus erase_page(size_t page) override;
  app::FlashStatus program(size_t offset, std::span<const uint8_t> data) override;
  app::FlashStatus read(size_t offset, std::span<uint8_t> out) const override { return memory_.read(offset, out); }
  std::span<const uint8_t> mapped() const override { return memory_.mapped(); }

 private:
  app::FlashStatus persist(app::FlashStatus status, size_t offset, size_t bytes);

  FlashFile& file_;
  app::MemoryFlash memory_;
  size_t region_offset_;
};

}  // namespace tinyedge::mps2
