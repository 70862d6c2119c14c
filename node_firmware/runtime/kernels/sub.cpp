// SUB: int8 or int16 (input zero points 0, as TFLite Micro asserts), with broadcasting up to rank 6 (add_sub.h).
#include "node_firmware/runtime/kernels/add_sub.h"

namespace tinyedge::runtime::kernels {

extern const KernelRegistration sub_kernel{
    Kernel::kSub,
    InPlace::kSameOffset,
    validate_add_sub,
    add_sub_any<-1, true>,
    add_sub_any<-1, false>,
    TINYEDGE_KERNEL_TEXT("SUB"),
    TINYEDGE_KERNEL_TEXT(
        "int8, or int16 with input zero points 0; a, b and output of one type; broadcasting up to rank 6; "
        "fused RELU/RELU6/RELU_N1_TO_1")};

}  // namespace tinyedge::runtime::kernels
