// Reads a TensorFlow Lite flatbuffer (int8 models) into the compiler's Graph.
#pragma once
#include <cstdint>
#include <span>
#include <stdexcept>

#include "deploy/model/graph.h"

namespace tinyedge::model {

// A file that is not a valid TFLite model, or uses an op/type the runtime does not support:
// the message names the op index, the op and the tensor.
class ImportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

Graph import_tflite(std::span<const uint8_t> bytes);

// Op `op_index` of the model alone: its activation inputs become the graph inputs, its outputs the
// graph outputs (per-layer tests and debugging of models whose other ops do not import).
Graph import_tflite_op(std::span<const uint8_t> bytes, uint32_t op_index);

}  // namespace tinyedge::model
