// What an op's lowering (deploy/model/ops/<op>.cpp) works with: the graph op in hand, checks
// that fail with the op and tensor named, and the .tem op(s) it emits: kernel, operands, a params
// blob of the kernel's own struct, requantisation tables and packed data.
#pragma once
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "deploy/model/compile.h"
#include "deploy/model/graph.h"
#include "node_firmware/runtime/tem_format.h"

namespace tinyedge::model {

// One .tem op as the compiler writes it.
struct Lowered {
  uint16_t kernel = 0;          // runtime::Kernel
  std::vector<int> inputs;      // graph tensor indices; -1 = optional input absent (kNoTensor)
  std::vector<int> outputs;     // graph tensor indices
  std::vector<uint8_t> params;  // the kernel's params struct, byte for byte
  std::vector<int32_t> quant;   // multipliers[quant_count] then shifts[quant_count]
  uint32_t quant_count = 0;
  std::vector<uint8_t> packed;  // compiler-packed data for the kernel (folded bias, reordered weights)
  // Constant inputs the op reads in another byte order than the graph's (input slot, its bytes):
  // the compiler gives the op its own copy of that tensor, so another op reading the graph's
  // tensor is not affected and an unshared tensor is not stored twice.
  std::vector<std::pair<size_t, std::vector<uint8_t>>> reordered_inputs;

  // How the planner may overlap output 0 with a dying input (the runtime kernel's InPlace):
  // kSameOffset: elementwise, any dying activation input at the same offset; kWindow: input 0 at
  // an offset at least window_gap above the output; kAlias: output 0 *is* input 0 (reshape-like:
  // the kernel copies nothing when they coincide).
  enum class InPlace : uint8_t { kNever, kSameOffset, kWindow, kAlias };
  InPlace in_place = InPlace::kNever;
  int64_t window_gap = 0;

  template <class P>
  void set_params(const P& p) {
    params.resize(sizeof p);
    std::memcpy(params.data(), &p, sizeof p);
  }
  template <class T>
  void append_packed(const std::vector<T>& v) {
    const size_t at = packed.size();
    packed.resize(at + v.size() * sizeof(T));
    if (!v.empty()) std::memcpy(packed.data() + at, v.data(), v.size() * sizeof(T));
  }
};

int32_t dim(const Tensor& t, size_t i);  // 1 past the rank
float scale_of(const Tensor& t);
int32_t zp_of(const Tensor& t);
int32_t read_i32(const Tensor& t, size_t i);
const char* type_name(DataType t);

class LowerContext {
 public:
  LowerContext(const Graph& g, size_t op_index, const CompileOptions& options = {})
      : g_(g), i_(op_index), options_(options) {}

  const Graph& graph() const { return g_; }
  const CompileOptions& options() const { return options_; }
  const Op& op() const { return g_.ops[i_]; }
  const Tensor& tensor(int index) const { return g_.tensors[index]; }
  int in(size_t k) const { return k < op().inputs.size() ? op().inputs[k] : -1; }
  int out(size_t k = 0) const { return k < op().outputs.size() ? op().outputs[k] : -1; }

  // "op 3 (CONV_2D), tensor 7 'conv1/out': <what>" as a CompileError.
  [[noreturn]] void fail(const std::string& what, int tensor = -1) const;
  void need_inputs(size_t n) const;
  void need_outputs(size_t n) const;
  // A per-tensor quantised activation of `type` (zero point in the type's range, scale > 0).
  const Tensor& activation(int index, DataType type = DataType::kInt8) const;
  // Constant data of `type`.
  const Tensor& constant(int index, DataType type) const;

  // A new .tem op for `kernel`; inputs/outputs default to the graph op's.
  Lowered& emit(runtime::Kernel kernel);
  std::vector<Lowered>& emitted() { return emitted_; }

 private:
  const Graph& g_;
  size_t i_;
  CompileOptions options_;
  std::vector<Lowered> emitted_;
};

}  // namespace tinyedge::model
