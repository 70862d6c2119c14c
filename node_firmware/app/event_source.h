// Results that are not one inference per sample interval: a streaming detector decides itself
// when something happened (a keyword heard) and hands the node one event at a time.
#pragma once
#include <cstdint>

namespace tinyedge::app {

struct StreamEvent {
  uint16_t label = 0;
  uint8_t score = 0;        // 0..255
  uint32_t at_ms = 0;       // on the node's clock: when, in the audio, it happened
  uint32_t sample_id = 0;   // the replayed recording it happened in (0: live input)
  uint32_t latency_us = 0;  // the work that confirmed it (front-end and inference of its stride)
};

class EventSource {
 public:
  // True while the loaded model is run by this source (the node then takes no interval samples).
  virtual bool active() = 0;
  // Does the work that is due; true with one event when one happened.
  virtual bool poll(StreamEvent& event) = 0;
  // Inferences and failed inferences so far (for telemetry).
  virtual uint32_t inferences() const = 0;
  virtual uint32_t failed_inferences() const = 0;

 protected:
  ~EventSource() = default;
};

}  // namespace tinyedge::app
