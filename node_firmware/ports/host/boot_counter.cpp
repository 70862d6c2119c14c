#include "node_firmware/ports/host/boot_counter.h"

#include <fstream>
#include <stdexcept>
#include <string>

namespace tinyedge::host {

uint32_t next_boot_id(const std::filesystem::path& node_dir) {
  std::filesystem::create_directories(node_dir);
  const std::filesystem::path file = node_dir / "boot_id";
  uint32_t last = 0;
  if (std::filesystem::exists(file)) {
    std::ifstream in(file);
    std::string text;
    in >> text;
    try {
      size_t used = 0;
      const unsigned long v = std::stoul(text, &used);
      if (used != text.size() || v > 0xFFFFFFFEul) throw std::out_of_range("boot id");
      last = static_cast<uint32_t>(v);
    } catch (const std::exception&) {
      throw std::runtime_error("boot counter " + file.string() + " holds '" + text + "', not a number");
    }
  }
  const uint32_t next = last + 1;
  const std::filesystem::path tmp = node_dir / "boot_id.tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << next << "\n";
    if (!out) throw std::runtime_error("cannot write boot counter " + tmp.string());
  }
  std::filesystem::rename(tmp, file);  // atomic: a crash leaves the old or the new count
  return next;
}

}  // namespace tinyedge::host
