#include "deploy/model/tflite_import.h"

#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "deploy/model/compile.h"
#include "deploy/model/op_table.h"
#include "tflite_subset_generated.h"

namespace tinyedge::model {
namespace fb = tinyedge::tflite_fb;
namespace {

// TFLite TensorType names (public schema).
std::string type_name(int8_t type) {
  static const char* names[] = {"float32", "float16",   "int32", "uint8",   "int64",      "string", "bool",
                                "int16",   "complex64", "int8",  "float64", "complex128", "uint64"};
  return type >= 0 && type < static_cast<int8_t>(std::size(names)) ? names[type] : "type " + std::to_string(type);
}

// TFLite TensorType -> the graph's DataType (= .tem TemType); false for types the runtime has none of.
bool map_type(int8_t tflite, DataType& out) {
  switch (tflite) {
    case 0:
      out = DataType::kFloat32;
      return true;
    case 2:
      out = DataType::kInt32;
      return true;
    case 4:
      out = DataType::kInt64;
      return true;
    case 6:
      out = DataType::kBool;
      return true;
    case 7:
      out = DataType::kInt16;
      return true;
    case 9:
      out = DataType::kInt8;
      return true;
    default:
      return false;
  }
}

}  // namespace

namespace {

// The whole model, or (only_op set) the one op whose activation inputs become graph inputs.
Graph import_model(std::span<const uint8_t> bytes, const uint32_t* only_op) {
  flatbuffers::Verifier verifier(bytes.data(), bytes.size());
  if (!fb::VerifyModelBuffer(verifier)) throw ImportError("not a valid TensorFlow Lite flatbuffer");
  const fb::Model* model = fb::GetModel(bytes.data());
  if (model->subgraphs() == nullptr || model->subgraphs()->size() != 1) {
    throw ImportError("expected exactly one subgraph");
  }
  const fb::SubGraph* sg = model->subgraphs()->Get(0);
  if (!sg->tensors() || !sg->operators() || !sg->inputs() || !sg->outputs())
    throw ImportError("subgraph is incomplete");
  const auto* buffers = model->buffers();
  const auto* codes = model->operator_codes();
  if (!codes) throw ImportError("model has no operator codes");

  Graph g;
  const uint32_t tensor_count = sg->tensors()->size();
  // Everything the runtime cannot run is collected over the whole model and reported at once:
  // a user bringing a model learns every missing op and type in one go.
  std::map<uint32_t, int8_t> unsupported_type;  // tensor -> TFLite type
  std::vector<std::string> problems;
  std::map<uint32_t, bool> type_reported;
  for (uint32_t i = 0; i < tensor_count; ++i) {
    const fb::Tensor* t = sg->tensors()->Get(i);
    Tensor out;
    out.name = t->name() ? t->name()->str() : "tensor" + std::to_string(i);
    if (!map_type(t->type(), out.type)) {
      out.type = DataType::kInt8;
      unsupported_type[i] = t->type();
    }
    out.persistent = t->is_variable();
    if (t->shape()) out.shape.assign(t->shape()->begin(), t->shape()->end());
    if (const fb::QuantizationParameters* q = t->quantization()) {
      if (q->scale()) out.quant.scales.assign(q->scale()->begin(), q->scale()->end());
      if (q->zero_point()) {
        for (int64_t z : *q->zero_point()) out.quant.zero_points.push_back(static_cast<int32_t>(z));
      }
      out.quant.axis = q->quantized_dimension();
    }
    if (buffers && t->buffer() != 0 && t->buffer() < buffers->size()) {
      const fb::Buffer* b = buffers->Get(t->buffer());
      if (b->data() && b->data()->size() > 0) out.data.assign(b->data()->begin(), b->data()->end());
    }
    g.tensors.push_back(std::move(out));
  }
  // Types are checked where a tensor is used, so the report can name the op; each tensor once.
  auto check_type = [&](int t, const std::string& where) {
    const auto it = unsupported_type.find(static_cast<uint32_t>(t));
    if (it == unsupported_type.end() || type_reported[it->first]) return;
    type_reported[it->first] = true;
    problems.push_back("tensor " + std::to_string(t) + " '" + g.tensors[t].name + "' " + type_name(it->second) +
                       ": type not supported (" + where +
                       "; the runtime has int8, int16, int32, int64, float32 and bool tensors)");
  };

  if (only_op && *only_op >= sg->operators()->size()) throw ImportError("op index out of range");
  for (uint32_t i = 0; i < sg->operators()->size(); ++i) {
    if (only_op && i != *only_op) continue;
    const fb::Operator* op = sg->operators()->Get(i);
    if (op->opcode_index() >= codes->size()) throw ImportError("op " + std::to_string(i) + ": bad opcode index");
    const fb::OperatorCode* code = codes->Get(op->opcode_index());
    const int32_t builtin = std::max<int32_t>(code->deprecated_builtin_code(), code->builtin_code());
    const std::string where = "op " + std::to_string(i) + " " + op_name(builtin);
    Op out;
    if (op->inputs()) {
      for (int32_t t : *op->inputs()) {
        if (t < 0) {  // optional input absent: kept in place, operand positions matter (LSTM)
          out.inputs.push_back(-1);
          continue;
        }
        if (static_cast<uint32_t>(t) >= tensor_count) throw ImportError(where + ": tensor index out of range");
        check_type(t, where);
        out.inputs.push_back(t);
      }
    }
    if (op->outputs()) {
      for (int32_t t : *op->outputs()) {
        if (t < 0 || static_cast<uint32_t>(t) >= tensor_count) throw ImportError(where + ": tensor index out of range");
        check_type(t, where);
        out.outputs.push_back(t);
      }
    }
    const std::string first_out = out.outputs.empty() ? std::string("?") : "'" + g.tensors[out.outputs[0]].name + "'";
    const OpDef* def = find_op(builtin);
    if (def == nullptr || (code->custom_code() && builtin == 32)) {
      std::string name = op_name(builtin);
      if (code->custom_code()) name = "custom operator '" + code->custom_code()->str() + "'";
      problems.push_back("op " + std::to_string(i) + " " + name + ": not supported by the TinyEdge runtime (output " +
                         "tensor " + first_out + "; `tinyedge model ops` lists what it runs)");
      continue;
    }
    out.kind = static_cast<OpKind>(builtin);
    out.source_index = static_cast<int>(i);
    try {
      if (def->import) def->import(*op, out, where);
    } catch (const ImportError& e) {
      problems.push_back(e.what());
      continue;
    }
    g.ops.push_back(std::move(out));
  }
  g.inputs.assign(sg->inputs()->begin(), sg->inputs()->end());
  g.outputs.assign(sg->outputs()->begin(), sg->outputs()->end());
  if (only_op && !g.ops.empty()) {
    g.inputs.clear();
    for (int t : g.ops[0].inputs) {
      if (t >= 0 && !g.tensors[t].is_constant() && std::find(g.inputs.begin(), g.inputs.end(), t) == g.inputs.end()) {
        g.inputs.push_back(t);
      }
    }
    g.outputs = g.ops[0].outputs;
  }
  for (int t : g.inputs) {
    if (t < 0 || static_cast<uint32_t>(t) >= tensor_count) throw ImportError("graph input index out of range");
    check_type(t, "graph input");
  }
  for (int t : g.outputs) {
    if (t < 0 || static_cast<uint32_t>(t) >= tensor_count) throw ImportError("graph output index out of range");
    check_type(t, "graph output");
  }
  // Ops that import but whose tensors the kernel cannot run (types, quantisation, shapes): each
  // op's lowering is tried, so these are reported with the rest, by op, tensor and problem.
  if (!g.ops.empty()) {
    for (std::string& p : lowering_problems(g)) problems.push_back(std::move(p));
  }
  if (problems.size() == 1) throw ImportError(problems[0]);
  if (!problems.empty()) {
    std::string all = std::to_string(problems.size()) + " problems:";
    for (const std::string& p : problems) all += "\n  " + p;
    throw ImportError(all);
  }
  return g;
}

}  // namespace

Graph import_tflite(std::span<const uint8_t> bytes) { return import_model(bytes, nullptr); }

Graph import_tflite_op(std::span<const uint8_t> bytes, uint32_t op_index) { return import_model(bytes, &op_index); }

}  // namespace tinyedge::model
