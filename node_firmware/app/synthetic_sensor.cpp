#include "node_firmware/app/synthetic_sensor.h"

namespace tinyedge::app {
namespace {

uint32_t xorshift32(uint32_t& state) {
  state ^= state << 13;
  state ^= state >> 17;
  state ^= state << 5;
  return state;
}

// Triangle wave with period `period`, amplitude +-amp.
int32_t triangle(uint32_t t, uint32_t period, int32_t amp) {
  const uint32_t p = t % period;
  const uint32_t half = period / 2;
  const int32_t up = static_cast<int32_t>(p < half ? p : period - p);  // 0..half
  return (up * 2 * amp) / static_cast<int32_t>(half) - amp;
}

}  // namespace

void synthesize_sample(uint32_t seed, uint32_t index, std::span<int8_t> out) {
  uint32_t state = seed * 2654435761u + index * 40503u + 1u;
  if (state == 0) state = 1;
  const uint32_t p1 = 8 + xorshift32(state) % 56;
  const uint32_t p2 = 3 + xorshift32(state) % 13;
  const int32_t a1 = 20 + static_cast<int32_t>(xorshift32(state) % 70);
  const int32_t a2 = 5 + static_cast<int32_t>(xorshift32(state) % 30);
  const int32_t offset = static_cast<int32_t>(xorshift32(state) % 61) - 30;
  const uint32_t phase = xorshift32(state);
  for (uint32_t i = 0; i < out.size(); ++i) {
    int32_t v = offset + triangle(i + phase, p1, a1) + triangle(i * 3 + phase, p2, a2) +
                static_cast<int32_t>(xorshift32(state) % 17) - 8;
    if (v > 127) v = 127;
    if (v < -128) v = -128;
    out[i] = static_cast<int8_t>(v);
  }
}

bool SyntheticSensor::read(std::span<int8_t> input, uint32_t& sample_id) {
  synthesize_sample(seed_, index_, input);
  ++index_;
  sample_id = 0;
  return true;
}

}  // namespace tinyedge::app
