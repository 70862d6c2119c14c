// The one op table: every deploy/model/ops/<stem>.cpp contributes <stem>_ops() (the list is
// generated from the glob by deploy/model/CMakeLists.txt), keyed here by TFLite builtin code.
#include "deploy/model/op_table.h"

#include <map>
#include <stdexcept>

namespace tinyedge::model {

#define TINYEDGE_COMPILER_OP(stem) std::vector<OpDef> stem##_ops();
#include "tinyedge_compiler_ops.inc"
#undef TINYEDGE_COMPILER_OP

namespace {

const std::map<int32_t, OpDef>& table() {
  static const std::map<int32_t, OpDef> t = [] {
    std::map<int32_t, OpDef> m;
    auto add = [&](std::vector<OpDef> defs) {
      for (const OpDef& d : defs) {
        if (!m.emplace(d.builtin, d).second) {
          throw std::logic_error(std::string("two compiler ops register builtin ") + d.name);
        }
      }
    };
#define TINYEDGE_COMPILER_OP(stem) add(stem##_ops());
#include "tinyedge_compiler_ops.inc"
#undef TINYEDGE_COMPILER_OP
    return m;
  }();
  return t;
}

// TFLite builtin operator names (public schema) of ops the table may lack, for messages.
const std::map<int32_t, const char*>& known_names() {
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
                                                       {88, "UNPACK"},
                                                       {89, "REDUCE_MIN"},
                                                       {93, "ZEROS_LIKE"},
                                                       {94, "FILL"},
                                                       {97, "RESIZE_NEAREST_NEIGHBOR"},
                                                       {98, "LEAKY_RELU"},
                                                       {99, "SQUARED_DIFFERENCE"},
                                                       {100, "MIRROR_PAD"},
                                                       {101, "ABS"},
                                                       {102, "SPLIT_V"},
                                                       {114, "QUANTIZE"},
                                                       {117, "HARD_SWISH"},
                                                       {126, "BATCH_MATMUL"}};
  return names;
}

}  // namespace

const OpDef* find_op(int32_t builtin) {
  const auto it = table().find(builtin);
  return it == table().end() ? nullptr : &it->second;
}

std::vector<const OpDef*> all_ops() {
  std::vector<const OpDef*> v;
  for (const auto& [code, def] : table()) v.push_back(&def);
  return v;
}

std::string op_name(int32_t builtin) {
  if (const OpDef* d = find_op(builtin)) return d->name;
  const auto it = known_names().find(builtin);
  return it == known_names().end() ? "builtin operator " + std::to_string(builtin) : it->second;
}

}  // namespace tinyedge::model
