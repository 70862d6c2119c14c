#include "gateway/rollout/ota_reason.h"

namespace tinyedge::rollout {

std::string_view ota_reason_name(tinyedge_v1_OtaReason reason) {
  switch (reason) {
    case tinyedge_v1_OtaReason_OTA_OK: return "ok";
    case tinyedge_v1_OtaReason_OTA_BAD_MANIFEST: return "bad_manifest";
    case tinyedge_v1_OtaReason_OTA_UNKNOWN_KEY: return "unknown_key";
    case tinyedge_v1_OtaReason_OTA_BAD_SIGNATURE: return "bad_signature";
    case tinyedge_v1_OtaReason_OTA_ROLLBACK: return "rollback_refused";
    case tinyedge_v1_OtaReason_OTA_WRONG_HARDWARE: return "wrong_hardware";
    case tinyedge_v1_OtaReason_OTA_FIRMWARE_TOO_OLD: return "firmware_too_old";
    case tinyedge_v1_OtaReason_OTA_TOO_LARGE_FOR_SLOT: return "too_large_for_slot";
    case tinyedge_v1_OtaReason_OTA_TOO_LARGE_FOR_RAM: return "too_large_for_ram";
    case tinyedge_v1_OtaReason_OTA_HASH_MISMATCH: return "hash_mismatch";
    case tinyedge_v1_OtaReason_OTA_SELF_TEST_FAILED: return "self_test_failed";
    case tinyedge_v1_OtaReason_OTA_FLASH_ERROR: return "flash_error";
    case tinyedge_v1_OtaReason_OTA_BAD_MODEL: return "bad_model";
    case tinyedge_v1_OtaReason_OTA_BAD_CHUNK: return "bad_chunk";
    case tinyedge_v1_OtaReason_OTA_TIMEOUT: return "timeout";
    case tinyedge_v1_OtaReason_OTA_BUSY: return "busy";
    case tinyedge_v1_OtaReason_OTA_ABORTED: return "aborted";
    case tinyedge_v1_OtaReason_OTA_MODEL_MISMATCH: return "model_mismatch";
    case tinyedge_v1_OtaReason_OTA_ROLLBACK_TABLE_FULL: return "rollback_table_full";
    case tinyedge_v1_OtaReason_OTA_FRONT_END_UNSUPPORTED: return "front_end_unsupported";
    case tinyedge_v1_OtaReason_OTA_BAD_ENCODING: return "bad_encoding";
    case tinyedge_v1_OtaReason_OTA_BASE_MISMATCH: return "base_mismatch";
    case tinyedge_v1_OtaReason_OTA_NOT_FOR_THIS_KEY: return "not_for_this_key";
  }
  return "unknown_reason";
}

std::string_view ota_state_name(tinyedge_v1_OtaState state) {
  switch (state) {
    case tinyedge_v1_OtaState_OTA_IDLE: return "idle";
    case tinyedge_v1_OtaState_OTA_OFFERED: return "offered";
    case tinyedge_v1_OtaState_OTA_DOWNLOADING: return "downloading";
    case tinyedge_v1_OtaState_OTA_VERIFYING: return "verifying";
    case tinyedge_v1_OtaState_OTA_ACTIVATED: return "activated";
    case tinyedge_v1_OtaState_OTA_REFUSED: return "refused";
    case tinyedge_v1_OtaState_OTA_FAILED: return "failed";
  }
  return "unknown_state";
}

}  // namespace tinyedge::rollout
