// Every enrollment outcome is a value the node reports (EnrollmentStatus.refusal) and the CLI
// prints: a refusal names its reason and changes nothing.
#pragma once
#include <cstdint>

namespace tinyedge::enroll {

enum class EnrollStatus : uint8_t {
  kOk,
  kTooFewExamples,   // fewer than EnrollConfig::min_examples
  kTooManyExamples,  // more than EnrollConfig::max_examples (or kMaxExamples)
  kSilentExample,    // an example with (almost) no signal: blank frame, silent window
  kDuplicateLabel,   // the label names a trained or already enrolled class
  kBadLabel,         // empty, too long, or not printable ASCII
  kCollides,         // the new prototype is too close to an existing class's
  kTableFull,        // EnrollConfig::max_classes enrolled already
  kNoSpace,          // the table would not fit its flash bank
  kUnknownLabel,     // remove: no enrolled class has that label
  kBadHead,          // embedding-head record missing, malformed, or not for this model
  kBadExamples,      // example bytes not a whole number of model inputs
  kModelFailed,      // the embedding model failed to run
  kFlashError,       // the flash refused an operation (or power was lost)
  kBadLayout,        // the region given to the table cannot hold two banks
  kBadSignature,     // a shared class unsigned, tampered, or signed by a key the node does not hold
  kOtherEmbedding,   // a shared class learned with another embedding model
  kReplayed,         // a shared class whose sequence is not above the last one accepted
};

const char* to_string(EnrollStatus status);

}  // namespace tinyedge::enroll
