#include "node_firmware/runtime/interpreter.h"

#include <cstring>

#include "node_firmware/runtime/kernels/optimized.h"
#include "node_firmware/runtime/kernels/reference.h"

namespace tinyedge::runtime {

Status Interpreter::init(const Model& model, std::span<uint8_t> arena) {
  if (!model.loaded()) return Status::kNotInitialised;
  if (arena.size() < model.arena_bytes() || reinterpret_cast<uintptr_t>(arena.data()) % 4 != 0) {
    return Status::kArenaTooSmall;
  }
  model_ = &model;
  arena_ = arena.data();
  return Status::kOk;
}

std::span<int8_t> Interpreter::input() {
  if (model_ == nullptr) return {};
  const TemTensor& t = model_->tensor(model_->input_tensor());
  return {reinterpret_cast<int8_t*>(arena_ + t.offset), t.bytes};
}

std::span<const int8_t> Interpreter::output() const {
  if (model_ == nullptr) return {};
  const TemTensor& t = model_->tensor(model_->output_tensor());
  return {reinterpret_cast<const int8_t*>(arena_ + t.offset), t.bytes};
}

std::span<const int8_t> Interpreter::tensor_data(uint16_t index) const {
  if (model_ == nullptr || index >= model_->tensor_count()) return {};
  const TemTensor& t = model_->tensor(index);
  if (t.flags & kTensorConstant) return {};
  return {reinterpret_cast<const int8_t*>(arena_ + t.offset), t.bytes};
}

Status Interpreter::invoke() {
  if (model_ == nullptr) return Status::kNotInitialised;
  return invoke_ops(0, model_->op_count());
}

Status Interpreter::invoke_ops(uint16_t begin, uint16_t end) {
  if (model_ == nullptr) return Status::kNotInitialised;
  if (end > model_->op_count() || begin > end) return Status::kBadIndex;
  const uint8_t* blob = model_->data();
  const bool reference = kernels_ == KernelSet::kReference;
  for (uint16_t i = begin; i < end; ++i) {
    const TemOp& op = model_->op(i);
    const TemTensor& tin = model_->tensor(op.inputs[0]);
    const TemTensor& tout = model_->tensor(op.output);
    OpContext ctx;
    ctx.op = &op;
    ctx.input = reinterpret_cast<const int8_t*>(arena_ + tin.offset);
    ctx.input_shape = shape_of(tin);
    ctx.output = reinterpret_cast<int8_t*>(arena_ + tout.offset);
    ctx.output_shape = shape_of(tout);
    if (op.quant_count > 0) {
      ctx.multipliers = reinterpret_cast<const int32_t*>(blob + op.quant_offset);
      ctx.shifts = ctx.multipliers + op.quant_count;
    }
    if (op.packed_bytes > 0) ctx.packed = reinterpret_cast<const int32_t*>(blob + op.packed_offset);
    const Kernel kernel = static_cast<Kernel>(op.kernel);
    if (kernel == Kernel::kConv2D || kernel == Kernel::kDepthwiseConv2D || kernel == Kernel::kFullyConnected) {
      const TemTensor& tf = model_->tensor(op.inputs[1]);
      ctx.filter = reinterpret_cast<const int8_t*>(blob + tf.offset);
      ctx.filter_shape = shape_of(tf);
      ctx.bias = reinterpret_cast<const int32_t*>(blob + model_->tensor(op.inputs[2]).offset);
    } else if (kernel == Kernel::kAdd) {
      ctx.input2 = reinterpret_cast<const int8_t*>(arena_ + model_->tensor(op.inputs[1]).offset);
    }
    const bool fast = !reference && ctx.packed != nullptr;
    switch (kernel) {
      case Kernel::kConv2D: fast ? optimized::conv2d(ctx) : reference::conv2d(ctx); break;
      case Kernel::kDepthwiseConv2D: fast ? optimized::depthwise_conv2d(ctx) : reference::depthwise_conv2d(ctx); break;
      case Kernel::kFullyConnected: fast ? optimized::fully_connected(ctx) : reference::fully_connected(ctx); break;
      case Kernel::kAveragePool2D: reference ? reference::average_pool2d(ctx) : optimized::average_pool2d(ctx); break;
      case Kernel::kMaxPool2D: reference::max_pool2d(ctx); break;
      case Kernel::kAdd: reference::add(ctx); break;
      case Kernel::kSoftmax: reference::softmax(ctx); break;
      case Kernel::kReshape:
        if (ctx.output != ctx.input) std::memmove(ctx.output, ctx.input, tin.bytes);
        break;
      case Kernel::kCount: return Status::kBadOp;
    }
  }
  return Status::kOk;
}

}  // namespace tinyedge::runtime
