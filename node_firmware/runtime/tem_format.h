// The .tem file layout, shared by the node (reader) and the compiler (writer). One flat,
// little-endian blob, 4-byte aligned, executed in place: fixed-size records that the loader
// validates before anything dereferences them.
//
//   TemHeader | TemTensor[tensor_count] | TemOp[op_count] | TemString[label_count] |
//   strings | uint16 tensor lists (graph I/O, each op's operands) | op params blobs |
//   int32 requantisation tables | weights, biases, packed data (4-aligned)
//
// Version 2 (this one): any number of operands per op (LSTM has 24 inputs, SPLIT several
// outputs), a kernel-specific params blob per op that the kernel's own validate() checks, tensor
// types int8/int16/int32/int64/float32/bool, rank up to 6 with uint32 dims, several graph inputs
// and outputs, and persistent tensors (state kept between invokes). Version 1 files are refused:
// every .tem is produced by `tinyedge model import` or `tinyedge train`, so re-running it updates
// a file.
#pragma once
#include <cstdint>

namespace tinyedge::runtime {

inline constexpr uint32_t kTemMagic = 0x314D4554;  // "TEM1"
inline constexpr uint16_t kTemFormatVersion = 2;
inline constexpr uint16_t kMaxTensors = 512;
inline constexpr uint16_t kMaxOps = 512;
inline constexpr uint8_t kMaxRank = 6;
inline constexpr uint8_t kMaxOperands = 32;    // inputs or outputs of one op
inline constexpr uint8_t kMaxGraphIo = 16;     // graph inputs or outputs
inline constexpr uint16_t kNoTensor = 0xFFFF;  // an optional operand that is absent

enum class TemType : uint8_t { kInt8 = 0, kInt32 = 1, kInt16 = 2, kInt64 = 3, kFloat32 = 4, kBool = 5, kCount };
inline constexpr uint32_t element_bytes(uint8_t type) {
  switch (static_cast<TemType>(type)) {
    case TemType::kInt8:
    case TemType::kBool:
      return 1;
    case TemType::kInt16:
      return 2;
    case TemType::kInt32:
    case TemType::kFloat32:
      return 4;
    case TemType::kInt64:
      return 8;
    default:
      return 0;
  }
}

enum TemTensorFlags : uint8_t {
  kTensorConstant = 1,    // data in the blob
  kTensorPersistent = 2,  // arena bytes of its own, kept between invokes (LSTM/SVDF state); zeroed at init
};

// Kernel ids: the TFLite builtin operator code of the op the kernel runs (one kernel serves every
// type the op supports; its validate() says which). Ids TinyEdge invents start at 1000. They are
// part of the file format. Listed here for the compiler; a runtime build knows only the kernels
// it links (kernels/*.cpp, see kernel_table.h).
enum class Kernel : uint16_t {
  kAdd = 0,
  kAveragePool2D = 1,
  kConcatenation = 2,
  kConv2D = 3,
  kDepthwiseConv2D = 4,
  kDequantize = 6,
  kFullyConnected = 9,
  kL2Normalization = 11,
  kLogistic = 14,
  kMaxPool2D = 17,
  kMul = 18,
  kRelu = 19,
  kReluN1To1 = 20,
  kRelu6 = 21,
  kReshape = 22,
  kResizeBilinear = 23,
  kSoftmax = 25,
  kSvdf = 27,
  kTanh = 28,
  kPad = 34,
  kGather = 36,
  kTranspose = 39,
  kMean = 40,
  kSub = 41,
  kDiv = 42,
  kSqueeze = 43,
  kUnidirectionalSequenceLstm = 44,
  kStridedSlice = 45,
  kSplit = 49,
  kCast = 53,
  kPrelu = 54,
  kMaximum = 55,
  kMinimum = 57,
  kPadV2 = 60,
  kSlice = 65,
  kTransposeConv = 67,
  kExpandDims = 70,
  kSum = 74,
  kReduceMax = 82,
  kPack = 83,
  kUnpack = 88,
  kResizeNearestNeighbor = 97,
  kLeakyRelu = 98,
  kSplitV = 102,
  kQuantize = 114,
  kHardSwish = 117,
};

// Layout of TemOp::packed_* for conv/depthwise/FC (all start with int32 folded bias[out_channels]).
enum class TemPacking : uint8_t {
  kBias = 0,                // int32 bias[O] folded with input_offset * sum(filter)
  kBiasTransposedConv = 1,  // conv only: then int8 filter transposed to [KH*KW*I][O]
  // Then the output stage's per-channel constants as the Cortex-M4 kernels read them, worked out
  // from the quant table (and checked against it at load): uint32 {2 * multiplier, right | left << 8}[O].
  kBiasScales = 2,
  kBiasScalesTransposedConv = 3,  // conv only: bias[O], scales[O][2], then the transposed filter
  // 4 was the int16 copy of FC and CONV_2D weights (about twice their flash); a runtime now refuses it.
  // FC and CONV_2D: bias[O], scales[O][2], and the filter tensor's bytes are in the blocked order the
  // Cortex-M4 loops read (kernels/dsp_blocked_filter.h; BasicOpParams::reserved[0] names the rows per
  // block, and the loader checks it and the folded bias against the filter). Same flash as
  // kBiasScales: `tinyedge model import --m4-blocked-weights` asks for it. A runtime older than this
  // packing refuses the op (bad params).
  kBiasScalesBlockedFilter = 5,
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
  uint16_t input_count;  // graph inputs, then outputs: uint16 tensor indices at io_offset
  uint16_t output_count;
  uint32_t io_offset;
  TemString name;
  TemString input_description;
  uint32_t labels_offset;  // TemString[label_count]
  uint16_t label_count;
  uint16_t reserved0;
  uint32_t weights_bytes;  // informational: constant data bytes
  // The sensor front-end the model's input was made with (e.g. audio features), opaque to the
  // runtime: the front-end's own code reads and checks it. 4-aligned; 0 bytes: none.
  uint32_t front_end_offset;
  uint32_t front_end_bytes;
};
static_assert(sizeof(TemHeader) == 80);

struct TemTensor {
  uint8_t type;   // TemType
  uint8_t rank;   // 0..kMaxRank (0: a scalar)
  uint8_t flags;  // TemTensorFlags
  uint8_t reserved;
  uint32_t dims[kMaxRank];  // unused dims are 1
  int32_t zero_point;
  float scale;      // per-tensor scale (first channel's for per-channel weights); informational
  uint32_t offset;  // constant: byte offset in the blob; activation: byte offset in the arena
  uint32_t bytes;   // element count * element size
};
static_assert(sizeof(TemTensor) == 44);

// One operator with every parameter resolved offline. What the params blob holds is the
// kernel's business (its params struct, checked by its validate()).
struct TemOp {
  uint16_t kernel;  // Kernel
  uint8_t input_count;
  uint8_t output_count;
  uint32_t operands_offset;  // uint16 tensor indices: inputs then outputs (kNoTensor: absent input)
  uint32_t params_offset;    // kernel-specific parameters, 4-aligned
  uint32_t params_bytes;
  // Requantisation: int32 multiplier[quant_count] followed by int32 shift[quant_count].
  uint32_t quant_offset;
  uint32_t quant_count;
  // Compiler-packed data for the optimised kernel (e.g. bias folded with input offset).
  uint32_t packed_offset;
  uint32_t packed_bytes;
};
static_assert(sizeof(TemOp) == 32);

}  // namespace tinyedge::runtime
