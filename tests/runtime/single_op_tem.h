// Hand-built one-op .tem blobs for kernel tests that do not go through the compiler: tensors,
// one op with its params struct and quant table, laid out as the format says (each activation at
// its own arena offset). Lets a test state a kernel's inputs and expected outputs directly.
#pragma once
#include <cstring>
#include <span>
#include <vector>

#include "node_firmware/runtime/interpreter.h"
#include "node_firmware/runtime/model.h"
#include "node_firmware/runtime/tem_format.h"

namespace tinyedge::testing {

struct OpTensor {
  runtime::TemType type = runtime::TemType::kInt8;
  std::vector<uint32_t> dims;
  int32_t zero_point = 0;
  std::vector<uint8_t> data;  // non-empty: a constant
  bool persistent = false;    // state kept between invokes (not a graph input)
};

template <class T>
std::vector<uint8_t> raw(const std::vector<T>& values) {
  std::vector<uint8_t> b(values.size() * sizeof(T));
  std::memcpy(b.data(), values.data(), b.size());
  return b;
}

class SingleOpTem {
 public:
  int add(OpTensor t) {
    tensors_.push_back(std::move(t));
    return static_cast<int>(tensors_.size() - 1);
  }
  // inputs may hold -1 for an absent optional input. Graph inputs: the activation inputs;
  // graph outputs: the outputs.
  template <class Params>
  void set_op(runtime::Kernel kernel, std::vector<int> inputs, std::vector<int> outputs, const Params& params,
              std::vector<int32_t> multipliers = {}, std::vector<int32_t> shifts = {}) {
    kernel_ = kernel;
    inputs_ = std::move(inputs);
    outputs_ = std::move(outputs);
    params_.resize(sizeof(Params));
    std::memcpy(params_.data(), &params, sizeof(Params));
    quant_ = multipliers;
    quant_.insert(quant_.end(), shifts.begin(), shifts.end());
    quant_count_ = static_cast<uint32_t>(multipliers.size());
  }
  // Raw params bytes (for tests of wrongly sized blobs).
  void set_params_bytes(std::vector<uint8_t> p) { params_ = std::move(p); }
  // Compiler-packed data for the op (folded biases, SOFTMAX's int16 tables).
  void set_packed(std::vector<uint8_t> p) { packed_ = std::move(p); }

