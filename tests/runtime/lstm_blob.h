// A valid one-op UNIDIRECTIONAL_SEQUENCE_LSTM blob built without the compiler: time-major, two
// batches, a cell count that leaves a tail after four-cell blocks, nonzero zero points, a cell
// clip and pseudo-random weights and folded biases. For kernel tests and the loader fuzzer.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "tests/runtime/single_op_tem.h"

namespace tinyedge::testing::lstm_blob {

constexpr uint32_t kT = 4, kB = 2, kI = 5, kC = 7;

// Params as node_firmware/runtime/kernels/unidirectional_sequence_lstm.cpp lays them out.
inline std::array<int32_t, 27> params() {
  std::array<int32_t, 27> p{};
  p[0] = 1;       // time-major
  p[1] = -3;      // hidden zero point
  p[2] = 3000;    // cell clip
  p[3] = 3 << 1;  // tanh multiplier (cell scale 2^-11)
  p[4] = 0;       // tanh shift
  for (int g = 0; g < 8; ++g) {
    p[5 + g] = 1518500250 + g * 1000;  // ~0.707 * 2^31
    p[13 + g] = -2 - g % 3;
  }
  // The elementwise products at their real scales: gates Q0.15, cell 2^-11, hidden 2^-7.
  p[21] = 1 << 30, p[22] = -14;  // forget x cell -> cell: 2^-15
  p[23] = 1 << 30, p[24] = -18;  // input x cell gate -> cell: 2^-30 / 2^-11
  p[25] = 1 << 30, p[26] = -22;  // output x tanh -> hidden: 2^-30 / 2^-7
  return p;
}

inline std::vector<uint8_t> build() {
  uint32_t seed = 77;
  auto rnd = [&](int lo, int hi) {
    seed = seed * 1664525u + 1013904223u;
    return lo + static_cast<int>((seed >> 8) % static_cast<uint32_t>(hi - lo + 1));
  };
  auto weights = [&](uint32_t cols) {
    std::vector<int8_t> w(kC * cols);
    for (auto& v : w) v = static_cast<int8_t>(rnd(-127, 127));
    return raw(w);
  };
  SingleOpTem b;
  std::vector<int> in{b.add({runtime::TemType::kInt8, {kT, kB, kI}, 4, {}})};
  for (int g = 0; g < 4; ++g) in.push_back(b.add({runtime::TemType::kInt8, {kC, kI}, 0, weights(kI)}));
  for (int g = 0; g < 4; ++g) in.push_back(b.add({runtime::TemType::kInt8, {kC, kC}, 0, weights(kC)}));
  in.push_back(b.add({runtime::TemType::kInt8, {kB, kC}, -3, {}, true}));
  in.push_back(b.add({runtime::TemType::kInt16, {kB, kC}, 0, {}, true}));
  const int out = b.add({runtime::TemType::kInt8, {kT, kB, kC}, -3, {}});
  b.set_op(runtime::Kernel::kUnidirectionalSequenceLstm, in, {out}, params());
  std::vector<int32_t> bias(8 * kC);
  for (auto& v : bias) v = rnd(-40000, 40000);
  b.set_packed(raw(bias));
  return b.build();
}

}  // namespace tinyedge::testing::lstm_blob
