// Graph -> .tem: resolve parameters, plan the arena, lay out the blob, and self-check it with
// the node's own loader before handing it back.
#include "deploy/model/compile.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <sstream>

#include "deploy/model/lowering.h"
#include "deploy/model/op_table.h"
#include "deploy/model/planner.h"
#include "node_firmware/runtime/model.h"
#include "node_firmware/runtime/tem_format.h"

namespace tinyedge::model {
namespace rt = tinyedge::runtime;
namespace {

static_assert(static_cast<int>(DataType::kInt16) == static_cast<int>(rt::TemType::kInt16) &&
              static_cast<int>(DataType::kFloat32) == static_cast<int>(rt::TemType::kFloat32) &&
              static_cast<int>(DataType::kBool) == static_cast<int>(rt::TemType::kBool));

// Indices, op counts and constant data sizes: what every op's lowering may take for granted.
void check_graph(const Graph& g) {
  if (g.inputs.empty() || g.outputs.empty()) throw CompileError("graph needs at least one input and one output");
  if (g.inputs.size() > rt::kMaxGraphIo || g.outputs.size() > rt::kMaxGraphIo) {
    throw CompileError("graph has more inputs or outputs than the runtime supports (" +
                       std::to_string(rt::kMaxGraphIo) + ")");
  }
  if (g.ops.empty()) throw CompileError("graph has no ops");
  const int n = static_cast<int>(g.tensors.size());
  auto valid = [&](int t) { return t >= 0 && t < n; };
  for (int t : g.inputs) {
    if (!valid(t)) throw CompileError("graph input index out of range");
  }
  for (int t : g.outputs) {
    if (!valid(t)) throw CompileError("graph output index out of range");
  }
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const Op& op = g.ops[i];
    const LowerContext c(g, i);
    if (op.outputs.empty()) c.fail("has no output");
    if (op.inputs.size() > rt::kMaxOperands || op.outputs.size() > rt::kMaxOperands) c.fail("too many operands");
    for (int t : op.inputs) {
      if (t != -1 && !valid(t)) c.fail("input tensor index " + std::to_string(t) + " out of range");
    }
    for (int t : op.outputs) {
      if (!valid(t)) c.fail("output tensor index out of range");
      if (g.tensors[t].is_constant()) c.fail("output must be an activation, not constant data", t);
    }
  }
  // Only tensors the graph uses: a TFLite file may carry others (LSTM intermediates with no shape).
  std::vector<bool> used(g.tensors.size(), false);
  for (int t : g.inputs) used[t] = true;
  for (int t : g.outputs) used[t] = true;
  for (const Op& op : g.ops) {
    for (int t : op.inputs) {
      if (t >= 0) used[t] = true;
    }
    for (int t : op.outputs) used[t] = true;
  }
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    if (!used[i]) continue;
    const Tensor& t = g.tensors[i];
    for (int32_t d : t.shape) {
      if (d < 1) throw CompileError("tensor '" + t.name + "': dimension out of range (must be >= 1)");
    }
    if (t.shape.size() > rt::kMaxRank) throw CompileError("tensor '" + t.name + "': rank must be at most 6");
    if (t.is_constant() && t.data.size() != t.element_count() * t.element_bytes()) {
      throw CompileError("tensor '" + t.name + "': data size does not match its shape");
    }
  }
}

const OpDef& def_of(const Graph& g, size_t i) {
  const OpDef* def = find_op(static_cast<int32_t>(g.ops[i].kind));
  if (def == nullptr || def->lower == nullptr) {
    LowerContext(g, i).fail("not supported by the TinyEdge runtime (`tinyedge model ops` lists what it runs)");
  }
  return *def;
}

