#include "node_firmware/ports/mps2_an386/semihost_flash.h"

#include "node_firmware/ports/mps2_an386/semihost.h"

namespace tinyedge::mps2 {
namespace {

constexpr char kKey[] = "flash=";

// The text after "flash=" up to the next space, or empty.
std::span<const char> flash_path(char* line, uint32_t length) {
  for (uint32_t i = 0; i + sizeof(kKey) - 1 <= length; ++i) {
    if (i > 0 && line[i - 1] != ' ') continue;
    bool match = true;
    for (uint32_t k = 0; k + 1 < sizeof(kKey) && match; ++k) match = line[i + k] == kKey[k];
    if (!match) continue;
    const uint32_t begin = i + sizeof(kKey) - 1;
    uint32_t end = begin;
    while (end < length && line[end] != ' ') ++end;
    line[end] = '\0';  // SYS_OPEN wants the name NUL-terminated as well as its length
    return {line + begin, end - begin};
  }
  return {};
}

}  // namespace

FlashFile::State FlashFile::open(std::span<uint8_t> region) {
  region_ = region;
  char line[256];
  const uint32_t length = semihost_command_line(line, sizeof line);
  const std::span<const char> path = flash_path(line, length);
  if (path.empty()) return State::kNone;
  const auto path_length = static_cast<uint32_t>(path.size());
  handle_ = semihost_open(path.data(), path_length, SemihostMode::kReadWrite);
  if (handle_ >= 0 && semihost_file_length(handle_) == static_cast<int32_t>(region.size()) &&
      semihost_seek(handle_, 0) && semihost_read(handle_, region.data(), static_cast<uint32_t>(region.size())))
    return State::kRestored;
  // Missing, or another image's layout: start from this image's erased flash.
  handle_ = semihost_open(path.data(), path_length, SemihostMode::kCreate);
  if (handle_ >= 0 && write_through(0, region.size())) return State::kCreated;
  handle_ = -1;
  return State::kFailed;
}

bool FlashFile::write_through(size_t offset, size_t bytes) {
  if (handle_ < 0) return true;  // no file: the SSRAM is all there is
  if (offset > region_.size() || bytes > region_.size() - offset) return false;
  return semihost_seek(handle_, static_cast<uint32_t>(offset)) &&
         semihost_write_file(handle_, region_.data() + offset, static_cast<uint32_t>(bytes));
}

app::FlashStatus SemihostFlash::persist(app::FlashStatus status, size_t offset, size_t bytes) {
  if (status != app::FlashStatus::kOk) return status;
  return file_.write_through(region_offset_ + offset, bytes) ? app::FlashStatus::kOk : app::FlashStatus::kFailed;
}

app::FlashStatus SemihostFlash::erase_page(size_t page) {
  return persist(memory_.erase_page(page), page * memory_.page_size(), memory_.page_size());
}

app::FlashStatus SemihostFlash::program(size_t offset, std::span<const uint8_t> data) {
  return persist(memory_.program(offset, data), offset, data.size());
}

}  // namespace tinyedge::mps2
