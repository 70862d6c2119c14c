#include "deploy/model/tflite_import.h"

#include <flatbuffers/flatbuffers.h>

#include <map>
#include <sstream>

#include "tflite_subset_generated.h"

namespace tinyedge::model {
namespace fb = tinyedge::tflite_fb;
namespace {

// BuiltinOperator values from the public TFLite schema.
enum Builtin : int32_t {
  kAdd = 0,
  kAveragePool2D = 1,
  kConv2D = 3,
  kDepthwiseConv2D = 4,
  kFullyConnected = 9,
  kMaxPool2D = 17,
  kReshape = 22,
  kSoftmax = 25,
};

// TFLite builtin operator names (public schema), for error messages.
std::string builtin_name(int32_t code) {
  static const std::map<int32_t, const char*> names = {{0, "ADD"},
                                                       {1, "AVERAGE_POOL_2D"},
                                                       {2, "CONCATENATION"},
                                                       {3, "CONV_2D"},
                                                       {4, "DEPTHWISE_CONV_2D"},
                                                       {5, "DEPTH_TO_SPACE"},
                                                       {6, "DEQUANTIZE"},
                                                       {7, "EMBEDDING_LOOKUP"},
                                                       {8, "FLOOR"},
                                                       {9, "FULLY_CONNECTED"},
                                                       {11, "L2_NORMALIZATION"},
                                                       {12, "L2_POOL_2D"},
                                                       {14, "LOGISTIC"},
                                                       {16, "LSTM"},
                                                       {17, "MAX_POOL_2D"},
                                                       {18, "MUL"},
                                                       {19, "RELU"},
                                                       {20, "RELU_N1_TO_1"},
                                                       {21, "RELU6"},
                                                       {22, "RESHAPE"},
                                                       {23, "RESIZE_BILINEAR"},
                                                       {24, "RNN"},
                                                       {25, "SOFTMAX"},
                                                       {26, "SPACE_TO_DEPTH"},
                                                       {27, "SVDF"},
                                                       {28, "TANH"},
                                                       {32, "CUSTOM"},
                                                       {34, "PAD"},
                                                       {35, "UNIDIRECTIONAL_SEQUENCE_RNN"},
                                                       {36, "GATHER"},
                                                       {37, "BATCH_TO_SPACE_ND"},
                                                       {38, "SPACE_TO_BATCH_ND"},
                                                       {39, "TRANSPOSE"},
                                                       {40, "MEAN"},
                                                       {41, "SUB"},
                                                       {42, "DIV"},
                                                       {43, "SQUEEZE"},
                                                       {44, "UNIDIRECTIONAL_SEQUENCE_LSTM"},
                                                       {45, "STRIDED_SLICE"},
                                                       {46, "BIDIRECTIONAL_SEQUENCE_RNN"},
                                                       {47, "EXP"},
                                                       {49, "SPLIT"},
                                                       {50, "LOG_SOFTMAX"},
                                                       {52, "BIDIRECTIONAL_SEQUENCE_LSTM"},
                                                       {53, "CAST"},
                                                       {54, "PRELU"},
                                                       {55, "MAXIMUM"},
                                                       {56, "ARG_MAX"},
                                                       {57, "MINIMUM"},
                                                       {58, "LESS"},
                                                       {59, "NEG"},
                                                       {60, "PADV2"},
                                                       {61, "GREATER"},
                                                       {65, "SLICE"},
                                                       {67, "TRANSPOSE_CONV"},
                                                       {69, "TILE"},
                                                       {70, "EXPAND_DIMS"},
                                                       {71, "EQUAL"},
                                                       {74, "SUM"},
                                                       {75, "SQRT"},
                                                       {76, "RSQRT"},
                                                       {77, "SHAPE"},
                                                       {79, "ARG_MIN"},
                                                       {82, "REDUCE_MAX"},
                                                       {83, "PACK"},
                                                       {87, "UNPACK"},
                                                       {88, "REDUCE_MIN"},
                                                       {92, "ZEROS_LIKE"},
                                                       {93, "FILL"},
                                                       {96, "RESIZE_NEAREST_NEIGHBOR"},
                                                       {97, "LEAKY_RELU"},
                                                       {98, "SQUARED_DIFFERENCE"},
                                                       {99, "MIRROR_PAD"},
                                                       {100, "ABS"},
                                                       {101, "SPLIT_V"},
                                                       {114, "QUANTIZE"},
                                                       {117, "HARD_SWISH"},
                                                       {126, "BATCH_MATMUL"}};
  const auto it = names.find(code);
  return it == names.end() ? "builtin operator " + std::to_string(code) : it->second;
}

// TFLite TensorType names (public schema).
std::string type_name(int8_t type) {
  static const char* names[] = {"float32", "float16",   "int32", "uint8",   "int64",      "string", "bool",
                                "int16",   "complex64", "int8",  "float64", "complex128", "uint64"};
  return type >= 0 && type < static_cast<int8_t>(std::size(names)) ? names[type] : "type " + std::to_string(type);
}

Activation activation(int8_t f, const std::string& where) {
  switch (f) {
    case 0:
      return Activation::kNone;
    case 1:
      return Activation::kRelu;
    case 2:
      return Activation::kReluN1To1;
    case 3:
      return Activation::kRelu6;
    default:
      throw ImportError(where + ": fused activation " + std::to_string(f) + " not supported");
  }
}

Padding padding(int8_t p) { return p == 0 ? Padding::kSame : Padding::kValid; }

}  // namespace

Graph import_tflite(std::span<const uint8_t> bytes) {
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
    switch (t->type()) {
      case 9:
        out.type = DataType::kInt8;
        break;
      case 2:
        out.type = DataType::kInt32;
        break;
      default:
        out.type = DataType::kInt8;
        unsupported_type[i] = t->type();
    }
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
                       "; the runtime runs int8 activations and weights, int32 "
                       "biases)");
  };

  for (uint32_t i = 0; i < sg->operators()->size(); ++i) {
    const fb::Operator* op = sg->operators()->Get(i);
    if (op->opcode_index() >= codes->size()) throw ImportError("op " + std::to_string(i) + ": bad opcode index");
    const fb::OperatorCode* code = codes->Get(op->opcode_index());
    const int32_t builtin = std::max<int32_t>(code->deprecated_builtin_code(), code->builtin_code());
    const std::string where = "op " + std::to_string(i) + " " + builtin_name(builtin);
    Op out;
    if (op->inputs()) {
      for (int32_t t : *op->inputs()) {
        if (t < 0) continue;  // optional input absent
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
    try {
      switch (builtin) {
        case kConv2D: {
          const auto* o = op->builtin_options_as_Conv2DOptions();
          if (!o) throw ImportError(where + ": missing options");
          out.kind = OpKind::kConv2D;
          out.options.padding = padding(o->padding());
          out.options.stride_w = o->stride_w();
          out.options.stride_h = o->stride_h();
          out.options.dilation_w = o->dilation_w_factor();
          out.options.dilation_h = o->dilation_h_factor();
          out.options.activation = activation(o->fused_activation_function(), where);
          break;
        }
        case kDepthwiseConv2D: {
          const auto* o = op->builtin_options_as_DepthwiseConv2DOptions();
          if (!o) throw ImportError(where + ": missing options");
          out.kind = OpKind::kDepthwiseConv2D;
          out.options.padding = padding(o->padding());
          out.options.stride_w = o->stride_w();
          out.options.stride_h = o->stride_h();
          out.options.depth_multiplier = o->depth_multiplier();
          out.options.dilation_w = o->dilation_w_factor();
          out.options.dilation_h = o->dilation_h_factor();
          out.options.activation = activation(o->fused_activation_function(), where);
          break;
        }
        case kAveragePool2D:
        case kMaxPool2D: {
          const auto* o = op->builtin_options_as_Pool2DOptions();
          if (!o) throw ImportError(where + ": missing options");
          out.kind = builtin == kAveragePool2D ? OpKind::kAveragePool2D : OpKind::kMaxPool2D;
          out.options.padding = padding(o->padding());
          out.options.stride_w = o->stride_w();
          out.options.stride_h = o->stride_h();
          out.options.filter_w = o->filter_width();
          out.options.filter_h = o->filter_height();
          out.options.activation = activation(o->fused_activation_function(), where);
          break;
        }
        case kFullyConnected: {
          const auto* o = op->builtin_options_as_FullyConnectedOptions();
          out.kind = OpKind::kFullyConnected;
          if (o) {
            if (o->weights_format() != 0) throw ImportError(where + ": shuffled FC weights are not supported");
            out.options.activation = activation(o->fused_activation_function(), where);
          }
          break;
        }
        case kAdd: {
          const auto* o = op->builtin_options_as_AddOptions();
          out.kind = OpKind::kAdd;
          if (o) out.options.activation = activation(o->fused_activation_function(), where);
          break;
        }
        case kReshape:
          out.kind = OpKind::kReshape;
          break;
        case kSoftmax: {
          const auto* o = op->builtin_options_as_SoftmaxOptions();
          out.kind = OpKind::kSoftmax;
          out.options.beta = o ? o->beta() : 1.0f;
          break;
        }
        default: {
          std::string name = builtin_name(builtin);
          if (code->custom_code()) name = "custom operator '" + code->custom_code()->str() + "'";
          throw ImportError("op " + std::to_string(i) + " " + name +
                            ": not supported by the TinyEdge runtime (output " + "tensor " + first_out +
                            "; `tinyedge model ops` lists what it runs)");
        }
      }
    } catch (const ImportError& e) {
      problems.push_back(e.what());
      continue;
    }
    g.ops.push_back(std::move(out));
  }
  g.inputs.assign(sg->inputs()->begin(), sg->inputs()->end());
  g.outputs.assign(sg->outputs()->begin(), sg->outputs()->end());
  for (int t : g.inputs) {
    if (t < 0 || static_cast<uint32_t>(t) >= tensor_count) throw ImportError("graph input index out of range");
    check_type(t, "graph input");
  }
  for (int t : g.outputs) {
    if (t < 0 || static_cast<uint32_t>(t) >= tensor_count) throw ImportError("graph output index out of range");
    check_type(t, "graph output");
  }
  if (problems.size() == 1) throw ImportError(problems[0]);
  if (!problems.empty()) {
    std::string all = std::to_string(problems.size()) + " problems:";
    for (const std::string& p : problems) all += "\n  " + p;
    throw ImportError(all);
  }
  return g;
}

}  // namespace tinyedge::model