  std::vector<uint8_t> build() const {
    using namespace runtime;
    std::vector<uint8_t> blob(sizeof(TemHeader), 0);
    auto align = [&](size_t a) {
      while (blob.size() % a) blob.push_back(0);
    };
    auto append = [&](const void* p, size_t n) {
      align(8);
      const size_t at = blob.size();
      blob.resize(at + n);
      if (n) std::memcpy(blob.data() + at, p, n);
      return static_cast<uint32_t>(at);
    };
    TemHeader h{};
    h.magic = kTemMagic;
    h.format_version = kTemFormatVersion;
    h.header_bytes = sizeof(TemHeader);
    h.model_id = 1;
    h.model_version = 1;
    h.tensor_count = static_cast<uint16_t>(tensors_.size());
    h.op_count = 1;
    // Constant data first, then the tables that point at it.
    std::vector<TemTensor> records(tensors_.size());
    uint32_t arena = 0;
    for (size_t i = 0; i < tensors_.size(); ++i) {
      const OpTensor& t = tensors_[i];
      TemTensor& r = records[i];
      r.type = static_cast<uint8_t>(t.type);
      r.rank = static_cast<uint8_t>(t.dims.size());
      uint64_t n = 1;
      for (int d = 0; d < kMaxRank; ++d) {
        r.dims[d] = d < r.rank ? t.dims[d] : 1;
        n *= r.dims[d];
      }
      r.zero_point = t.zero_point;
      r.scale = 1.0f;
      r.bytes = static_cast<uint32_t>(n * element_bytes(r.type));
      if (!t.data.empty()) {
        r.flags = kTensorConstant;
        r.offset = append(t.data.data(), t.data.size());
      } else {
        if (t.persistent) r.flags = kTensorPersistent;
        r.offset = arena;
        arena += (r.bytes + 7) / 8 * 8;
      }
    }
    h.arena_bytes = arena;
    h.tensors_offset = append(records.data(), records.size() * sizeof(TemTensor));
    std::vector<uint16_t> io;
    for (int i : inputs_) {
      if (i >= 0 && tensors_[i].data.empty() && !tensors_[i].persistent) io.push_back(static_cast<uint16_t>(i));
    }
    h.input_count = static_cast<uint16_t>(io.size());
    for (int o : outputs_) io.push_back(static_cast<uint16_t>(o));
    h.output_count = static_cast<uint16_t>(outputs_.size());
    h.io_offset = append(io.data(), io.size() * 2);
    std::vector<uint16_t> operands;
    for (int i : inputs_) operands.push_back(i < 0 ? kNoTensor : static_cast<uint16_t>(i));
    for (int o : outputs_) operands.push_back(static_cast<uint16_t>(o));
    TemOp op{};
    op.kernel = static_cast<uint16_t>(kernel_);
    op.input_count = static_cast<uint8_t>(inputs_.size());
    op.output_count = static_cast<uint8_t>(outputs_.size());
    op.operands_offset = append(operands.data(), operands.size() * 2);
    op.params_offset = append(params_.data(), params_.size());
    op.params_bytes = static_cast<uint32_t>(params_.size());
    if (quant_count_ > 0) op.quant_offset = append(quant_.data(), quant_.size() * 4);
    op.quant_count = quant_count_;
    if (!packed_.empty()) {
      op.packed_offset = append(packed_.data(), packed_.size());
      op.packed_bytes = static_cast<uint32_t>(packed_.size());
    }
    h.ops_offset = append(&op, sizeof op);
    align(4);
    h.name.offset = h.input_description.offset = h.labels_offset = static_cast<uint32_t>(blob.size());
    h.blob_bytes = static_cast<uint32_t>(blob.size());
    std::memcpy(blob.data(), &h, sizeof h);
    return blob;
  }

 private:
  std::vector<OpTensor> tensors_;
  runtime::Kernel kernel_{};
  std::vector<int> inputs_, outputs_;
  std::vector<uint8_t> params_;
  std::vector<int32_t> quant_;
  uint32_t quant_count_ = 0;
  std::vector<uint8_t> packed_;
};

// Loads a hand-built blob and runs it: write inputs with input<T>(i), read output<T>(i).
struct OpRun {
  std::vector<uint64_t> blob;
  size_t bytes = 0;
  runtime::Model model;
  std::vector<uint64_t> arena;
  runtime::Interpreter interp;

  runtime::Status load(const std::vector<uint8_t>& tem, runtime::KernelSet set = runtime::KernelSet::kOptimized) {
    blob.assign((tem.size() + 7) / 8, 0);
    std::memcpy(blob.data(), tem.data(), tem.size());
    bytes = tem.size();
    const runtime::Status s = runtime::Model::load({reinterpret_cast<const uint8_t*>(blob.data()), bytes}, model);
    if (s != runtime::Status::kOk) return s;
    // A corrupted header may ask for gigabytes: the node would refuse it with its fixed arena.
    if (model.arena_bytes() > (16u << 20)) return runtime::Status::kArenaTooSmall;
    arena.assign(model.arena_bytes() / 8 + 1, 0);
    interp.set_kernel_set(set);
    return interp.init(model, {reinterpret_cast<uint8_t*>(arena.data()), arena.size() * 8});
  }
  template <class T>
  void set_input(uint16_t i, const std::vector<T>& v) {
    std::memcpy(interp.input(i).data(), v.data(), v.size() * sizeof(T));
  }
  template <class T>
  std::vector<T> output(uint16_t i = 0) const {
    const auto o = interp.output(i);
    std::vector<T> v(o.size() / sizeof(T));
    std::memcpy(v.data(), o.data(), v.size() * sizeof(T));
    return v;
  }
};

}  // namespace tinyedge::testing
