// A deterministic signal generator: the built-in sensor of the MCU build (its self-test input)
// and the default sensor of simulated host nodes. Sample n is a function of (seed, n) alone, so a
// test on the host can recompute exactly what the firmware fed its model.
#pragma once
#include <cstdint>
#include <span>

#include "node_firmware/app/sensor.h"

namespace tinyedge::app {

// Fills `out` with sample `index` of the stream `seed`: a few overlapping triangle waves plus
// small noise around zero, so classifiers see varied, non-saturating inputs.
void synthesize_sample(uint32_t seed, uint32_t index, std::span<int8_t> out);

class SyntheticSensor final : public Sensor {
 public:
  explicit SyntheticSensor(uint32_t seed) : seed_(seed) {}
  bool read(std::span<int8_t> input, uint32_t& sample_id) override;
  uint32_t next_index() const { return index_; }

 private:
  uint32_t seed_;
  uint32_t index_ = 0;
};

}  // namespace tinyedge::app
