// Lowers a quantised Graph to a .tem blob: resolves every kernel parameter (requantisation
// multipliers/shifts, activation clamps, padding), pre-packs weights for the optimised kernels,
// plans the activation arena offline and writes the flat, aligned, little-endian file.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "deploy/model/graph.h"

namespace tinyedge::model {

struct ModelMetadata {
  std::string name;
  uint32_t model_id = 0;
  uint32_t version = 1;
  std::vector<std::string> labels;  // one per output class (may be empty)
  std::string input_description;    // free text, e.g. "49x10 MFCC"
  // The sensor front-end record the node runs before the model (e.g. audio::encode_front_end's
  // bytes); empty when the input is given as is.
  std::vector<uint8_t> front_end;
};

struct CompileOptions {
  bool in_place = true;  // let an op's output overlap its dying input where the kernel allows
  // FULLY_CONNECTED and CONV_2D filters reordered into the blocks the Cortex-M4 kernels read
  // (TemPacking::kBiasScalesBlockedFilter; same bytes, same flash): fewer M4 cycles, but the host
  // then runs those ops through the M4 kernels' portable emulation (slower), so a per-model choice.
  bool m4_blocked_weights = false;
};

struct CompiledModel {
  std::vector<uint8_t> tem;
  uint32_t arena_bytes = 0;
  size_t weight_bytes = 0;     // constant data carried in the blob (weights, biases, packed data)
  size_t parameter_count = 0;  // weights + biases, in elements
  size_t op_count = 0;
};

// A graph the compiler cannot lower (unsupported op/shape/quantisation): the message names the
// op index, kind and tensor.
class CompileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Every op of the graph that cannot be lowered, one message each (op index, TFLite name, tensor,
// problem): the importer reports them all at once. Empty if the graph compiles op by op.
std::vector<std::string> lowering_problems(const Graph& graph);

CompiledModel compile(const Graph& graph, const ModelMetadata& meta, const CompileOptions& options = {});

}  // namespace tinyedge::model
