// Shared by RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR: the flags and the operand checks.
#pragma once
#include <cstdint>
#include <cstring>

#include "node_firmware/runtime/kernels/registration.h"

namespace tinyedge::runtime::kernels {

struct ResizeParams {
  uint8_t align_corners;       // 0 or 1
  uint8_t half_pixel_centers;  // 0 or 1
  uint8_t reserved[2];
};
static_assert(sizeof(ResizeParams) == 4);

// Input 0 a [N,H,W,C] activation of `type` (int8, or int16 when allowed), optional input 1 the
// constant int32 size [2] equal to the output's H and W, output [N,H',W',C] of the same type and
// zero point (a resize never changes quantisation).
inline Status validate_resize(const ValidateContext& v, bool allow_int16) {
  if ((v.op->input_count != 1 && v.op->input_count != 2) || v.op->output_count != 1) return Status::kBadOp;
  const bool int8 = v.input_is_activation(0, TemType::kInt8);
  const bool int16 = allow_int16 && v.input_is_activation(0, TemType::kInt16);
  if (!int8 && !int16) return Status::kBadIndex;
  const TemTensor& in = *v.input(0);
  const TemTensor& out = *v.output(0);
  if (out.type != in.type) return Status::kBadIndex;
  if (in.rank != 4 || out.rank != 4 || in.dims[0] != out.dims[0] || in.dims[3] != out.dims[3]) return Status::kBadShape;
  if (in.zero_point != out.zero_point) return Status::kBadQuantization;
  if (v.op->input_count == 2) {
    if (!v.input_is_constant(1, TemType::kInt32)) return Status::kBadIndex;
    const TemTensor& size = *v.input(1);
    if (size.rank != 1 || size.dims[0] != 2) return Status::kBadShape;
    int32_t hw[2];
    std::memcpy(hw, v.blob.data() + size.offset, sizeof hw);
    if (hw[0] != static_cast<int32_t>(out.dims[1]) || hw[1] != static_cast<int32_t>(out.dims[2])) {
      return Status::kBadShape;
    }
  }
  const ResizeParams* p = v.params<ResizeParams>();
  if (p == nullptr || p->align_corners > 1 || p->half_pixel_centers > 1) return Status::kBadParams;
  if (p->align_corners && p->half_pixel_centers) return Status::kBadParams;  // TFLite forbids both
  return v.op->packed_bytes == 0 && v.op->quant_count == 0 ? Status::kOk : Status::kBadParams;
}

}  // namespace tinyedge::runtime::kernels
