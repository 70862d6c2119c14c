// Why an update was refused or failed: the wire's OtaReason as a typed status value.
#pragma once
#include <cstdint>

#include "tinyedge.pb.h"

namespace tinyedge::ota {

enum class Reason : uint8_t {
  kOk = tinyedge_v1_OtaReason_OTA_OK,
  kBadManifest = tinyedge_v1_OtaReason_OTA_BAD_MANIFEST,
  kUnknownKey = tinyedge_v1_OtaReason_OTA_UNKNOWN_KEY,
  kBadSignature = tinyedge_v1_OtaReason_OTA_BAD_SIGNATURE,
  kRollback = tinyedge_v1_OtaReason_OTA_ROLLBACK,
  kWrongHardware = tinyedge_v1_OtaReason_OTA_WRONG_HARDWARE,
  kFirmwareTooOld = tinyedge_v1_OtaReason_OTA_FIRMWARE_TOO_OLD,
  kTooLargeForSlot = tinyedge_v1_OtaReason_OTA_TOO_LARGE_FOR_SLOT,
  kTooLargeForRam = tinyedge_v1_OtaReason_OTA_TOO_LARGE_FOR_RAM,
  kHashMismatch = tinyedge_v1_OtaReason_OTA_HASH_MISMATCH,
  kSelfTestFailed = tinyedge_v1_OtaReason_OTA_SELF_TEST_FAILED,
  kFlashError = tinyedge_v1_OtaReason_OTA_FLASH_ERROR,
  kBadModel = tinyedge_v1_OtaReason_OTA_BAD_MODEL,
  kBadChunk = tinyedge_v1_OtaReason_OTA_BAD_CHUNK,
  kTimeout = tinyedge_v1_OtaReason_OTA_TIMEOUT,
  kBusy = tinyedge_v1_OtaReason_OTA_BUSY,
  kAborted = tinyedge_v1_OtaReason_OTA_ABORTED,
  kModelMismatch = tinyedge_v1_OtaReason_OTA_MODEL_MISMATCH,
  kRollbackTableFull = tinyedge_v1_OtaReason_OTA_ROLLBACK_TABLE_FULL,
  kFrontEndUnsupported = tinyedge_v1_OtaReason_OTA_FRONT_END_UNSUPPORTED,
  kBadEncoding = tinyedge_v1_OtaReason_OTA_BAD_ENCODING,
  kBaseMismatch = tinyedge_v1_OtaReason_OTA_BASE_MISMATCH,
  kNotForThisKey = tinyedge_v1_OtaReason_OTA_NOT_FOR_THIS_KEY,
};

const char* to_string(Reason reason);

inline tinyedge_v1_OtaReason to_wire(Reason reason) { return static_cast<tinyedge_v1_OtaReason>(reason); }

}  // namespace tinyedge::ota
