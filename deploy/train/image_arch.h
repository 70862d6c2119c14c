// The image classifiers `train image --data DIR` builds, as geometry without torch: a MobileNet-
// style depthwise-separable network (3x3 stride-2 conv stem; blocks of 3x3 depthwise + 1x1
// pointwise convolutions, each with batch norm folded and ReLU, the first blocks stride 2 and
// doubling the channels; global average pool; one dense layer) or a plain CNN (3x3 convs with 2x2
// max pooling, then the same head). The budget search compiles each candidate exactly as the
// trained model will be compiled, so the arena and .tem size it reports are the real ones.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "deploy/train/float_net.h"
#include "deploy/train/quantize.h"

namespace tinyedge::train {

struct ImageNetSpec {
  std::string arch = "ds-cnn";  // "ds-cnn" (depthwise-separable, MobileNet-style) or "cnn"
  int width = 16;               // channels of the stem
  int blocks = 3;               // depthwise-separable blocks (ds-cnn) or conv+pool stages (cnn)
  bool one_d = false;           // sensor windows [T, 1, axes]: kernels and strides along T only
};

struct ImageBlockPlan {
  int stride = 1;
  int in_c = 0, out_c = 0;
};

// The blocks after the stem, for an input image: strides and channels.
std::vector<ImageBlockPlan> image_net_plan(const ImageNetSpec& spec, Shape3 input);

// The network with this geometry and zero weights (the trainer fills the same layers).
FloatNet image_net_skeleton(const ImageNetSpec& spec, Shape3 input, int classes);

// Multiply-accumulates of one inference.
std::uint64_t multiply_accumulates(const FloatNet& net);

struct ImageBudget {
  std::uint32_t ram_bytes = 64 * 1024;     // the runtime arena (every activation, the input included)
  std::uint32_t flash_bytes = 256 * 1024;  // the whole .tem (weights, biases, plan, labels)
};

struct ImageNetChoice {
  ImageNetSpec spec;
  std::uint32_t arena_bytes = 0;
  std::size_t tem_bytes = 0, parameters = 0;
  std::uint64_t macs = 0;
};

// Compiles `spec` (random weights, the real quantisation layout) and measures it. Images take
// pixels at 1/255, -128; sensor windows a calibrated input (nullopt).
ImageNetChoice measure_image_net(const ImageNetSpec& spec, Shape3 input, int classes,
                                 const std::vector<std::string>& labels,
                                 std::optional<QuantParams> input_params = QuantParams{1.0f / 255.0f, -128});

// The candidate of shape.arch (and one_d) with the most parameters that fits the budget (widths
// 8..48, 1..6 blocks; ties go to fewer multiply-accumulates). Throws when none fits, saying the
// smallest's needs.
ImageNetChoice pick_image_net(const ImageNetSpec& shape, Shape3 input, int classes, const ImageBudget& budget,
                              const std::vector<std::string>& labels,
                              std::optional<QuantParams> input_params = QuantParams{1.0f / 255.0f, -128});

// "64K", "256k", "1M", "65536" -> bytes. Throws std::runtime_error on anything else.
std::uint32_t parse_byte_size(const std::string& text);

}  // namespace tinyedge::train
