// The LSTM kernel on hand-built one-op blobs (runtime only, so these also run under the asan
// preset): optimised held to reference bit for bit with a cell count that leaves a tail after the
// four-cell blocks, time-major with two batches; the state carried over invokes; and every byte
// of the blob corrupted in turn refused at load or run within its tensors.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>

#include "tests/runtime/lstm_blob.h"
#include "tests/runtime/single_op_tem.h"

namespace tinyedge::testing {
namespace {

using runtime::Kernel;
using runtime::KernelSet;
using runtime::Status;
using runtime::TemType;

using lstm_blob::kB;
using lstm_blob::kC;
using lstm_blob::kI;
using lstm_blob::kT;

std::vector<int8_t> input() {
  std::vector<int8_t> x(kT * kB * kI);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<int8_t>(static_cast<int>(i * 37 % 256) - 128);
  return x;
}

TEST(LstmKernel, OptimisedMatchesReferenceAcrossInvokes) {
  const auto blob = lstm_blob::build();
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
  const auto blob = lstm_blob::build();
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
