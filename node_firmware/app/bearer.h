// The link to the gateway: MQTT on the host, COBS frames over UART0 on the MCU. It moves whole
// encoded Uplink/Downlink messages; framing, topics and retries below that are its own business.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

namespace tinyedge::app {

class Bearer {
 public:
  // True while uplinks can be delivered. A false -> true edge makes the node say Hello again and
  // resend every result not yet acknowledged.
  virtual bool connected() = 0;
  // Queues one encoded Uplink. False: not accepted (link down, queue full); the node retries.
  virtual bool send(std::span<const uint8_t> uplink) = 0;
  // Copies one received encoded Downlink into `out` and returns its size; 0 when none is waiting.
  // A downlink larger than `out` is dropped by the bearer.
  virtual size_t receive(std::span<uint8_t> out) = 0;
  // The next received Downlink, valid until the next call. Bearers that already hold the bytes
  // (a frame decoder's buffer) return them without a copy; `scratch` may then be empty.
  virtual std::span<const uint8_t> receive_view(std::span<uint8_t> scratch) { return scratch.first(receive(scratch)); }

 protected:
  ~Bearer() = default;
};

}  // namespace tinyedge::app
