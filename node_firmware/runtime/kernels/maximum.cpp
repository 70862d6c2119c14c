// MAXIMUM: int8 or int16, inputs and output of one quantisation, broadcasting up to rank 6 (min_max.h).
#include "node_firmware/runtime/kernels/min_max.h"

namespace tinyedge::runtime::kernels {

extern const KernelRegistration maximum_kernel{Kernel::kMaximum,
                                               InPlace::kSameOffset,
                                               validate_min_max,
                                               min_max<true>,
                                               min_max<true>,
                                               TINYEDGE_KERNEL_TEXT("MAXIMUM"),
                                               TINYEDGE_KERNEL_TEXT("int8 or int16; a, b and output of one type and "
                                                                    "quantisation; broadcasting up to rank 6")};

}  // namespace tinyedge::runtime::kernels
