#include "node_firmware/runtime/status.h"

namespace tinyedge::runtime {

const char* to_string(Status status) {
  switch (status) {
    case Status::kOk: return "ok";
    case Status::kTruncated: return "model truncated";
    case Status::kBadMagic: return "not a .tem model (bad magic)";
    case Status::kUnsupportedVersion: return "unsupported .tem format version";
    case Status::kMisaligned: return "misaligned model data";
    case Status::kBadTable: return "table or data offset outside the model";
    case Status::kTooLarge: return "model exceeds runtime limits";
    case Status::kBadTensor: return "inconsistent tensor record";
    case Status::kBadIndex: return "tensor index out of range or of the wrong kind";
    case Status::kBadOp: return "unknown kernel or wrong operand count";
    case Status::kBadShape: return "operand shapes do not fit the kernel";
    case Status::kBadQuantization: return "bad requantisation parameters";
    case Status::kBadParams: return "bad kernel parameters";
    case Status::kBadDataflow: return "tensor read before written or written twice";
    case Status::kArenaOverlap: return "live activations overlap in the arena";
    case Status::kArenaOutOfRange: return "activation outside the arena";
    case Status::kArenaTooSmall: return "arena too small or misaligned";
    case Status::kBadMetadata: return "bad metadata (name, labels, description or front-end record)";
    case Status::kNotInitialised: return "interpreter not initialised";
  }
  return "unknown status";
}

}  // namespace tinyedge::runtime
