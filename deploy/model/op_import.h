// What an op's importer (deploy/model/ops/<op>.cpp) works with: the generated TFLite schema
// subset (tflite_subset.fbs: add an options table there, in the public schema's field order, if
// the op's is missing) and the conversions TFLite's options share.
#pragma once
#include <cstdint>
#include <string>

#include "deploy/model/graph.h"
#include "deploy/model/tflite_import.h"
#include "tflite_subset_generated.h"

namespace tinyedge::model {
namespace fb = tinyedge::tflite_fb;

// TFLite ActivationFunctionType -> Activation; the others (TANH, SIGN_BIT) are refused.
inline Activation fused_activation(int8_t f, const std::string& where) {
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

// TFLite Padding: 0 SAME, 1 VALID.
inline Padding padding(int8_t p) { return p == 0 ? Padding::kSame : Padding::kValid; }

}  // namespace tinyedge::model