// Ops the table can evaluate offline (SHAPE; ops over constants) become constant tensors and
// leave the graph, repeatedly, so a chain of them folds completely.
Graph fold_constants(Graph g) {
  std::vector<Op> kept;
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const OpDef& def = def_of(g, i);
    std::vector<std::vector<uint8_t>> data;
    if (def.fold != nullptr && def.fold(g, g.ops[i], data) && data.size() == g.ops[i].outputs.size()) {
      bool fits = true;
      for (size_t k = 0; k < data.size(); ++k) {
        const Tensor& t = g.tensors[g.ops[i].outputs[k]];
        fits = fits && !data[k].empty() && data[k].size() == t.element_count() * t.element_bytes();
      }
      if (fits) {
        for (size_t k = 0; k < data.size(); ++k) g.tensors[g.ops[i].outputs[k]].data = std::move(data[k]);
        continue;
      }
    }
    kept.push_back(g.ops[i]);
  }
  g.ops = std::move(kept);
  return g;
}

std::vector<Lowered> lower_op(const Graph& g, size_t i, const CompileOptions& options = {}) {
  const OpDef& def = def_of(g, i);
  LowerContext c(g, i, options);
  def.lower(c);
  if (c.emitted().empty()) c.fail("internal: lowering emitted no op");
  return std::move(c.emitted());
}

class Compiler {
 public:
  Compiler(const Graph& g, const ModelMetadata& m, const CompileOptions& o) : g_(g), meta_(m), opts_(o) {}

  CompiledModel run() {
    check_graph(g_);
    g_ = fold_constants(std::move(g_));
    if (g_.ops.empty()) throw CompileError("graph has no ops left after folding constants");
    lower_all();
    number_tensors();
    plan();
    return write();
  }

 private:
  // Every op through its table entry's lowering, in graph order.
  void lower_all() {
    for (size_t i = 0; i < g_.ops.size(); ++i) {
      for (Lowered& l : lower_op(g_, i, opts_)) {
        for (auto& [slot, bytes] : l.reordered_inputs) {
          Tensor copy = g_.tensors[l.inputs[slot]];
          copy.name += "/m4_blocked";
          copy.data = std::move(bytes);
          l.inputs[slot] = static_cast<int>(g_.tensors.size());
          g_.tensors.push_back(std::move(copy));
        }
        l.reordered_inputs.clear();
        lowered_.push_back(std::move(l));
      }
    }
    if (lowered_.size() > rt::kMaxOps) {
      throw CompileError("graph has more ops than the runtime supports (" + std::to_string(rt::kMaxOps) + ")");
    }
  }

  // Only tensors the lowered ops reference go into the file.
  void number_tensors() {
    auto use = [&](int t) {
      if (!index_.count(t)) {
        index_[t] = static_cast<uint16_t>(order_.size());
        order_.push_back(t);
      }
    };
    for (int t : g_.inputs) use(t);
    for (const Lowered& l : lowered_) {
      for (int t : l.inputs) {
        if (t >= 0) use(t);
      }
      for (int t : l.outputs) use(t);
    }
    for (int t : g_.outputs) use(t);
    if (order_.size() > rt::kMaxTensors)
      throw CompileError("graph has more tensors than the runtime supports (" + std::to_string(rt::kMaxTensors) + ")");
    for (const std::vector<int>* io : {&g_.inputs, &g_.outputs}) {
      for (int t : *io) {
        if (g_.tensors[t].is_constant())
          throw CompileError("graph input/output '" + g_.tensors[t].name + "' is a constant");
      }
    }
  }

