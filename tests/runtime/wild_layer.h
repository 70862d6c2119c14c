// One op of a TFLite model as a graph of its own (its tensors, data and options through the
// compiler's op table), for per-layer checks against TFLite Micro's layer outputs when the whole
// model does not import yet. The importer's tensor rules are mirrored: is_variable -> persistent.
#pragma once
#include <flatbuffers/flatbuffers.h>

#include <stdexcept>

#include "deploy/model/graph.h"
#include "deploy/model/op_table.h"
#include "tflite_subset_generated.h"

namespace tinyedge::testing {

inline model::Graph single_op_graph(const std::vector<uint8_t>& bytes, uint32_t op_index) {
  namespace fb = tinyedge::tflite_fb;
  const fb::Model* m = fb::GetModel(bytes.data());
  const fb::SubGraph* sg = m->subgraphs()->Get(0);
  const fb::Operator* op = sg->operators()->Get(op_index);
  const fb::OperatorCode* code = m->operator_codes()->Get(op->opcode_index());
  const int32_t builtin = std::max<int32_t>(code->deprecated_builtin_code(), code->builtin_code());
  const model::OpDef* def = model::find_op(builtin);
  if (def == nullptr) throw std::runtime_error("no compiler op for builtin " + std::to_string(builtin));
  model::Graph g;
  std::map<int32_t, int> local;
  auto tensor = [&](int32_t t) {
    if (t < 0) return -1;
    if (auto it = local.find(t); it != local.end()) return it->second;
    const fb::Tensor* s = sg->tensors()->Get(t);
    model::Tensor out;
    out.name = s->name() ? s->name()->str() : "t" + std::to_string(t);
    switch (s->type()) {
      case 9:
        out.type = model::DataType::kInt8;
        break;
      case 7:
        out.type = model::DataType::kInt16;
        break;
      case 2:
        out.type = model::DataType::kInt32;
        break;
      case 4:
        out.type = model::DataType::kInt64;
        break;
      case 0:
        out.type = model::DataType::kFloat32;
        break;
      default:
        throw std::runtime_error("tensor type " + std::to_string(s->type()));
    }
    if (s->shape()) out.shape.assign(s->shape()->begin(), s->shape()->end());
    if (const auto* q = s->quantization()) {
      if (q->scale()) out.quant.scales.assign(q->scale()->begin(), q->scale()->end());
      if (q->zero_point()) {
        for (int64_t z : *q->zero_point()) out.quant.zero_points.push_back(static_cast<int32_t>(z));
      }
      out.quant.axis = q->quantized_dimension();
    }
    const auto* b = m->buffers()->Get(s->buffer());
    if (s->buffer() != 0 && b->data() && b->data()->size() > 0) out.data.assign(b->data()->begin(), b->data()->end());
    out.persistent = s->is_variable();
    const int i = g.add_tensor(std::move(out));
    local[t] = i;
    return i;
  };
  model::Op o;
  o.kind = static_cast<model::OpKind>(builtin);
  for (int32_t t : *op->inputs()) o.inputs.push_back(tensor(t));
  for (int32_t t : *op->outputs()) o.outputs.push_back(tensor(t));
  if (def->import) def->import(*op, o, "op " + std::to_string(op_index));
  for (int t : o.inputs) {
    if (t >= 0 && !g.tensors[t].is_constant() && !g.tensors[t].persistent) g.inputs.push_back(t);
  }
  g.outputs = o.outputs;
  g.ops.push_back(std::move(o));
  return g;
}

}  // namespace tinyedge::testing
