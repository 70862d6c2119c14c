// Builds small .tem files by hand (no compiler): single-op graphs for the kernel tests and the
// loader's corruption tests of the kernels that the compiler does not lower yet. Every
// activation gets arena bytes of its own (nothing shared, so the loader's overlap rules never
// come into it unless a test places tensors itself).
#pragma once
#include <cstring>
#include <span>
#include <vector>

#include "node_firmware/runtime/interpreter.h"
#include "node_firmware/runtime/model.h"
#include "node_firmware/runtime/tem_format.h"

namespace tinyedge::testing {

class TemBuilder {
 public:
  // An activation in the arena; returns its tensor index.
  uint16_t activation(runtime::TemType type, std::vector<uint32_t> dims, int32_t zero_point = 0, float scale = 1.0f) {
    runtime::TemTensor t = record(type, dims, zero_point, scale);
    arena_bytes_ = (arena_bytes_ + 7u) & ~7u;
    t.offset = arena_bytes_;
    arena_bytes_ += t.bytes;
    tensors_.push_back(t);
    constants_.emplace_back();
    return static_cast<uint16_t>(tensors_.size() - 1);
  }
  // A constant whose bytes go into the blob.
  uint16_t constant(runtime::TemType type, std::vector<uint32_t> dims, std::span<const uint8_t> bytes,
                    int32_t zero_point = 0, float scale = 1.0f) {
    runtime::TemTensor t = record(type, dims, zero_point, scale);
    t.flags = runtime::kTensorConstant;
    tensors_.push_back(t);
    constants_.emplace_back(bytes.begin(), bytes.end());
    return static_cast<uint16_t>(tensors_.size() - 1);
  }
  template <class T>
  uint16_t constant_of(runtime::TemType type, std::vector<uint32_t> dims, const std::vector<T>& values,
                       int32_t zero_point = 0) {
    return constant(type, dims, {reinterpret_cast<const uint8_t*>(values.data()), values.size() * sizeof(T)},
                    zero_point);
  }

  template <class Params>
  void op(runtime::Kernel kernel, std::vector<uint16_t> inputs, std::vector<uint16_t> outputs, const Params& params,
          std::vector<std::pair<int32_t, int32_t>> quant = {}) {
    add_op(kernel, std::move(inputs), std::move(outputs),
           {reinterpret_cast<const uint8_t*>(&params), reinterpret_cast<const uint8_t*>(&params) + sizeof(Params)},
           std::move(quant));
  }
  void op_without_params(runtime::Kernel kernel, std::vector<uint16_t> inputs, std::vector<uint16_t> outputs,
                         std::vector<std::pair<int32_t, int32_t>> quant = {}) {
    add_op(kernel, std::move(inputs), std::move(outputs), {}, std::move(quant));
  }

  std::vector<uint16_t> inputs, outputs;

  std::vector<uint8_t> build() const {
    using namespace runtime;
    std::vector<uint8_t> b(sizeof(TemHeader));
    auto align = [&](size_t a) { b.resize((b.size() + a - 1) / a * a); };
    auto put = [&](const void* p, size_t n) {
      const size_t at = b.size();
      b.resize(at + n);
      if (n) std::memcpy(b.data() + at, p, n);
      return static_cast<uint32_t>(at);
    };
    TemHeader h{};
    h.magic = kTemMagic;
    h.format_version = kTemFormatVersion;
    h.header_bytes = sizeof(TemHeader);
    h.arena_bytes = (arena_bytes_ + 3u) & ~3u;
    h.tensor_count = static_cast<uint16_t>(tensors_.size());
    h.op_count = static_cast<uint16_t>(ops_.size());
    h.input_count = static_cast<uint16_t>(inputs.size());
    h.output_count = static_cast<uint16_t>(outputs.size());
    // Constants first (aligned to 8), so tensor records can carry their offsets.
    std::vector<TemTensor> tensors = tensors_;
    for (size_t i = 0; i < tensors.size(); ++i) {
      if (!(tensors[i].flags & kTensorConstant)) continue;
      align(8);
      tensors[i].offset = put(constants_[i].data(), constants_[i].size());
    }
    align(4);
    h.tensors_offset = put(tensors.data(), tensors.size() * sizeof(TemTensor));
    std::vector<TemOp> ops;
    std::vector<uint32_t> operand_at, params_at, quant_at;
    for (const Op& o : ops_) {
      align(2);
      std::vector<uint16_t> operands = o.inputs;
      operands.insert(operands.end(), o.outputs.begin(), o.outputs.end());
      operand_at.push_back(put(operands.data(), operands.size() * 2));
      align(4);
      params_at.push_back(put(o.params.data(), o.params.size()));
      std::vector<int32_t> q;
      for (auto [m, s] : o.quant) q.push_back(m);
      for (auto [m, s] : o.quant) q.push_back(s);
      quant_at.push_back(put(q.data(), q.size() * 4));
    }
    for (size_t i = 0; i < ops_.size(); ++i) {
      TemOp t{};
      t.kernel = static_cast<uint16_t>(ops_[i].kernel);
      t.input_count = static_cast<uint8_t>(ops_[i].inputs.size());
      t.output_count = static_cast<uint8_t>(ops_[i].outputs.size());
      t.operands_offset = operand_at[i];
      t.params_offset = params_at[i];
      t.params_bytes = static_cast<uint32_t>(ops_[i].params.size());
      t.quant_offset = quant_at[i];
      t.quant_count = static_cast<uint32_t>(ops_[i].quant.size());
      ops.push_back(t);
    }
    align(4);
    h.ops_offset = put(ops.data(), ops.size() * sizeof(TemOp));
    std::vector<uint16_t> io = inputs;
    io.insert(io.end(), outputs.begin(), outputs.end());
    h.io_offset = put(io.data(), io.size() * 2);
    align(4);
    h.labels_offset = static_cast<uint32_t>(b.size());
    h.blob_bytes = static_cast<uint32_t>(b.size());
    std::memcpy(b.data(), &h, sizeof h);
    return b;
  }

