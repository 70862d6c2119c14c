// Optimised kernels: same results as reference.h, bit for bit, faster. They rely on data the
// compiler packed into the blob (TemOp::packed_*): per output channel, bias + input_offset *
// sum(filter), so that the inner loops are plain int8 dot products the compiler vectorises (or
// that the Cortex-M4 DSP path runs two MACs per SMLAD).
#pragma once
#include "node_firmware/runtime/kernels/op_context.h"

namespace tinyedge::runtime::optimized {

void conv2d(const OpContext& ctx);
void depthwise_conv2d(const OpContext& ctx);
void fully_connected(const OpContext& ctx);
void average_pool2d(const OpContext& ctx);

}  // namespace tinyedge::runtime::optimized
