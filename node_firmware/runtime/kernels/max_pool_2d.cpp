// MAX_POOL_2D, int8: the reference loop (pooling.h) is what the node runs.
#include "node_firmware/runtime/kernels/pooling.h"

namespace tinyedge::runtime::kernels {
namespace {

void max_pool(const OpContext& ctx) { pooling::pool<false>(ctx); }

}  // namespace

extern const KernelRegistration max_pool_2d_kernel{
    Kernel::kMaxPool2D,
    InPlace::kWindow,
    pooling::validate,
    max_pool,
    max_pool,
    TINYEDGE_KERNEL_TEXT("MAX_POOL_2D"),
    TINYEDGE_KERNEL_TEXT("int8 [N,H,W,C] in and out with the same quantisation; filter and stride 1..255, "
                         "SAME/VALID; fused RELU/RELU6/RELU_N1_TO_1")};

}  // namespace tinyedge::runtime::kernels
