// Every byte of a one-op blob of each new kernel corrupted in turn: the loader refuses it or the
// kernel runs within its tensors (run under the asan preset to catch any out-of-bounds access).
#include <gtest/gtest.h>

#include "node_firmware/runtime/kernels/basic_params.h"
#include "tests/runtime/single_op_tem.h"

namespace tinyedge::testing {
namespace {

using runtime::Kernel;
using runtime::Status;
using runtime::TemType;

constexpr int32_t kHalf = 1 << 30;

std::vector<std::pair<std::string, std::vector<uint8_t>>> blobs() {
  std::vector<std::pair<std::string, std::vector<uint8_t>>> v;
  auto unary = [&](const char* name, Kernel k, TemType type, auto params, std::vector<int32_t> m,
                   std::vector<int32_t> s, int32_t out_zp = 0) {
    SingleOpTem b;
    const int in = b.add({type, {1, 3, 4}, 0, {}});
    const int out = b.add({type, {1, 3, 4}, out_zp, {}});
    b.set_op(k, {in}, {out}, params, std::move(m), std::move(s));
    v.emplace_back(name, b.build());
  };
  unary("relu", Kernel::kRelu, TemType::kInt16, std::array<int32_t, 4>{0, 0, 0, 32767}, {kHalf}, {1});
  unary("relu6", Kernel::kRelu6, TemType::kInt8, std::array<int32_t, 2>{0, 60}, {}, {});
  unary("leaky_relu", Kernel::kLeakyRelu, TemType::kInt8, std::array<int32_t, 3>{0, 0, 0}, {kHalf, kHalf}, {1, -2});
  unary("logistic", Kernel::kLogistic, TemType::kInt8, std::array<int32_t, 4>{0, 120, kHalf, 24}, {}, {}, -128);
  unary("tanh", Kernel::kTanh, TemType::kInt8, std::array<int32_t, 4>{0, 120, kHalf, 24}, {}, {});
  unary("l2_normalization", Kernel::kL2Normalization, TemType::kInt8, int32_t{0}, {}, {});
  {
    SingleOpTem b;
    const int in = b.add({TemType::kInt16, {1, 2, 2, 3}, 0, {}});
    const int alpha = b.add({TemType::kInt8, {3}, 0, raw(std::vector<int8_t>{1, -2, 3})});
    const int out = b.add({TemType::kInt16, {1, 2, 2, 3}, 0, {}});
    b.set_op(Kernel::kPrelu, {in, alpha}, {out}, std::array<int32_t, 3>{0, 0, 0}, {kHalf, kHalf}, {1, -3});
    v.emplace_back("prelu", b.build());
  }
  for (Kernel k : {Kernel::kResizeNearestNeighbor, Kernel::kResizeBilinear}) {
    SingleOpTem b;
    const int in = b.add({TemType::kInt8, {1, 2, 3, 2}, 0, {}});
    const int size = b.add({TemType::kInt32, {2}, 0, raw(std::vector<int32_t>{5, 4})});
    const int out = b.add({TemType::kInt8, {1, 5, 4, 2}, 0, {}});
    b.set_op(k, {in, size}, {out}, std::array<uint8_t, 4>{0, 1, 0, 0});
    v.emplace_back(k == Kernel::kResizeBilinear ? "resize_bilinear" : "resize_nearest_neighbor", b.build());
  }
  {
    SingleOpTem b;
    const int in = b.add({TemType::kInt16, {1, 3, 2, 2}, 0, {}});
    const int f = b.add({TemType::kInt8, {2, 3, 2, 2}, 0, raw(std::vector<int8_t>(24, 3))});
    const int bias = b.add({TemType::kInt64, {2}, 0, raw(std::vector<int64_t>{5, -5})});
    const int shape = b.add({TemType::kInt32, {4}, 0, {}});
    const int out = b.add({TemType::kInt16, {1, 6, 4, 2}, 0, {}});
    b.set_op(Kernel::kTransposeConv, {in, f, bias, shape}, {out},
             std::array<int32_t, 8>{2, 2, 0, 0, 0, 0, -32768, 32767}, {kHalf, kHalf}, {1, 0});
    v.emplace_back("transpose_conv", b.build());
  }
  for (Kernel k : {Kernel::kConv2D, Kernel::kDepthwiseConv2D}) {
    SingleOpTem b;
    const bool dw = k == Kernel::kDepthwiseConv2D;
    const int in = b.add({TemType::kInt16, {1, 4, 4, 2}, 0, {}});
    const int f = dw ? b.add({TemType::kInt8, {1, 3, 3, 2}, 0, raw(std::vector<int8_t>(18, -2))})
                     : b.add({TemType::kInt8, {2, 3, 3, 2}, 0, raw(std::vector<int8_t>(36, -2))});
    const int bias = b.add({TemType::kInt64, {2}, 0, raw(std::vector<int64_t>{7, 8})});
    const int out = b.add({TemType::kInt16, {1, 2, 2, 2}, 0, {}});
    runtime::BasicOpParams p{};
    p.stride_h = p.stride_w = p.dilation_h = p.dilation_w = p.depth_multiplier = 1;
    p.act_min = -32768;
    p.act_max = 32767;
    b.set_op(k, {in, f, bias}, {out}, p, {kHalf, kHalf}, {1, 2});
    v.emplace_back(dw ? "depthwise_16x8" : "conv_16x8", b.build());
  }
  return v;
}

TEST(NewKernelBlobs, EverySingleByteCorruptionIsRefusedOrRunsSafely) {
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
    EXPECT_GT(refused, blob.size()) << name << ": most structural corruptions should be refused";
  }
}

}  // namespace
}  // namespace tinyedge::testing
