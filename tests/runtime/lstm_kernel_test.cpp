// The LSTM kernel on hand-built one-op blobs (runtime only, so these also run under the asan
// preset): optimised held to reference bit for bit with a cell count that leaves a tail after the
// four-cell blocks, time-major with two batches; the state carried over invokes; and every byte
// of the blob corrupted in turn refused at load or run within its tensors.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>

#include "tests/runtime/single_op_tem.h"

namespace tinyedge::testing {
namespace {

using runtime::Kernel;
using runtime::KernelSet;
using runtime::Status;
using runtime::TemType;

constexpr uint32_t kT = 4, kB = 2, kI = 5, kC = 7;

// Params as node_firmware/runtime/kernels/unidirectional_sequence_lstm.cpp lays them out.
std::array<int32_t, 27> lstm_params() {
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

std::vector<uint8_t> lstm_blob() {
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
  std::vector<int> in{b.add({TemType::kInt8, {kT, kB, kI}, 4, {}})};
  for (int g = 0; g < 4; ++g) in.push_back(b.add({TemType::kInt8, {kC, kI}, 0, weights(kI)}));
  for (int g = 0; g < 4; ++g) in.push_back(b.add({TemType::kInt8, {kC, kC}, 0, weights(kC)}));
  in.push_back(b.add({TemType::kInt8, {kB, kC}, -3, {}, true}));
  in.push_back(b.add({TemType::kInt16, {kB, kC}, 0, {}, true}));
  const int out = b.add({TemType::kInt8, {kT, kB, kC}, -3, {}});
  b.set_op(Kernel::kUnidirectionalSequenceLstm, in, {out}, lstm_params());
  std::vector<int32_t> bias(8 * kC);
  for (auto& v : bias) v = rnd(-40000, 40000);
  b.set_packed(raw(bias));
  return b.build();
}

std::vector<int8_t> input() {
  std::vector<int8_t> x(kT * kB * kI);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<int8_t>(static_cast<int>(i * 37 % 256) - 128);
  return x;
}

TEST(LstmKernel, OptimisedMatchesReferenceAcrossInvokes) {
  const auto blob = lstm_blob();
  OpRun ref, opt;
  ASSERT_EQ(ref.load(blob, KernelSet::kReference), Status::kOk);
  ASSERT_EQ(opt.load(blob, KernelSet::kOptimized), Status::kOk);
  std::vector<int8_t> first;
  for (int invoke = 0; invoke < 3; ++invoke) {
    for (OpRun* r : {&ref, &opt}) {
      r->set_input(0, input());
      ASSERT_EQ(r->interp.invoke(), Status::kOk);
    }
    const auto a = ref.output<int8_t>(), b = opt.output<int8_t>();
    ASSERT_EQ(a.size(), size_t{kT * kB * kC});
    EXPECT_EQ(a, b) << "invoke " << invoke << ": optimised differs from reference";
    if (invoke == 0) first = a;
    if (invoke == 1) {
      EXPECT_NE(a, first) << "the second invoke should continue from the first one's state";
    }
  }
  // The outputs must not all sit at one value, or the comparison above is weak.
  const auto a = ref.output<int8_t>();
  EXPECT_GT(std::count_if(a.begin(), a.end(), [&](int8_t v) { return v != a[0]; }), 4);
  ref.interp.reset_state();
  ref.set_input(0, input());
  ASSERT_EQ(ref.interp.invoke(), Status::kOk);
  EXPECT_EQ(ref.output<int8_t>(), first) << "reset_state did not start a fresh sequence";
}

TEST(LstmKernel, EverySingleByteCorruptionIsRefusedOrRunsSafely) {
  const auto blob = lstm_blob();
  {
    OpRun clean;
    ASSERT_EQ(clean.load(blob), Status::kOk);
  }
  size_t refused = 0;
  for (size_t i = 0; i < blob.size(); ++i) {
    for (uint8_t x : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xFF}}) {
      auto bad = blob;
      bad[i] ^= x;
      for (KernelSet set : {KernelSet::kReference, KernelSet::kOptimized}) {
        OpRun r;
        if (r.load(bad, set) != Status::kOk) {
          ++refused;
          break;
        }
        EXPECT_EQ(r.interp.invoke(), Status::kOk) << "byte " << i;
      }
    }
  }
  EXPECT_GT(refused, blob.size()) << "most structural corruptions should be refused";
}

}  // namespace
}  // namespace tinyedge::testing
