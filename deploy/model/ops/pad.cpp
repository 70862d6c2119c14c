// PAD and PADV2: constant paddings [rank, 2] folded into the kernel's params. The pad value is
// what TFLite Micro uses: PAD int8 the output zero point, other types 0; PADV2 its constant.
#include <cstring>

#include "deploy/model/op_table.h"
#include "deploy/model/ops/data_op_helpers.h"
#include "node_firmware/runtime/kernels/layout_params.h"

namespace tinyedge::model {
namespace rt = tinyedge::runtime;
namespace {

void lower(LowerContext& c) {
  const bool v2 = c.op().inputs.size() == 3;
  if (c.op().inputs.size() != 2 && !v2) c.fail("expects 2 inputs (PAD) or 3 (PADV2)");
  c.need_outputs(1);
  const Tensor& in = moved(c, c.in(0));
  const Tensor& out = c.tensor(c.out());
  if (out.is_constant()) c.fail("output is a constant", c.out());
  same_quantisation(c, in, out, c.out());
  need_rank_at_most_6(c, in, c.in(0));
  const std::vector<int64_t> pads = constant_ints(c, c.in(1), "paddings");
  if (pads.size() != 2 * in.shape.size()) c.fail("paddings must be [rank, 2]", c.in(1));
  rt::PadParams p{};
  for (size_t d = 0; d < in.shape.size(); ++d) {
    const int64_t before = pads[2 * d], after = pads[2 * d + 1];
    if (before < 0 || after < 0) c.fail("negative padding", c.in(1));
    if (in.shape[d] + before + after != out.shape[d]) {
      c.fail(
          "output shape " + shape_text(out.shape) + " does not match input " + shape_text(in.shape) + " plus paddings",
          c.out());
    }
    p.before[d] = static_cast<uint32_t>(before);
  }
  if (v2) {
    const Tensor& value = c.tensor(c.in(2));
    if (!value.is_constant() || value.type != in.type || value.element_count() != 1) {
      c.fail("PADV2 constant value must be one constant of the input's type", c.in(2));
    }
    int32_t raw = 0;
    switch (in.type) {
      case DataType::kInt8:
        raw = static_cast<int8_t>(value.data[0]);
        break;
      case DataType::kInt16:
        raw = static_cast<int16_t>(value.data[0] | (value.data[1] << 8));
        break;
      case DataType::kInt32:
      case DataType::kFloat32:
        std::memcpy(&raw, value.data.data(), 4);
        break;
      default:
        c.fail(std::string("PADV2 of ") + type_name(in.type) + " is not supported", c.in(0));
    }
    p.pad_value = raw;
  } else {
    if (in.type == DataType::kInt64 || in.type == DataType::kBool) {
      c.fail(std::string("PAD of ") + type_name(in.type) + " is not supported", c.in(0));
    }
    p.pad_value = in.type == DataType::kInt8 ? zp_of(out) : 0;
  }
  Lowered& l = c.emit(rt::Kernel::kPad);
  l.inputs = {c.in(0)};
  l.set_params(p);
}

}  // namespace

std::vector<OpDef> pad_ops() { return {{34, "PAD", nullptr, lower, nullptr}, {60, "PADV2", nullptr, lower, nullptr}}; }

}  // namespace tinyedge::model
