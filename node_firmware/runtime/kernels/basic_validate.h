// Checks shared by the kernels that take BasicOpParams (conv, depthwise, FC, pools, add,
// reshape, softmax).
#pragma once
#include "node_firmware/runtime/kernels/basic_params.h"
#include "node_firmware/runtime/kernels/registration.h"

namespace tinyedge::runtime {

// Largest dot-product length a kernel accepts: keeps |sum((x+offset)*w)| < 2^30 (no int32 overflow).
inline constexpr int64_t kMaxDotLength = 32768;
// An int64 bias (16x8 ops) beyond 2^40 would push the accumulator (bias + at most kMaxDotLength
// products of int16 x int8, under 2^37) out of the [-2^47, 2^47) its 64-bit requantisation takes.
inline constexpr int64_t kMaxBias64 = int64_t{1} << 40;

// Input 0 and output 0 int8 activations, exactly `inputs` inputs and one output, params of the
// right size with offsets and clamp in int8 range; nullptr (and `status` set) otherwise.
inline const BasicOpParams* basic_int8_op(const ValidateContext& v, uint8_t inputs, Status& status) {
  status = Status::kBadOp;
  if (v.op->input_count != inputs || v.op->output_count != 1) return nullptr;
  status = Status::kBadIndex;
  if (!v.input_is_activation(0, TemType::kInt8) || v.output(0)->type != static_cast<uint8_t>(TemType::kInt8)) {
    return nullptr;
  }
  status = Status::kBadParams;
  const BasicOpParams* p = v.params<BasicOpParams>();
  if (p == nullptr) return nullptr;
  if (p->act_min < -128 || p->act_max > 127 || p->act_min > p->act_max || p->output_offset < -128 ||
      p->output_offset > 127 || p->input_offset < -127 || p->input_offset > 128) {
    return nullptr;
  }
  if (v.input(0)->rank > 4 || v.output(0)->rank > 4) {
    status = Status::kBadShape;
    return nullptr;
  }
  status = Status::kOk;
  return p;
}

// packed_* holds the folded bias (expected_bytes) and, for conv, optionally the transposed filter.
inline Status basic_packed(const ValidateContext& v, const BasicOpParams& p, uint32_t expected_bytes,
                           uint32_t transposed_bytes = 0) {
  const TemOp& o = *v.op;
  if (o.packed_bytes == 0) return p.packing == 0 ? Status::kOk : Status::kBadParams;
  if (p.packing == static_cast<uint8_t>(TemPacking::kBias)) {
    return o.packed_bytes == expected_bytes ? Status::kOk : Status::kBadParams;
  }
  if (p.packing == static_cast<uint8_t>(TemPacking::kBiasTransposedConv) && transposed_bytes != 0) {
    return o.packed_bytes == expected_bytes + transposed_bytes ? Status::kOk : Status::kBadParams;
  }
  return Status::kBadParams;
}

}  // namespace tinyedge::runtime
