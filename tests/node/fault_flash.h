// NOR flash in RAM that loses power at a chosen erase/program: that operation is half done (half
// a page erased, half the bytes programmed, the next byte's bits between old and new) and every
// later one fails and changes nothing. The power-cut tests of the OTA slots and of the enrolled-
// class table both run on it.
#pragma once
#include <cstring>
#include <optional>
#include <vector>

#include "node_firmware/app/flash.h"

namespace tinyedge::app::testing {

class FaultFlash final : public app::Flash {
 public:
  FaultFlash(std::vector<uint8_t>& storage, size_t page, size_t unit) : storage_(storage), page_(page), unit_(unit) {}

  void cut_at(std::optional<size_t> op) { cut_at_ = op; }
  bool power_lost() const { return power_lost_; }
  size_t writes() const { return writes_; }

  size_t size() const override { return storage_.size(); }
  size_t page_size() const override { return page_; }
  size_t write_unit() const override { return unit_; }
  std::span<const uint8_t> mapped() const override { return storage_; }

  app::FlashStatus erase_page(size_t page) override {
    if ((page + 1) * page_ > storage_.size()) return app::FlashStatus::kOutOfRange;
    if (!step()) {
      if (cut_now_) std::memset(storage_.data() + page * page_, 0xFF, page_ / 2);
      cut_now_ = false;
      return app::FlashStatus::kFailed;
    }
    std::memset(storage_.data() + page * page_, 0xFF, page_);
    return app::FlashStatus::kOk;
  }

  app::FlashStatus program(size_t offset, std::span<const uint8_t> data) override {
    if (offset + data.size() > storage_.size()) return app::FlashStatus::kOutOfRange;
    if (offset % unit_ != 0 || data.size() % unit_ != 0) return app::FlashStatus::kMisaligned;
    size_t n = data.size();
    const bool ok = step();
    if (!ok) n = cut_now_ ? data.size() / 2 : 0;
    for (size_t i = 0; i < n; ++i) storage_[offset + i] &= data[i];
    if (!ok && cut_now_ && n < data.size()) storage_[offset + n] &= static_cast<uint8_t>(data[n] | 0x0F);
    cut_now_ = false;
    return ok ? app::FlashStatus::kOk : app::FlashStatus::kFailed;
  }

  app::FlashStatus read(size_t offset, std::span<uint8_t> out) const override {
    if (offset + out.size() > storage_.size()) return app::FlashStatus::kOutOfRange;
    std::memcpy(out.data(), storage_.data() + offset, out.size());
    return app::FlashStatus::kOk;
  }

 private:
  bool step() {
    if (power_lost_) return false;
    if (cut_at_ && writes_ == *cut_at_) {
      power_lost_ = cut_now_ = true;
      ++writes_;
      return false;
    }
    ++writes_;
    return true;
  }

  std::vector<uint8_t>& storage_;
  size_t page_, unit_;
  std::optional<size_t> cut_at_;
  size_t writes_ = 0;
  bool power_lost_ = false;
  bool cut_now_ = false;
};

}  // namespace tinyedge::app::testing
