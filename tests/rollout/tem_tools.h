// Test helpers over our own .tem format (node_firmware/runtime): run a model on inputs, and make a
// "silently worse" model by permuting its output classes. The permuted model is a valid .tem that
// loads, runs at the same speed and with the same confidence, and passes a self-test whose golden
// output was computed from it; it just names the wrong class.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "node_firmware/runtime/interpreter.h"
#include "node_firmware/runtime/model.h"

namespace tinyedge::rollout::testing {

// Top-1 class of `model` on each input tensor of `inputs` (back to back). Throws naming the problem.
inline std::vector<uint32_t> top1_labels(std::span<const uint8_t> model_blob, std::span<const int8_t> inputs) {
  runtime::Model model;
  if (runtime::Model::load(model_blob, model) != runtime::Status::kOk) throw std::runtime_error("model does not load");
  std::vector<uint32_t> arena((model.arena_bytes() + 3) / 4);
  runtime::Interpreter interpreter;
  if (interpreter.init(model, std::span(reinterpret_cast<uint8_t*>(arena.data()), arena.size() * 4)) !=
      runtime::Status::kOk) {
    throw std::runtime_error("interpreter init failed");
  }
  const size_t in_bytes = interpreter.input().size();
  if (in_bytes == 0 || inputs.size() % in_bytes != 0) throw std::runtime_error("inputs are not whole tensors");
  std::vector<uint32_t> labels;
  for (size_t at = 0; at < inputs.size(); at += in_bytes) {
    std::copy_n(inputs.begin() + static_cast<std::ptrdiff_t>(at), in_bytes, interpreter.input().begin());
    if (interpreter.invoke() != runtime::Status::kOk) throw std::runtime_error("inference failed");
    auto out = interpreter.output();
    labels.push_back(static_cast<uint32_t>(std::max_element(out.begin(), out.end()) - out.begin()));
  }
  return labels;
}

// A copy of `blob` whose last FULLY_CONNECTED op (the classifier head) moves output unit u to
// perm[u]: its weight row, bias, compiler-folded bias and (per-channel) requantisation. Softmax
// and reshape after it are per-class, so the model then reports class perm[c] where it reported
// c, with the same score. Throws naming the problem.
inline std::vector<uint8_t> permute_output_classes(std::span<const uint8_t> blob, const std::vector<uint32_t>& perm) {
  runtime::Model model;
  if (runtime::Model::load(blob, model) != runtime::Status::kOk) throw std::runtime_error("model does not load");
  int head = -1;
  for (int i = 0; i < model.op_count(); ++i) {
    if (model.op(i).kernel == static_cast<uint16_t>(runtime::Kernel::kFullyConnected)) head = i;
  }
  if (head < 0) throw std::runtime_error("model has no fully connected layer");
  const runtime::TemOp& op = model.op(head);
  const runtime::TemTensor& weights = model.tensor(model.op_inputs(head)[1]);
  const runtime::TemTensor& bias = model.tensor(model.op_inputs(head)[2]);
  const uint32_t units = weights.dims[0], depth = weights.dims[1];
  std::vector<bool> seen(units, false);
  if (perm.size() != units) throw std::runtime_error("permutation of " + std::to_string(units) + " classes expected");
  for (uint32_t p : perm) {
    if (p >= units || seen[p]) throw std::runtime_error("not a permutation");
    seen[p] = true;
  }
  std::vector<uint8_t> out(blob.begin(), blob.end());
  // Moves `count` records of `size` bytes starting at `offset` so record u lands at perm[u].
  auto move_rows = [&](uint32_t offset, size_t size) {
    for (uint32_t u = 0; u < units; ++u) {
      std::memcpy(out.data() + offset + perm[u] * size, blob.data() + offset + u * size, size);
    }
  };
  move_rows(weights.offset, depth);
  move_rows(bias.offset, sizeof(int32_t));
  if (op.packed_bytes >= units * sizeof(int32_t)) move_rows(op.packed_offset, sizeof(int32_t));
  if (op.quant_count == units) {
    move_rows(op.quant_offset, sizeof(int32_t));                            // multipliers
    move_rows(op.quant_offset + units * sizeof(int32_t), sizeof(int32_t));  // shifts
  }
  runtime::Model check;
  if (runtime::Model::load(out, check) != runtime::Status::kOk)
    throw std::runtime_error("permuted model does not load");
  return out;
}

}  // namespace tinyedge::rollout::testing
