// Where samples come from: a microphone frame, an accelerometer window, a replayed data set.
#pragma once
#include <cstdint>
#include <span>

namespace tinyedge::app {

class Sensor {
 public:
  // Fills `input` (the model's input tensor, raw int8) with the next sample. `sample_id` is the
  // id of a replayed labelled sample, 0 when the sensor has none. False: no sample available now.
  virtual bool read(std::span<int8_t> input, uint32_t& sample_id) = 0;

 protected:
  ~Sensor() = default;
};

}  // namespace tinyedge::app
