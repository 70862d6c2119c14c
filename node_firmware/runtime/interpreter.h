// Runs a loaded Model in one caller-provided arena: no heap, no copies of the model.
#pragma once
#include <cstdint>
#include <span>

#include "node_firmware/runtime/kernels/op_context.h"
#include "node_firmware/runtime/model.h"
#include "node_firmware/runtime/status.h"

namespace tinyedge::runtime {

enum class KernelSet : uint8_t { kOptimized, kReference };

class Interpreter {
 public:
  // `arena` must hold model.arena_bytes() bytes, 4-byte aligned; both must outlive the interpreter.
  Status init(const Model& model, std::span<uint8_t> arena);

  // Graph input i (write it before invoke) and output i (valid after invoke), in the arena, as
  // raw bytes viewed as int8 (Model::input_info(i).type says what they hold).
  std::span<int8_t> input(uint16_t i = 0);
  std::span<const int8_t> output(uint16_t i = 0) const;

  // Resets the persistent tensors (LSTM/SVDF state) as TFLite Micro does: int8 to its zero point,
  // other types to 0. A fresh sequence; init() does it too.
  void reset_state();

  Status invoke();
  // Runs ops [begin, end) only: lets tests check every layer's output before the arena reuses it.
  Status invoke_ops(uint16_t begin, uint16_t end);

  // Tests and benchmarks compare the two; the node always runs the optimised set.
  void set_kernel_set(KernelSet set) { kernels_ = set; }

  // What op `index` (< op_count) hands its kernel: lets tests run a kernel variant on the same operands.
  OpContext context(uint16_t index) const;

  // The activation of any tensor (for per-layer checks); empty for constants or bad indices.
  std::span<const int8_t> tensor_data(uint16_t index) const;

 private:
  const Model* model_ = nullptr;
  uint8_t* arena_ = nullptr;
  KernelSet kernels_ = KernelSet::kOptimized;
};

}  // namespace tinyedge::runtime
