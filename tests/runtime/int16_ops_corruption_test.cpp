// The int16 SOFTMAX/LOGISTIC/TANH, HARD_SWISH, int16 ADD with zero points and the new QUANTIZE
// pairs as one-op blobs: every single-byte corruption is refused at load or runs within its
// tensors (run under the asan preset to catch any out-of-bounds read), and SOFTMAX's packed tables
// are checked where a bad table could break the kernel's shifts.
#include <gtest/gtest.h>

#include <cmath>

#include "node_firmware/runtime/kernels/basic_params.h"
#include "node_firmware/runtime/kernels/layout_params.h"
#include "tests/runtime/single_op_tem.h"

namespace tinyedge::testing {
namespace {

using runtime::Kernel;
using runtime::Status;
using runtime::TemType;

// Stand-in tables of the right shape: exp over [-10, 0] and 1/(1+x) over [0, 1] in Q0.15.
std::vector<uint8_t> softmax_tables(int16_t exp_at_zero = 0) {
  std::vector<int16_t> t(2 * 513);
  for (int i = 0; i < 513; ++i) {
    t[i] = static_cast<int16_t>(std::lround(32767 * std::exp(-10.0 * (512 - i) / 512)));
    t[513 + i] = static_cast<int16_t>(std::lround(32767 / (1.0 + i / 512.0)));
  }
  if (exp_at_zero != 0) t[512] = exp_at_zero;
  return raw(t);
}

std::vector<uint8_t> softmax16_tem(std::vector<uint8_t> tables, int32_t multiplier = 1 << 30, int32_t shift = 3) {
  SingleOpTem b;
  const int in = b.add({TemType::kInt16, {2, 6}, 0, {}});
  const int out = b.add({TemType::kInt16, {2, 6}, 0, {}});
  runtime::BasicOpParams p{};
  p.act_min = -32768;
  p.act_max = 32767;
  p.extra[0] = multiplier;
  p.extra[1] = shift;
  b.set_op(Kernel::kSoftmax, {in}, {out}, p);
  b.set_packed(std::move(tables));
  return b.build();
}

std::vector<std::pair<std::string, std::vector<uint8_t>>> blobs() {
  std::vector<std::pair<std::string, std::vector<uint8_t>>> v;
  auto unary = [&](const char* name, Kernel k, TemType in_type, TemType out_type, auto params, int32_t in_zp,
                   int32_t out_zp, std::vector<int32_t> m = {}, std::vector<int32_t> s = {}) {
    SingleOpTem b;
    const int in = b.add({in_type, {1, 3, 4}, in_zp, {}});
    const int out = b.add({out_type, {1, 3, 4}, out_zp, {}});
    b.set_op(k, {in}, {out}, params, std::move(m), std::move(s));
    v.emplace_back(name, b.build());
  };
  unary("logistic_int16", Kernel::kLogistic, TemType::kInt16, TemType::kInt16, std::array<int32_t, 4>{0, 0, 25165, 11},
        0, 0);
  unary("tanh_int16", Kernel::kTanh, TemType::kInt16, TemType::kInt16, std::array<int32_t, 4>{0, 0, 6, 0}, 0, 0);
  unary("hard_swish", Kernel::kHardSwish, TemType::kInt8, TemType::kInt8,
        std::array<int32_t, 6>{-3, 5, 16384, -6, 21845, 3}, -3, 5);
  unary("quantize_int16_int32", Kernel::kQuantize, TemType::kInt16, TemType::kInt32,
        runtime::ConvertParams{0.001f, 70000, 100}, 100, 70000, {1 << 30}, {3});
  unary("quantize_int32_int8", Kernel::kQuantize, TemType::kInt32, TemType::kInt8,
        runtime::ConvertParams{0.05f, -10, 16}, 16, -10, {1 << 30}, {-3});
  {
    SingleOpTem b;
    const int in = b.add({TemType::kInt8, {2, 6}, 0, {}});
    const int out = b.add({TemType::kInt16, {2, 6}, -32768, {}});
    runtime::BasicOpParams p{};
    p.output_offset = -32768;
    p.act_min = -32768;
    p.act_max = 32767;
    p.extra[0] = 1717986918;
    p.extra[1] = 23;
    p.extra[2] = -248;
    b.set_op(Kernel::kSoftmax, {in}, {out}, p);
    v.emplace_back("softmax_int8_int16", b.build());
  }
  v.emplace_back("softmax_int16", softmax16_tem(softmax_tables()));
  {
    SingleOpTem b;
    const int a = b.add({TemType::kInt16, {2, 3}, 100, {}});
    const int c = b.add({TemType::kInt16, {3}, -50, {}});
    const int out = b.add({TemType::kInt16, {2, 3}, 7, {}});
    runtime::BasicOpParams p{};
    p.input_offset = -100;
    p.input2_offset = 50;
    p.output_offset = 7;
    p.act_min = -32768;
    p.act_max = 32767;
    p.extra[0] = 15;
    p.extra[1] = 1 << 30;
    p.extra[2] = 0;
    p.extra[3] = 1 << 30;
    p.extra[4] = -1;
    b.set_op(Kernel::kAdd, {a, c}, {out}, p, {1 << 30}, {-14});
    v.emplace_back("add_int16_zero_points", b.build());
  }
  return v;
}

TEST(Int16OpBlobs, EverySingleByteCorruptionIsRefusedOrRunsSafely) {
  for (const auto& [name, blob] : blobs()) {
    OpRun clean;
    ASSERT_EQ(clean.load(blob), Status::kOk) << name << ": the uncorrupted blob must load";
    ASSERT_EQ(clean.interp.invoke(), Status::kOk) << name;
    size_t refused = 0;
    for (size_t i = 0; i < blob.size(); ++i) {
      for (uint8_t x : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xFF}}) {
        auto bad = blob;
        bad[i] ^= x;
        OpRun r;
        if (r.load(bad) != Status::kOk) {
          ++refused;
          continue;
        }
        EXPECT_EQ(r.interp.invoke(), Status::kOk) << name << " byte " << i;
      }
    }
    EXPECT_GT(refused, blob.size() / 4) << name << ": most structural corruptions should be refused";
  }
}

TEST(Int16OpBlobs, SoftmaxRefusesTablesThatWouldBreakItsShifts) {
  OpRun r;
  EXPECT_EQ(r.load(softmax16_tem(softmax_tables())), Status::kOk);
  // exp(0) far below 1: a row's sum could fall to where the reciprocal's shifts leave their range.
  EXPECT_EQ(r.load(softmax16_tem(softmax_tables(100))), Status::kBadParams);
  // A negative exp entry.
  auto tables = softmax_tables();
  tables[2 * 10 + 1] = 0x80;
  EXPECT_EQ(r.load(softmax16_tem(tables)), Status::kBadParams);
  // One table missing, or none.
  tables = softmax_tables();
  tables.resize(1026);
  EXPECT_EQ(r.load(softmax16_tem(tables)), Status::kBadParams);
  EXPECT_EQ(r.load(softmax16_tem({})), Status::kBadParams);
  // The input multiplier's shift beyond TFLite's range.
  EXPECT_EQ(r.load(softmax16_tem(softmax_tables(), 1 << 30, 31)), Status::kBadQuantization);
}

}  // namespace
}  // namespace tinyedge::testing
