#include "node_firmware/runtime/interpreter.h"

#include <cstring>

#include "node_firmware/runtime/kernel_table.h"

namespace tinyedge::runtime {

Status Interpreter::init(const Model& model, std::span<uint8_t> arena) {
  if (!model.loaded()) return Status::kNotInitialised;
  if (arena.size() < model.arena_bytes() || reinterpret_cast<uintptr_t>(arena.data()) % 4 != 0) {
    return Status::kArenaTooSmall;
  }
  model_ = &model;
  arena_ = arena.data();
  reset_state();
  return Status::kOk;
}

void Interpreter::reset_state() {
  if (model_ == nullptr) return;
  for (uint16_t i = 0; i < model_->tensor_count(); ++i) {
    const TemTensor& t = model_->tensor(i);
    if (!(t.flags & kTensorPersistent)) continue;
    // TFLite Micro resets int8 state to its zero point (real 0), wider types to 0.
    const int fill = t.type == static_cast<uint8_t>(TemType::kInt8) ? static_cast<uint8_t>(t.zero_point) : 0;
    std::memset(arena_ + t.offset, fill, t.bytes);
  }
}

std::span<int8_t> Interpreter::input(uint16_t i) {
  if (model_ == nullptr || i >= model_->input_count()) return {};
  const TemTensor& t = model_->tensor(model_->input_tensor(i));
  return {reinterpret_cast<int8_t*>(arena_ + t.offset), t.bytes};
}

std::span<const int8_t> Interpreter::output(uint16_t i) const {
  if (model_ == nullptr || i >= model_->output_count()) return {};
  const TemTensor& t = model_->tensor(model_->output_tensor(i));
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

OpContext Interpreter::context(uint16_t index) const {
  const uint8_t* blob = model_->data();
  const TemOp& op = model_->op(index);
  const std::span<const uint16_t> ins = model_->op_inputs(index);
  const std::span<const uint16_t> outs = model_->op_outputs(index);
  OpContext ctx;
  ctx.op = &op;
  ctx.params = blob + op.params_offset;
  ctx.tensors = &model_->tensor(0);
  ctx.inputs = ins.data();
  ctx.outputs = outs.data();
  ctx.blob = blob;
  ctx.arena = arena_;
  // The usual operands, resolved once here so kernels stay as plain as TFLite's.
  if (!ins.empty() && ins[0] != kNoTensor) {
    ctx.input = reinterpret_cast<const int8_t*>(ctx.data(ins[0]));
    ctx.input_shape = shape_of(model_->tensor(ins[0]));
  }
  if (ins.size() > 1 && ins[1] != kNoTensor) {
    ctx.input2 = reinterpret_cast<const int8_t*>(ctx.data(ins[1]));
    ctx.filter = ctx.input2;
    ctx.filter_shape = shape_of(model_->tensor(ins[1]));
  }
  if (ins.size() > 2 && ins[2] != kNoTensor) ctx.bias = reinterpret_cast<const int32_t*>(ctx.data(ins[2]));
  ctx.output = reinterpret_cast<int8_t*>(arena_ + model_->tensor(outs[0]).offset);
  ctx.output_shape = shape_of(model_->tensor(outs[0]));
  ctx.quant_count = op.quant_count;
  if (op.quant_count > 0) {
    ctx.multipliers = reinterpret_cast<const int32_t*>(blob + op.quant_offset);
    ctx.shifts = ctx.multipliers + op.quant_count;
  }
  if (op.packed_bytes > 0) ctx.packed = reinterpret_cast<const int32_t*>(blob + op.packed_offset);
  return ctx;
}

Status Interpreter::invoke_ops(uint16_t begin, uint16_t end) {
  if (model_ == nullptr) return Status::kNotInitialised;
  if (end > model_->op_count() || begin > end) return Status::kBadIndex;
  const bool reference = kernels_ == KernelSet::kReference;
  for (uint16_t i = begin; i < end; ++i) {
    const TemOp& op = model_->op(i);
    const KernelRegistration* kernel = find_kernel(op.kernel);
    if (kernel == nullptr) return Status::kBadOp;  // cannot happen after a successful load
    const OpContext ctx = context(i);
    (reference ? kernel->eval_reference : kernel->eval)(ctx);
  }
  return Status::kOk;
}

}  // namespace tinyedge::runtime
