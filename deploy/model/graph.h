// The compiler's in-memory quantised graph: what the TFLite importer produces and what a
// training step can build by hand (tensors + ops in execution order), before it is lowered
// to a .tem blob by compile(). Plain structs so that constructing one needs no ceremony.
#pragma once
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace tinyedge::model {

// Values match runtime::TemType (the .tem tensor type) one for one.
enum class DataType : uint8_t { kInt8 = 0, kInt32 = 1, kInt16 = 2, kInt64 = 3, kFloat32 = 4, kBool = 5 };

// Affine quantisation: real = scale * (q - zero_point). One entry = per tensor; N entries =
// per channel along `axis` (conv filters: axis 0 [O,H,W,I]; depthwise filters: axis 3 [1,H,W,O];
// biases: axis 0). Bias scale must equal input_scale * filter_scale (TFLite's convention).
struct Quantization {
  std::vector<float> scales;
  std::vector<int32_t> zero_points;
  int axis = 0;
  bool per_channel() const { return scales.size() > 1; }
};

struct Tensor {
  std::string name;
  DataType type = DataType::kInt8;
  std::vector<int32_t> shape;  // NHWC for 4-D activations; [batch, features] for 2-D; rank 0..6
  Quantization quant;
  std::vector<uint8_t> data;  // little-endian raw values; empty = activation (lives in the arena)
  // State kept between invokes (TFLite's is_variable: LSTM/SVDF state). It gets arena bytes of
  // its own for the whole run, zeroed at init, and is never shared with another tensor.
  bool persistent = false;

  bool is_constant() const { return !data.empty(); }
  size_t element_count() const;
  size_t element_bytes() const;
};

// An op is named by its TFLite builtin operator code: the compiler's op table
// (deploy/model/op_table.h) maps each code to its importer and lowering in deploy/model/ops/.
// The constants below are the ops hand-built graphs (training export, tests) use; any other
// builtin is written static_cast<OpKind>(code) and needs no entry here.
enum class OpKind : int32_t {
  kAdd = 0,              // inputs: a, b (same shape)
  kAveragePool2D = 1,    // inputs: input; options.filter_h/filter_w
  kConv2D = 3,           // inputs: input, filter [O,KH,KW,I] int8, bias [O] int32
  kDepthwiseConv2D = 4,  // inputs: input, filter [1,KH,KW,I*M] int8, bias [I*M] int32
  kFullyConnected = 9,   // inputs: input [.., depth], filter [units, depth] int8, bias [units] int32
  kMaxPool2D = 17,       // inputs: input; options.filter_h/filter_w
  kReshape = 22,         // inputs: input [, shape tensor (ignored: the output tensor's shape rules)]
  kSoftmax = 25,         // inputs: input; options.beta; output scale 1/256, zero point -128
};
// The op's TFLite name ("CONV_2D"), or "builtin operator N" for a code the table lacks.
std::string to_string(OpKind kind);

enum class Activation : uint8_t { kNone, kRelu, kRelu6, kReluN1To1 };
enum class Padding : uint8_t { kSame, kValid };

struct OpOptions {
  Activation activation = Activation::kNone;
  Padding padding = Padding::kValid;
  int stride_h = 1, stride_w = 1;
  int dilation_h = 1, dilation_w = 1;
  int filter_h = 0, filter_w = 0;  // pools only (convs take it from the filter tensor)
  int depth_multiplier = 1;        // depthwise only
  float beta = 1.0f;               // softmax only
  // Everything else an op's TFLite options carry, by the schema's field name ("axis",
  // "keep_dims", "alpha", ...): the op's own file writes them at import and reads them when
  // lowering, so a new op adds no field here.
  std::map<std::string, int64_t> ints;
  std::map<std::string, float> floats;
  std::map<std::string, std::vector<int32_t>> lists;
  int64_t int_or(const std::string& key, int64_t fallback) const {
    const auto it = ints.find(key);
    return it == ints.end() ? fallback : it->second;
  }
  float float_or(const std::string& key, float fallback) const {
    const auto it = floats.find(key);
    return it == floats.end() ? fallback : it->second;
  }
};

struct Op {
  OpKind kind = OpKind::kConv2D;
  std::vector<int> inputs;   // tensor indices; -1 = optional input absent (TFLite's convention)
  std::vector<int> outputs;  // one or more
  OpOptions options;
};

// Ops are in execution order; tensors are referenced by index.
struct Graph {
  std::vector<Tensor> tensors;
  std::vector<Op> ops;
  std::vector<int> inputs;   // graph inputs (at least one)
  std::vector<int> outputs;  // graph outputs (at least one)

  int add_tensor(Tensor t) {
    tensors.push_back(std::move(t));
    return static_cast<int>(tensors.size() - 1);
  }
  // Convenience builders for hand-made graphs (e.g. a freshly quantised training result).
  int add_activation(std::string name, std::vector<int32_t> shape, float scale, int32_t zero_point);
  int add_int8_weights(std::string name, std::vector<int32_t> shape, std::span<const int8_t> values,
                       std::vector<float> scales, int axis = 0);
  int add_int32_bias(std::string name, std::span<const int32_t> values, std::vector<float> scales);
  void add_op(OpKind kind, std::vector<int> inputs, int output, OpOptions options = {}) {
    ops.push_back(Op{kind, std::move(inputs), {output}, options});
  }
};

}  // namespace tinyedge::model
