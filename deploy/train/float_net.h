// A trained network as plain data, in the runtime's layout (NHWC activations, OHWI conv weights), so
// calibration, quantisation and export never need libtorch.
#pragma once
#include <span>
#include <string>
#include <vector>

namespace tinyedge::train {

// kAdd is a residual join: the previous layer's output plus the output of an earlier layer
// (Layer::skip_from), same shape, no broadcasting.
enum class LayerKind { kConv2D, kDepthwiseConv2D, kMaxPool2D, kAveragePool2D, kFullyConnected, kSoftmax, kAdd };
enum class Padding { kSame, kValid };  // TFLite's meaning: SAME pads the bottom/right first

struct Shape3 {
  int h = 1, w = 1, c = 1;
  int size() const { return h * w * c; }
  bool operator==(const Shape3&) const = default;
};

struct Layer {
  LayerKind kind = LayerKind::kFullyConnected;
  Shape3 in, out;
  int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;  // conv, depthwise, pool
  Padding padding = Padding::kValid;
  bool relu = false;   // fused ReLU on the output
  bool relu6 = false;  // with relu: the output also capped at 6 (ReLU6; imported models use it)
  // add: the second operand is the output of layer skip_from (an earlier one), -1 = the net's input
  int skip_from = -1;
  // conv: [out_c][kh][kw][in_c]; depthwise (multiplier 1): [kh][kw][c]; fully connected: [out][in]
  // (in = NHWC flattened)
  std::vector<float> weights;
  std::vector<float> bias;  // [out_c]

  int pad_top() const;  // the leading padding TFLite's SAME uses (the trailing side gets the rest)
  int pad_left() const;
};

struct FloatNet {
  std::string arch;  // "small-cnn", "mlp", "autoencoder"
  Shape3 input;
  std::vector<Layer> layers;
  Shape3 output() const { return layers.empty() ? input : layers.back().out; }
  std::size_t weight_count() const;
};

// Output size along one axis for TFLite padding semantics.
int conv_out_size(int in, int kernel, int stride, Padding padding);

// Reference float inference. If `activations` is given it receives every layer's output.
std::vector<float> forward(const FloatNet& net, std::span<const float> input,
                           std::vector<std::vector<float>>* activations = nullptr);

// Checks the shapes chain and the weight/bias sizes; throws std::runtime_error naming the layer.
void validate(const FloatNet& net);

}  // namespace tinyedge::train