  void plan() {
    // Buffers: one per activation, except a reshape-like output shares its dying input's buffer.
    // Persistent tensors (LSTM/SVDF state) live from before the first op to after the last, in
    // buffers of their own: never aliased, never overlapped.
    const int steps = static_cast<int>(lowered_.size());
    std::map<int, int> buffer_of;  // graph tensor -> buffer
    std::vector<PlanBuffer> bufs;
    std::map<int, int> first, last;
    auto persistent = [&](int t) { return g_.tensors[t].persistent; };
    auto activation = [&](int t) { return t >= 0 && !g_.tensors[t].is_constant(); };
    for (int t : g_.inputs) first[t] = last[t] = 0;
    for (int s = 0; s < steps; ++s) {
      const Lowered& l = lowered_[s];
      for (int t : l.inputs) {
        if (activation(t)) last[t] = s;
      }
      for (int out : l.outputs) {
        if (first.count(out) && !persistent(out)) {
          throw CompileError("tensor '" + g_.tensors[out].name + "' is written twice or is the graph input");
        }
        if (!first.count(out)) first[out] = s;
        last[out] = s;
      }
    }
    for (int t : g_.outputs) {
      if (!first.count(t)) throw CompileError("graph output '" + g_.tensors[t].name + "' is never produced");
      last[t] = steps;
    }
    for (const Lowered& l : lowered_) {
      for (const std::vector<int>* v : {&l.inputs, &l.outputs}) {
        for (int t : *v) {
          if (!activation(t)) continue;
          if (persistent(t)) {
            first[t] = 0;
            last[t] = steps;
          } else if (!first.count(t)) {
            throw CompileError("tensor '" + g_.tensors[t].name + "' is read before it is written");
          }
        }
      }
    }
    auto is_graph_input = [&](int t) { return std::find(g_.inputs.begin(), g_.inputs.end(), t) != g_.inputs.end(); };
    std::vector<int> by_birth;
    for (auto& [t, f] : first) by_birth.push_back(t);
    auto birth = [&](int t) { return is_graph_input(t) || persistent(t) ? -1 : first[t]; };
    std::stable_sort(by_birth.begin(), by_birth.end(), [&](int a, int b) { return birth(a) < birth(b); });
    auto bytes_of = [&](int t) {
      return static_cast<uint32_t>(g_.tensors[t].element_count() * g_.tensors[t].element_bytes());
    };
    for (int t : by_birth) {
      if (opts_.in_place && !is_graph_input(t) && !persistent(t)) {
        // Alias a reshape output onto its input when the input dies at the reshape.
        const int s = first[t];
        const Lowered& l = lowered_[s];
        if (l.in_place == Lowered::InPlace::kAlias && l.outputs[0] == t && activation(l.inputs[0]) &&
            !persistent(l.inputs[0]) && last[l.inputs[0]] == s && bytes_of(l.inputs[0]) == bytes_of(t)) {
          const int b = buffer_of.at(l.inputs[0]);
          buffer_of[t] = b;
          bufs[b].last = std::max(bufs[b].last, last[t]);
          continue;
        }
      }
      buffer_of[t] = static_cast<int>(bufs.size());
      bufs.push_back(PlanBuffer{bytes_of(t), first[t], last[t],
                                static_cast<uint32_t>(std::min<size_t>(g_.tensors[t].element_bytes(), 4))});
    }
    std::vector<InPlaceRule> rules;
    if (opts_.in_place) {
      for (int s = 0; s < steps; ++s) {
        const Lowered& l = lowered_[s];
        const int out = l.outputs[0];
        if (persistent(out)) continue;
        const int ob = buffer_of[out];
        auto dying = [&](int t) {
          return activation(t) && !persistent(t) && last[t] == s && bufs[buffer_of[t]].last == s;
        };
        if (l.in_place == Lowered::InPlace::kSameOffset) {
          for (int t : l.inputs) {
            if (dying(t)) rules.push_back({buffer_of[t], ob, true, 0});
          }
        } else if (l.in_place == Lowered::InPlace::kWindow) {
          if (dying(l.inputs[0])) rules.push_back({buffer_of[l.inputs[0]], ob, false, l.window_gap});
        }
      }
    }
    const Plan p = plan_arena(bufs, rules);
    arena_bytes_ = std::max<uint32_t>(p.arena_bytes, 1);
    for (auto& [t, b] : buffer_of) arena_offset_[t] = p.offsets[b];
  }

