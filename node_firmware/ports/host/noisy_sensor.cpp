#include "node_firmware/ports/host/noisy_sensor.h"

#include <algorithm>
#include <cmath>

namespace tinyedge::host {

bool NoisySensor::read(std::span<int8_t> input, uint32_t& sample_id) {
  if (!inner_.read(input, sample_id)) return false;
  for (int8_t& v : input) {
    const long noisy = std::lround(static_cast<double>(v) + noise_(rng_));
    v = static_cast<int8_t>(std::clamp(noisy, -128L, 127L));
  }
  return true;
}

}  // namespace tinyedge::host
