// The compiler's op table: one OpDef per TFLite builtin the runtime can run, keyed by the builtin
// code. Each op's importer (TFLite options -> OpOptions) and lowering (graph op -> .tem op) live
// together in deploy/model/ops/<op>.cpp, which ends with
//   std::vector<OpDef> <stem>_ops() { return {{code, "TFLITE_NAME", import, lower, fold}}; }
// and joins the table at the next configure (CMake globs ops/*.cpp); nothing else is edited.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "deploy/model/graph.h"

namespace tinyedge::tflite_fb {
struct Operator;
}

namespace tinyedge::model {

class LowerContext;

struct OpDef {
  int32_t builtin = -1;   // TFLite BuiltinOperator code
  const char* name = "";  // TFLite name, for messages ("CONV_2D")
  // Reads the op's builtin options into out.options (out.kind, inputs and outputs are already
  // set). Throws ImportError naming `where` for options the op cannot run. May be null.
  void (*import)(const tflite_fb::Operator& op, Op& out, const std::string& where) = nullptr;
  // Checks the op's tensors and emits its .tem op(s) through the context (throws CompileError
  // through c.fail for anything the kernel cannot run).
  void (*lower)(LowerContext& c) = nullptr;
  // Optional compile-time evaluation (SHAPE, ops over constants): fills one little-endian data
  // vector per output and returns true, or returns false to leave the op to the runtime.
  bool (*fold)(const Graph& g, const Op& op, std::vector<std::vector<uint8_t>>& outputs) = nullptr;
};

// The op's table entry, or nullptr if the runtime does not run that builtin.
const OpDef* find_op(int32_t builtin);
// Every table entry, by builtin code.
std::vector<const OpDef*> all_ops();
// TFLite's name for any builtin code (table or not), "builtin operator N" for unknown codes.
std::string op_name(int32_t builtin);

}  // namespace tinyedge::model
