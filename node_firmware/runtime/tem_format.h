// The .tem file layout, shared by the node (reader) and the compiler (writer). One flat,
// little-endian blob, 4-byte aligned, executed in place: fixed-size records that the loader
// validates before anything dereferences them.
//
//   TemHeader | TemTensor[tensor_count] | TemOp[op_count] | TemString[label_count] |
//   strings | int32 requantisation tables | weights, biases, packed data (4-aligned)
#pragma once
#include <cstdint>

namespace tinyedge::runtime {

inline constexpr uint32_t kTemMagic = 0x314D4554;  // "TEM1"
inline constexpr uint16_t kTemFormatVersion = 1;
inline constexpr uint16_t kMaxTensors = 256;
inline constexpr uint16_t kMaxOps = 256;
inline constexpr uint16_t kNoTensor = 0xFFFF;

enum class TemType : uint8_t { kInt8 = 0, kInt32 = 1 };
enum TemTensorFlags : uint8_t { kTensorConstant = 1 };

// Kernel ids. Values are part of the file format: append only.
enum class Kernel : uint8_t {
  kConv2D = 0,
  kDepthwiseConv2D = 1,
  kFullyConnected = 2,
  kAveragePool2D = 3,
  kMaxPool2D = 4,
  kAdd = 5,
  kReshape = 6,
  kSoftmax = 7,
  kCount
};

// Layout of TemOp::packed_* for conv/depthwise/FC (all start with int32 folded bias[out_channels]).
enum class TemPacking : uint8_t {
  kBias = 0,                // int32 bias[O] folded with input_offset * sum(filter)
  kBiasTransposedConv = 1,  // conv only: then int8 filter transposed to [KH*KW*I][O]
};

struct TemString {
  uint32_t offset;
  uint32_t bytes;
};

struct TemHeader {
  uint32_t magic;
  uint16_t format_version;
  uint16_t header_bytes;  // sizeof(TemHeader)
  uint32_t blob_bytes;    // exact length of the file
  uint32_t model_id;
  uint32_t model_version;
  uint32_t arena_bytes;
  uint16_t tensor_count;
  uint16_t op_count;
  uint32_t tensors_offset;
  uint32_t ops_offset;
  uint16_t input_tensor;
  uint16_t output_tensor;
  TemString name;
  TemString input_description;
  uint32_t labels_offset;  // TemString[label_count]
  uint16_t label_count;
  uint16_t reserved0;
  uint32_t weights_bytes;  // informational: constant data bytes
  uint32_t reserved1[3];
};
static_assert(sizeof(TemHeader) == 80);

struct TemTensor {
  uint8_t type;   // TemType
  uint8_t rank;   // 1..4
  uint8_t flags;  // TemTensorFlags
  uint8_t reserved;
  uint16_t dims[4];  // unused dims are 1
  int32_t zero_point;
  float scale;       // per-tensor scale (first channel's for per-channel weights); informational
  uint32_t offset;   // constant: byte offset in the blob; activation: byte offset in the arena
  uint32_t bytes;    // element count * element size
  uint32_t reserved2;
};
static_assert(sizeof(TemTensor) == 32);

// One operator with every parameter resolved offline.
struct TemOp {
  uint8_t kernel;  // Kernel
  uint8_t input_count;
  uint8_t reserved0[2];
  uint16_t inputs[3];  // kNoTensor when unused
  uint16_t output;
  uint8_t stride_h, stride_w, dilation_h, dilation_w;
  uint8_t pad_top, pad_left, filter_h, filter_w;  // filter_*: pools only
  uint8_t depth_multiplier;
  uint8_t packing;  // TemPacking: what packed_* holds
  uint8_t reserved1[2];
  int32_t input_offset;   // -input zero point
  int32_t input2_offset;  // ADD: -second input zero point
  int32_t output_offset;  // output zero point
  int32_t act_min, act_max;
  // Requantisation: int32 multiplier[quant_count] followed by int32 shift[quant_count].
  uint32_t quant_offset;
  uint32_t quant_count;
  // Compiler-packed data for the optimised kernel (e.g. bias folded with input offset).
  uint32_t packed_offset;
  uint32_t packed_bytes;
  // Kernel specific. ADD: left_shift, in1 multiplier, in1 shift, in2 multiplier, in2 shift.
  // SOFTMAX: input_beta_multiplier, input_beta_left_shift, diff_min.
  int32_t extra[5];
};
static_assert(sizeof(TemOp) == 80);

}  // namespace tinyedge::runtime
