// A simulated node's flash: a file per node (<data-dir>/<node>/flash.bin), memory-mapped so the
// model executes in place from it like from NOR flash. Erase and program keep NOR semantics
// (erase sets 0xFF, program only clears bits); the kernel writes the pages back to the file,
// so installed models and the boot record survive a restart of tinyedge-node.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>

#include "node_firmware/app/flash.h"

namespace tinyedge::host {

class FileFlash final : public app::Flash {
 public:
  static constexpr size_t kPageBytes = 4096;
  static constexpr size_t kWriteUnit = 4;

  // Opens or creates (erased) the file with `bytes` (a multiple of kPageBytes). Throws
  // std::runtime_error naming the file if it cannot be mapped or has another size.
  FileFlash(const std::filesystem::path& file, size_t bytes);
  ~FileFlash();
  FileFlash(const FileFlash&) = delete;
  FileFlash& operator=(const FileFlash&) = delete;

  size_t size() const override { return size_; }
  size_t page_size() const override { return kPageBytes; }
  size_t write_unit() const override { return kWriteUnit; }
  app::FlashStatus erase_page(size_t page) override { return memory_.erase_page(page); }
  app::FlashStatus program(size_t offset, std::span<const uint8_t> data) override {
    return memory_.program(offset, data);
  }
  app::FlashStatus read(size_t offset, std::span<uint8_t> out) const override { return memory_.read(offset, out); }
  std::span<const uint8_t> mapped() const override { return memory_.mapped(); }

 private:
  uint8_t* map_ = nullptr;
  size_t size_ = 0;
  app::MemoryFlash memory_;
};

}  // namespace tinyedge::host
