// What the portable node needs from the board it runs on: a time base and a few facts.
#pragma once
#include <cstdint>

namespace tinyedge::app {

class Platform {
 public:
  // Milliseconds since boot (wraps after ~49 days; every comparison uses unsigned differences).
  virtual uint32_t now_ms() = 0;
  // Microseconds since boot, for inference latency.
  virtual uint32_t now_us() = 0;
  // RAM still unused (stack headroom on the MCU, a nominal figure on the host).
  virtual uint32_t free_ram_bytes() = 0;
  // Bits that differ between nodes and over time (a TRNG, timer jitter, a boot-time seed): they
  // spread the nodes' resends after an outage so they do not all arrive at once. Not for keys.
  virtual uint32_t entropy() = 0;
  // Command REBOOT: the port decides what a reboot means (reset on the MCU, a new boot id on the host).
  virtual void request_reboot() = 0;

 protected:
  ~Platform() = default;
};

}  // namespace tinyedge::app
