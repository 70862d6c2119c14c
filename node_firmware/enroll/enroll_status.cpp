#include "node_firmware/enroll/enroll_status.h"

namespace tinyedge::enroll {

const char* to_string(EnrollStatus status) {
  switch (status) {
    case EnrollStatus::kOk:
      return "ok";
    case EnrollStatus::kTooFewExamples:
      return "too few examples";
    case EnrollStatus::kTooManyExamples:
      return "too many examples";
    case EnrollStatus::kSilentExample:
      return "an example is silent (no signal)";
    case EnrollStatus::kDuplicateLabel:
      return "label already exists";
    case EnrollStatus::kBadLabel:
      return "label empty, too long or not printable";
    case EnrollStatus::kCollides:
      return "prototype collides with an existing class";
    case EnrollStatus::kTableFull:
      return "enrolled-class table full";
    case EnrollStatus::kNoSpace:
      return "no flash space for the class table";
    case EnrollStatus::kUnknownLabel:
      return "no enrolled class has that label";
    case EnrollStatus::kBadHead:
      return "model has no usable embedding head";
    case EnrollStatus::kBadExamples:
      return "examples are not whole model inputs";
    case EnrollStatus::kModelFailed:
      return "embedding model failed";
    case EnrollStatus::kFlashError:
      return "flash error";
    case EnrollStatus::kBadLayout:
      return "flash region too small for two table banks";
    case EnrollStatus::kBadSignature:
      return "shared class unsigned or its signature does not verify";
    case EnrollStatus::kOtherEmbedding:
      return "shared class learned with another embedding model";
    case EnrollStatus::kReplayed:
      return "shared class replayed";
  }
  return "unknown enroll status";
}

}  // namespace tinyedge::enroll
