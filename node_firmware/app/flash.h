// The flash the node keeps its models and boot record in, with NOR semantics: erase sets a page
// to 0xFF, program can only clear bits (1→0), in multiples of write_unit() at aligned offsets.
// A port implements it over its real flash (or a file); tests implement it with fault injection.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

namespace tinyedge::app {

enum class FlashStatus : uint8_t {
  kOk,
  kOutOfRange,  // offset/length beyond the device
  kMisaligned,  // offset or length not a multiple of write_unit()
  kFailed,      // the device reported an error (or power was lost mid-operation)
};

const char* to_string(FlashStatus status);

class Flash {
 public:
  virtual size_t size() const = 0;
  virtual size_t page_size() const = 0;
  virtual size_t write_unit() const = 0;

  virtual FlashStatus erase_page(size_t page) = 0;
  virtual FlashStatus program(size_t offset, std::span<const uint8_t> data) = 0;
  virtual FlashStatus read(size_t offset, std::span<uint8_t> out) const = 0;

  // Execute-in-place view of the whole device (models run straight from it); empty if the
  // device is not memory-mapped.
  virtual std::span<const uint8_t> mapped() const = 0;

 protected:
  ~Flash() = default;
};

// Flash over a caller-owned buffer (qemu's RAM standing in for flash, host nodes, tests).
class MemoryFlash final : public Flash {
 public:
  MemoryFlash(std::span<uint8_t> storage, size_t page_size, size_t write_unit)
      : storage_(storage), page_size_(page_size), write_unit_(write_unit) {}

  size_t size() const override { return storage_.size(); }
  size_t page_size() const override { return page_size_; }
  size_t write_unit() const override { return write_unit_; }
  FlashStatus erase_page(size_t page) override;
  FlashStatus program(size_t offset, std::span<const uint8_t> data) override;
  FlashStatus read(size_t offset, std::span<uint8_t> out) const override;
  std::span<const uint8_t> mapped() const override { return storage_; }

 private:
  std::span<uint8_t> storage_;
  size_t page_size_;
  size_t write_unit_;
};

}  // namespace tinyedge::app
