#include "ota/reason.h"

namespace tinyedge::ota {

const char* to_string(Reason reason) {
  switch (reason) {
    case Reason::kOk: return "ok";
    case Reason::kBadManifest: return "bad manifest";
    case Reason::kUnknownKey: return "unknown signing key";
    case Reason::kBadSignature: return "bad signature";
    case Reason::kRollback: return "version not newer than installed (rollback)";
    case Reason::kWrongHardware: return "wrong hardware";
    case Reason::kFirmwareTooOld: return "firmware too old";
    case Reason::kTooLargeForSlot: return "too large for slot";
    case Reason::kTooLargeForRam: return "arena too large for RAM";
    case Reason::kHashMismatch: return "payload SHA-256 mismatch";
    case Reason::kSelfTestFailed: return "self-test failed";
    case Reason::kFlashError: return "flash error";
    case Reason::kBadModel: return "payload is not a loadable model";
    case Reason::kBadChunk: return "bad chunk";
    case Reason::kTimeout: return "timeout";
    case Reason::kBusy: return "busy with another update";
    case Reason::kAborted: return "aborted";
    case Reason::kModelMismatch: return "payload is another model or version than the manifest says";
    case Reason::kRollbackTableFull: return "no room for another model's anti-rollback counter";
    case Reason::kFrontEndUnsupported: return "the model's sensor front-end is not one this node runs";
    case Reason::kBadEncoding: return "payload encoding unsupported, or a block does not decode";
    case Reason::kBaseMismatch: return "delta package against a base model this node does not run";
    case Reason::kNotForThisKey: return "encrypted for a key this node does not hold";
  }
  return "unknown reason";
}

}  // namespace tinyedge::ota