  CompiledModel write() {
    std::vector<uint8_t> blob(sizeof(rt::TemHeader), 0);
    auto align = [&](size_t a) {
      while (blob.size() % a) blob.push_back(0);
    };
    auto append = [&](const void* p, size_t n) {
      const size_t at = blob.size();
      blob.resize(at + n);
      if (n) std::memcpy(blob.data() + at, p, n);
      return static_cast<uint32_t>(at);
    };
    auto append_indices = [&](const std::vector<uint16_t>& v) {
      align(4);
      return append(v.data(), v.size() * 2);
    };
    rt::TemHeader h{};
    h.magic = rt::kTemMagic;
    h.format_version = rt::kTemFormatVersion;
    h.header_bytes = sizeof(rt::TemHeader);
    h.model_id = meta_.model_id;
    h.model_version = meta_.version;
    h.arena_bytes = arena_bytes_;
    h.tensor_count = static_cast<uint16_t>(order_.size());
    h.op_count = static_cast<uint16_t>(lowered_.size());
    h.input_count = static_cast<uint16_t>(g_.inputs.size());
    h.output_count = static_cast<uint16_t>(g_.outputs.size());
    if (meta_.labels.size() > 65535) throw CompileError("too many labels");
    h.label_count = static_cast<uint16_t>(meta_.labels.size());

    const size_t tensors_at = blob.size();
    blob.resize(blob.size() + order_.size() * sizeof(rt::TemTensor));
    const size_t ops_at = blob.size();
    blob.resize(blob.size() + lowered_.size() * sizeof(rt::TemOp));
    h.tensors_offset = static_cast<uint32_t>(tensors_at);
    h.ops_offset = static_cast<uint32_t>(ops_at);
    h.labels_offset = static_cast<uint32_t>(blob.size());
    const size_t labels_at = blob.size();
    blob.resize(blob.size() + meta_.labels.size() * sizeof(rt::TemString));
    h.name = {append(meta_.name.data(), meta_.name.size()), static_cast<uint32_t>(meta_.name.size())};
    h.input_description = {append(meta_.input_description.data(), meta_.input_description.size()),
                           static_cast<uint32_t>(meta_.input_description.size())};
    for (size_t i = 0; i < meta_.labels.size(); ++i) {
      const rt::TemString s{append(meta_.labels[i].data(), meta_.labels[i].size()),
                            static_cast<uint32_t>(meta_.labels[i].size())};
      std::memcpy(blob.data() + labels_at + i * sizeof(rt::TemString), &s, sizeof s);
    }
    if (!meta_.front_end.empty()) {
      align(4);
      h.front_end_offset = append(meta_.front_end.data(), meta_.front_end.size());
      h.front_end_bytes = static_cast<uint32_t>(meta_.front_end.size());
    }
    std::vector<uint16_t> io;
    for (int t : g_.inputs) io.push_back(index_.at(t));
    for (int t : g_.outputs) io.push_back(index_.at(t));
    h.io_offset = append_indices(io);

    CompiledModel result;
    const size_t weights_start = (blob.size() + 15) & ~size_t{15};
    // Constant tensors (16-aligned so vector loads of weight rows start aligned).
    std::map<int, uint32_t> const_offset;
    for (int t : order_) {
      const Tensor& tensor = g_.tensors[t];
      if (!tensor.is_constant()) continue;
      align(16);
      const_offset[t] = append(tensor.data.data(), tensor.data.size());
      result.parameter_count += tensor.element_count();
    }
    std::vector<rt::TemOp> ops;
    for (const Lowered& l : lowered_) {
      rt::TemOp op{};
      op.kernel = l.kernel;
      op.input_count = static_cast<uint8_t>(l.inputs.size());
      op.output_count = static_cast<uint8_t>(l.outputs.size());
      std::vector<uint16_t> operands;
      for (int t : l.inputs) operands.push_back(t < 0 ? rt::kNoTensor : index_.at(t));
      for (int t : l.outputs) operands.push_back(index_.at(t));
      op.operands_offset = append_indices(operands);
      align(4);
      op.params_offset = append(l.params.data(), l.params.size());
      op.params_bytes = static_cast<uint32_t>(l.params.size());
      op.quant_count = l.quant_count;
      if (!l.quant.empty()) op.quant_offset = append(l.quant.data(), l.quant.size() * 4);
      if (!l.packed.empty()) {
        op.packed_offset = append(l.packed.data(), l.packed.size());
        op.packed_bytes = static_cast<uint32_t>(l.packed.size());
      }
      ops.push_back(op);
    }
    align(4);
    h.weights_bytes = static_cast<uint32_t>(blob.size() - weights_start);
    h.blob_bytes = static_cast<uint32_t>(blob.size());
    std::memcpy(blob.data(), &h, sizeof h);
    std::memcpy(blob.data() + ops_at, ops.data(), ops.size() * sizeof(rt::TemOp));
    for (size_t i = 0; i < order_.size(); ++i) {
      const Tensor& t = g_.tensors[order_[i]];
      rt::TemTensor r{};
      r.type = static_cast<uint8_t>(t.type);  // DataType values are TemType values
      r.rank = static_cast<uint8_t>(t.shape.size());
      for (int d = 0; d < rt::kMaxRank; ++d) r.dims[d] = static_cast<uint32_t>(dim(t, d));
      r.zero_point = zp_of(t);
      r.scale = scale_of(t);
      r.bytes = static_cast<uint32_t>(t.element_count() * t.element_bytes());
      if (t.is_constant()) {
        r.flags = rt::kTensorConstant;
        r.offset = const_offset.at(order_[i]);
      } else {
        if (t.persistent) r.flags = rt::kTensorPersistent;
        r.offset = arena_offset_.at(order_[i]);
      }
      std::memcpy(blob.data() + tensors_at + i * sizeof(rt::TemTensor), &r, sizeof r);
    }

    // The node's loader is the judge: a blob it refuses is a compiler bug, not a user error.
    // Copy into 4-aligned storage (std::vector<uint8_t> data is malloc-aligned already, but be explicit).
    std::vector<uint32_t> aligned((blob.size() + 3) / 4);
    std::memcpy(aligned.data(), blob.data(), blob.size());
    rt::Model check;
    const rt::Status s = rt::Model::load({reinterpret_cast<const uint8_t*>(aligned.data()), blob.size()}, check);
    if (s != rt::Status::kOk)
      throw CompileError(std::string("internal: compiled model fails validation: ") + rt::to_string(s));

    result.tem = std::move(blob);
    result.arena_bytes = arena_bytes_;
    result.weight_bytes = h.weights_bytes;
    result.op_count = lowered_.size();
    return result;
  }

  Graph g_;
  const ModelMetadata& meta_;
  const CompileOptions& opts_;
  std::vector<Lowered> lowered_;
  std::map<int, uint16_t> index_;
  std::vector<int> order_;
  std::map<int, uint32_t> arena_offset_;
  uint32_t arena_bytes_ = 0;
};

}  // namespace

std::vector<std::string> lowering_problems(const Graph& graph) {
  std::vector<std::string> problems;
  try {
    check_graph(graph);
  } catch (const CompileError& e) {
    return {e.what()};
  }
  Graph g;
  try {
    g = fold_constants(graph);
  } catch (const CompileError& e) {
    return {e.what()};
  }
  for (size_t i = 0; i < g.ops.size(); ++i) {
    try {
      lower_op(g, i);
    } catch (const CompileError& e) {
      problems.push_back(e.what());
    }
  }
  return problems;
}

CompiledModel compile(const Graph& graph, const ModelMetadata& meta, const CompileOptions& options) {
  return Compiler(graph, meta, options).run();
}

}  // namespace tinyedge::model
