// Plain reference kernels: TFLite's int8 reference semantics written for clarity. Every
// optimised kernel is held to these bit for bit by tests.
#pragma once
#include "node_firmware/runtime/kernels/op_context.h"

namespace tinyedge::runtime::reference {

void conv2d(const OpContext& ctx);
void depthwise_conv2d(const OpContext& ctx);
void fully_connected(const OpContext& ctx);
void average_pool2d(const OpContext& ctx);
void max_pool2d(const OpContext& ctx);
void add(const OpContext& ctx);
void softmax(const OpContext& ctx);

}  // namespace tinyedge::runtime::reference
