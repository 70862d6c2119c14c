// TRANSPOSE: a constant permutation folded into the kernel's params.
#include "deploy/model/op_table.h"
#include "deploy/model/ops/data_op_helpers.h"
#include "node_firmware/runtime/kernels/layout_params.h"

namespace tinyedge::model {
namespace rt = tinyedge::runtime;
namespace {

void lower(LowerContext& c) {
  c.need_inputs(2);
  c.need_outputs(1);
  const Tensor& in = moved(c, c.in(0));
  const Tensor& out = c.tensor(c.out());
  same_quantisation(c, in, out, c.out());
  need_rank_at_most_6(c, in, c.in(0));
  const std::vector<int64_t> perm = constant_ints(c, c.in(1), "permutation");
  const size_t rank = in.shape.size();
  if (perm.size() != rank || out.shape.size() != rank) c.fail("permutation must have one entry per input dim", c.in(1));
  rt::TransposeParams p{};
  std::vector<bool> seen(rank, false);
  for (size_t d = 0; d < 6; ++d) p.perm[d] = static_cast<uint8_t>(d);
  for (size_t d = 0; d < rank; ++d) {
    if (perm[d] < 0 || perm[d] >= static_cast<int64_t>(rank) || seen[perm[d]]) c.fail("not a permutation", c.in(1));
    seen[perm[d]] = true;
    p.perm[d] = static_cast<uint8_t>(perm[d]);
    if (out.shape[d] != in.shape[perm[d]])
      c.fail("output shape " + shape_text(out.shape) + " does not match the permutation", c.out());
  }
  Lowered& l = c.emit(rt::Kernel::kTranspose);
  l.inputs = {c.in(0)};
  l.set_params(p);
}

}  // namespace

std::vector<OpDef> transpose_ops() { return {{39, "TRANSPOSE", nullptr, lower, nullptr}}; }

}  // namespace tinyedge::model
