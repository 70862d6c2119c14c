// A kernel's registration: everything the runtime knows about one op lives in its own file
// under kernels/ and is reached through this record (see kernel_table.h).
#pragma once
#include <cstdint>
#include <span>

#include "node_firmware/runtime/kernels/op_context.h"
#include "node_firmware/runtime/status.h"
#include "node_firmware/runtime/tem_format.h"

// Op names and constraint text are for `tinyedge model ops`; firmware builds leave them out.
#if defined(TINYEDGE_KERNEL_DOCS)
#define TINYEDGE_KERNEL_TEXT(s) s
#else
#define TINYEDGE_KERNEL_TEXT(s) nullptr
#endif

namespace tinyedge::runtime {

// What the loader hands a kernel's validate(): the op, its operands and the blob. The loader has
// already checked that every operand index is in range (or kNoTensor for an absent input), that
// outputs are activations, that the params blob, operand list, quant table and packed data lie
// inside the blob and are aligned, and that every tensor record is consistent. validate() checks
// the rest: operand counts, types, shapes, params contents and sizes of the quant/packed data.
struct ValidateContext {
  std::span<const uint8_t> blob;
  uint16_t tensor_count = 0;
  const TemTensor* tensors = nullptr;
  const TemOp* op = nullptr;
  const uint16_t* inputs = nullptr;
  const uint16_t* outputs = nullptr;

  // Input k's record, or nullptr if k is beyond input_count or the input is absent.
  const TemTensor* input(uint8_t k) const {
    return k < op->input_count && inputs[k] != kNoTensor ? &tensors[inputs[k]] : nullptr;
  }
  const TemTensor* output(uint8_t k) const { return k < op->output_count ? &tensors[outputs[k]] : nullptr; }
  bool input_is_activation(uint8_t k, TemType type) const {
    const TemTensor* t = input(k);
    return t != nullptr && !(t->flags & kTensorConstant) && t->type == static_cast<uint8_t>(type);
  }
  bool input_is_constant(uint8_t k, TemType type) const {
    const TemTensor* t = input(k);
    return t != nullptr && (t->flags & kTensorConstant) && t->type == static_cast<uint8_t>(type);
  }
  // Whether every value of constant int64 input k lies in [-bound, bound]: an int64 bias must leave
  // the 64-bit accumulator inside the range its requantisation is defined for.
  bool int64_constant_within(uint8_t k, int64_t bound) const {
    const TemTensor* t = input(k);
    if (t == nullptr || !(t->flags & kTensorConstant) || t->type != static_cast<uint8_t>(TemType::kInt64)) return false;
    for (uint32_t at = 0; at + sizeof(int64_t) <= t->bytes; at += sizeof(int64_t)) {
      int64_t value;
      __builtin_memcpy(&value, blob.data() + t->offset + at, sizeof value);
      if (value < -bound || value > bound) return false;
    }
    return true;
  }
  // The params blob as `Params`, or nullptr when its size differs.
  template <class Params>
  const Params* params() const {
    if (op->params_bytes != sizeof(Params)) return nullptr;
    return reinterpret_cast<const Params*>(blob.data() + op->params_offset);
  }
  // quant_count must be one of the two; every multiplier >= 0, shifts in [-31, 30] (<= 0 if asked).
  Status quant_table(uint32_t expected_a, uint32_t expected_b, bool shifts_nonpositive) const;
};

// Which input bytes the output may overwrite when the input dies at this op.
enum class InPlace : uint8_t {
  kNever,
  kSameOffset,  // elementwise: the output may sit exactly on any activation input
  kWindow,      // windowed NHWC (conv, depthwise, pools): input 0 at least in_place_gap() after the output
};

struct KernelRegistration {
  Kernel id;
  InPlace in_place;
  Status (*validate)(const ValidateContext&);
  void (*eval)(const OpContext&);            // what the node runs (optimised where there is one)
  void (*eval_reference)(const OpContext&);  // the plain reference the tests hold eval to
  const char* name;                          // TFLite op name
  const char* constraints;                   // types, ranks, options it accepts
};

}  // namespace tinyedge::runtime