 private:
  struct Op {
    runtime::Kernel kernel;
    std::vector<uint16_t> inputs, outputs;
    std::vector<uint8_t> params;
    std::vector<std::pair<int32_t, int32_t>> quant;
  };
  static runtime::TemTensor record(runtime::TemType type, const std::vector<uint32_t>& dims, int32_t zero_point,
                                   float scale) {
    runtime::TemTensor t{};
    t.type = static_cast<uint8_t>(type);
    t.rank = static_cast<uint8_t>(dims.size());
    uint32_t elements = 1;
    for (int d = 0; d < runtime::kMaxRank; ++d) {
      t.dims[d] = d < static_cast<int>(dims.size()) ? dims[d] : 1;
      elements *= t.dims[d];
    }
    t.zero_point = zero_point;
    t.scale = scale;
    t.bytes = elements * runtime::element_bytes(t.type);
    return t;
  }
  void add_op(runtime::Kernel kernel, std::vector<uint16_t> in, std::vector<uint16_t> out, std::vector<uint8_t> params,
              std::vector<std::pair<int32_t, int32_t>> quant) {
    ops_.push_back({kernel, std::move(in), std::move(out), std::move(params), std::move(quant)});
  }

  std::vector<runtime::TemTensor> tensors_;
  std::vector<std::vector<uint8_t>> constants_;
  std::vector<Op> ops_;
  uint32_t arena_bytes_ = 0;
};

// A built .tem in aligned memory, loaded, with its arena; typed access to graph inputs/outputs.
struct TemRun {
  std::vector<uint64_t> blob;
  size_t bytes = 0;
  runtime::Model model;
  std::vector<uint64_t> arena;
  runtime::Interpreter interp;

  runtime::Status load(const std::vector<uint8_t>& tem) {
    blob.assign((tem.size() + 7) / 8, 0);
    std::memcpy(blob.data(), tem.data(), tem.size());
    bytes = tem.size();
    const runtime::Status s = runtime::Model::load({reinterpret_cast<const uint8_t*>(blob.data()), bytes}, model);
    if (s != runtime::Status::kOk) return s;
    arena.assign(model.arena_bytes() / 8 + 1, 0);
    return interp.init(model, {reinterpret_cast<uint8_t*>(arena.data()), arena.size() * 8});
  }
  template <class T>
  void set_input(uint16_t i, const std::vector<T>& values) {
    auto in = interp.input(i);
    std::memcpy(in.data(), values.data(), std::min(in.size(), values.size() * sizeof(T)));
  }
  template <class T>
  std::vector<T> output(uint16_t i = 0) const {
    auto out = interp.output(i);
    std::vector<T> v(out.size() / sizeof(T));
    std::memcpy(v.data(), out.data(), v.size() * sizeof(T));
    return v;
  }
};

}  // namespace tinyedge::testing
