// Time base of the simulated nodes: one steady clock shared by every node of the process.
#pragma once
#include <chrono>
#include <cstdint>
#include <random>

#include "node_firmware/app/platform.h"

namespace tinyedge::host {

class HostPlatform final : public app::Platform {
 public:
  explicit HostPlatform(uint32_t free_ram_bytes) : free_ram_(free_ram_bytes) {}

  uint32_t now_ms() override { return static_cast<uint32_t>(elapsed<std::chrono::milliseconds>()); }
  uint32_t now_us() override { return static_cast<uint32_t>(elapsed<std::chrono::microseconds>()); }
  uint32_t free_ram_bytes() override { return free_ram_; }
  void request_reboot() override { reboot_requested_ = true; }
  uint32_t entropy() override { return random_(); }

  bool take_reboot_request() {
    const bool r = reboot_requested_;
    reboot_requested_ = false;
    return r;
  }

 private:
  template <typename Unit>
  int64_t elapsed() const {
    return std::chrono::duration_cast<Unit>(std::chrono::steady_clock::now() - start_).count();
  }
  static inline const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  uint32_t free_ram_;
  std::random_device random_;
  bool reboot_requested_ = false;
};

}  // namespace tinyedge::host
