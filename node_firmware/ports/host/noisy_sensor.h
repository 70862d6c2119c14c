// A sensor whose readings carry extra Gaussian noise: a dirty lens, a failing microphone
// preamp, a loose accelerometer, as a host node can simulate them (`tinyedge-node
// --input-noise SIGMA`). It wraps any other sensor and adds noise of standard deviation `sigma`
// (in the input tensor's int8 steps) to every element, clamped to int8, from a generator seeded
// by the node, so a run is repeatable.
#pragma once
#include <cstdint>
#include <random>
#include <span>

#include "node_firmware/app/sensor.h"

namespace tinyedge::host {

class NoisySensor final : public app::Sensor {
 public:
  NoisySensor(app::Sensor& inner, double sigma, uint32_t seed) : inner_(inner), noise_(0.0, sigma), rng_(seed) {}
  bool read(std::span<int8_t> input, uint32_t& sample_id) override;

 private:
  app::Sensor& inner_;
  std::normal_distribution<double> noise_;
  std::mt19937 rng_;
};

}  // namespace tinyedge::host
