// ADD: int8 or int16 (any zero points, TFLite's general int16 path), with broadcasting up to rank 6 (add_sub.h).
#include "node_firmware/runtime/kernels/add_sub.h"
#include "node_firmware/runtime/kernels/dsp_add.h"

namespace tinyedge::runtime::kernels {
namespace {

void eval(const OpContext& ctx) {
#if defined(__ARM_FEATURE_DSP)
  if (dsp::add_fits(ctx)) return dsp::add(ctx);
#endif
  add_sub_any<1, true>(ctx);
}

}  // namespace

extern const KernelRegistration add_kernel{
    Kernel::kAdd,
    InPlace::kSameOffset,
    validate_add_sub,
    eval,
    add_sub_any<1, false>,
    TINYEDGE_KERNEL_TEXT("ADD"),
    TINYEDGE_KERNEL_TEXT("int8 or int16 (input zero points inside the type's range); a, b and output of one type; "
                         "broadcasting up to rank 6; "
                         "fused RELU/RELU6/RELU_N1_TO_1")};

}  // namespace tinyedge::runtime::kernels
