#include "node_firmware/app/enroll_service.h"

#include <pb_decode.h>

#include <cstring>

#include "ota/signature.h"

namespace tinyedge::app {
namespace {

template <size_t N>
void copy_string(char (&out)[N], std::string_view s) {
  const size_t n = s.size() < N - 1 ? s.size() : N - 1;
  std::memcpy(out, s.data(), n);
  out[n] = 0;
}

}  // namespace

tinyedge_v1_EnrollRefusal to_refusal(enroll::EnrollStatus status) {
  using enroll::EnrollStatus;
  switch (status) {
    case EnrollStatus::kOk:
      return tinyedge_v1_EnrollRefusal_ENROLL_OK;
    case EnrollStatus::kTooFewExamples:
      return tinyedge_v1_EnrollRefusal_ENROLL_TOO_FEW_EXAMPLES;
    case EnrollStatus::kTooManyExamples:
      return tinyedge_v1_EnrollRefusal_ENROLL_TOO_MANY_EXAMPLES;
    case EnrollStatus::kSilentExample:
      return tinyedge_v1_EnrollRefusal_ENROLL_SILENT_EXAMPLE;
    case EnrollStatus::kDuplicateLabel:
      return tinyedge_v1_EnrollRefusal_ENROLL_DUPLICATE_LABEL;
    case EnrollStatus::kBadLabel:
      return tinyedge_v1_EnrollRefusal_ENROLL_BAD_LABEL;
    case EnrollStatus::kCollides:
      return tinyedge_v1_EnrollRefusal_ENROLL_COLLIDES;
    case EnrollStatus::kTableFull:
      return tinyedge_v1_EnrollRefusal_ENROLL_TABLE_FULL;
    case EnrollStatus::kNoSpace:
      return tinyedge_v1_EnrollRefusal_ENROLL_NO_SPACE;
    case EnrollStatus::kUnknownLabel:
      return tinyedge_v1_EnrollRefusal_ENROLL_UNKNOWN_LABEL;
    case EnrollStatus::kBadHead:
      return tinyedge_v1_EnrollRefusal_ENROLL_NO_EMBEDDING_MODEL;
    case EnrollStatus::kBadExamples:
      return tinyedge_v1_EnrollRefusal_ENROLL_BAD_EXAMPLES;
    case EnrollStatus::kModelFailed:
      return tinyedge_v1_EnrollRefusal_ENROLL_MODEL_FAILED;
    case EnrollStatus::kBadSignature:
      return tinyedge_v1_EnrollRefusal_ENROLL_BAD_SIGNATURE;
    case EnrollStatus::kOtherEmbedding:
      return tinyedge_v1_EnrollRefusal_ENROLL_OTHER_EMBEDDING;
    case EnrollStatus::kReplayed:
      return tinyedge_v1_EnrollRefusal_ENROLL_REPLAYED;
    case EnrollStatus::kFlashError:
    case EnrollStatus::kBadLayout:
      return tinyedge_v1_EnrollRefusal_ENROLL_FLASH_ERROR;
  }
  return tinyedge_v1_EnrollRefusal_ENROLL_FLASH_ERROR;
}

void EnrollService::fill_common(tinyedge_v1_EnrollmentStatus& status) const {
  const enroll::TableImage& table = enroller_.table();
  status.enrolled_count = 0;
  for (uint32_t i = 0; i < table.count && status.enrolled_count < 8; ++i)
    copy_string(status.enrolled[status.enrolled_count++], table.classes[i].name());
  if (model_ != nullptr) {
    status.model_id = model_->model_id();
    status.model_version = model_->model_version();
  }
  if (model_sha256_ != nullptr) {
    std::memcpy(status.model_sha256.bytes, model_sha256_, ota::kDigestBytes);
    status.model_sha256.size = ota::kDigestBytes;
  }
  // The class the answer names, as a share of it would carry it (the gateway keeps it for
  // `tinyedge enroll share`). A stale class is not offered: this model cannot use it.
  for (uint32_t i = 0; i < table.count; ++i) {
    const enroll::EnrolledClass& c = table.classes[i];
    if (c.name() != std::string_view(status.label) || c.state != enroll::ClassState::kActive) continue;
    status.has_shared = true;
    tinyedge_v1_SharedClass& s = status.shared;
    copy_string(s.label, c.name());
    s.prototype_count = c.dim;
    for (uint16_t d = 0; d < c.dim; ++d) s.prototype[d] = c.prototype[d];
    s.threshold_q14 = c.threshold_q14;
    std::memcpy(s.model_sha256.bytes, status.model_sha256.bytes, status.model_sha256.size);
    s.model_sha256.size = status.model_sha256.size;
  }
}

enroll::EnrollStatus EnrollService::accept_share(const tinyedge_v1_EnrollShare& share,
                                                 tinyedge_v1_EnrollmentStatus& status) {
  shared_ = tinyedge_v1_SharedClass_init_zero;
  pb_istream_t in = pb_istream_from_buffer(share.shared_class.bytes, share.shared_class.size);
  if (share.shared_class.size == 0 || !pb_decode(&in, tinyedge_v1_SharedClass_fields, &shared_))
    return enroll::EnrollStatus::kBadSignature;  // nothing signed can be read
  copy_string(status.label, std::string_view(shared_.label));
  const ota::TrustedKey* key = ota::find_key(keys_, std::span(shared_.key_id.bytes, shared_.key_id.size));
  if (key == nullptr || share.signature.size == 0 ||
      !ota::verify_signature(*key, ota::sha256(std::span(share.shared_class.bytes, share.shared_class.size)),
                             std::span(share.signature.bytes, share.signature.size)))
    return enroll::EnrollStatus::kBadSignature;
  if (model_ == nullptr) return enroll::EnrollStatus::kBadHead;
  if (shared_.sequence <= enroller_.table().share_sequence) return enroll::EnrollStatus::kReplayed;
  if (model_sha256_ == nullptr || shared_.model_sha256.size != ota::kDigestBytes ||
      !ota::digest_equal(std::span(shared_.model_sha256.bytes, ota::kDigestBytes),
                         std::span(model_sha256_, ota::kDigestBytes)))
    return enroll::EnrollStatus::kOtherEmbedding;
  int16_t prototype[enroll::kMaxPrototypeDim];
  for (pb_size_t d = 0; d < shared_.prototype_count; ++d) {
    if (shared_.prototype[d] < -enroll::kQ14One || shared_.prototype[d] > enroll::kQ14One)
      return enroll::EnrollStatus::kOtherEmbedding;  // not a unit vector's component
    prototype[d] = static_cast<int16_t>(shared_.prototype[d]);
  }
  const int32_t threshold = shared_.threshold_q14 < -enroll::kQ14One  ? -enroll::kQ14One
                            : shared_.threshold_q14 > enroll::kQ14One ? enroll::kQ14One
                                                                      : shared_.threshold_q14;
  enroll::EnrollReport report;
  const enroll::EnrollStatus result =
      enroller_.accept_shared(std::string_view(shared_.label), std::span(prototype, shared_.prototype_count),
                              static_cast<int16_t>(threshold), shared_.sequence, report);
  if (report.nearest_class >= 0) {
    status.distance_q14 = static_cast<uint32_t>(enroll::kQ14One - report.nearest_q14);
    copy_string(status.nearest_label, enroller_.label(static_cast<size_t>(report.nearest_class)));
  }
  return result;
}

void EnrollService::handle_share(const tinyedge_v1_EnrollShare& share, tinyedge_v1_EnrollmentStatus& status) {
  status = tinyedge_v1_EnrollmentStatus_init_zero;
  status.action = tinyedge_v1_EnrollCommand_Action_SHARE;
  status.refusal = to_refusal(accept_share(share, status));
  fill_common(status);
}

void EnrollService::handle(const tinyedge_v1_EnrollCommand& command, tinyedge_v1_EnrollmentStatus& status) {
  status = tinyedge_v1_EnrollmentStatus_init_zero;
  status.action = command.action;
  copy_string(status.label, std::string_view(command.label));
  enroll::EnrollStatus result = enroll::EnrollStatus::kOk;
  if (model_ == nullptr && command.action != tinyedge_v1_EnrollCommand_Action_LIST) {
    result = enroll::EnrollStatus::kBadHead;
  } else if (command.action == tinyedge_v1_EnrollCommand_Action_REMOVE) {
    result = enroller_.remove(command.label);
  } else if (command.action == tinyedge_v1_EnrollCommand_Action_START) {
    // Capture, then hand all examples to the Enroller, which checks count, silence and label.
    const size_t input_bytes = model_->input().size();
    if (command.examples == 0 || input_bytes == 0) {
      result = enroll::EnrollStatus::kTooFewExamples;
    } else if (command.examples > enroll::kMaxExamples || size_t{command.examples} * input_bytes > examples_.size()) {
      result = enroll::EnrollStatus::kTooManyExamples;
    } else {
      for (uint32_t e = 0; e < command.examples && result == enroll::EnrollStatus::kOk; ++e)
        result = source_.capture(command.label, e, examples_.subspan(e * input_bytes, input_bytes));
      enroll::EnrollReport report;
      if (result == enroll::EnrollStatus::kOk)
        result = enroller_.enroll(command.label, examples_.first(command.examples * input_bytes), report);
      status.examples_used = report.examples_used;
      if (report.nearest_class >= 0) {
        status.distance_q14 = static_cast<uint32_t>(enroll::kQ14One - report.nearest_q14);
        copy_string(status.nearest_label, enroller_.label(static_cast<size_t>(report.nearest_class)));
      }
    }
  }
  status.refusal = to_refusal(result);
  fill_common(status);
}

bool EnrollService::dropped_report(size_t i, tinyedge_v1_EnrollmentStatus& status) const {
  if (i >= enroller_.dropped_shared()) return false;
  status = tinyedge_v1_EnrollmentStatus_init_zero;
  status.action = tinyedge_v1_EnrollCommand_Action_DROPPED;
  copy_string(status.label, enroller_.dropped_label(i));
  status.refusal = tinyedge_v1_EnrollRefusal_ENROLL_NOT_RECOMPUTABLE;
  fill_common(status);
  return true;
}

void EnrollService::report_dropped() {
  if (node_ == nullptr || enroller_.dropped_shared() == 0) return;
  bool sent = true;
  for (size_t i = 0; dropped_report(i, status_); ++i)
    sent =
        node_->send_message(tinyedge_v1_Uplink_enrollment_status_tag, tinyedge_v1_EnrollmentStatus_fields, &status_) &&
        sent;
  if (sent) enroller_.forget_dropped();
}

void EnrollService::on_downlink(const tinyedge_v1_Downlink& downlink) {
  report_dropped();
  if (downlink.which_payload == tinyedge_v1_Downlink_enroll_tag) {
    handle(downlink.payload.enroll, status_);
  } else if (downlink.which_payload == tinyedge_v1_Downlink_enroll_share_tag) {
    handle_share(downlink.payload.enroll_share, status_);
  } else {
    if (next_ != nullptr) next_->on_downlink(downlink);
    return;
  }
  if (node_ != nullptr)
    (void)node_->send_message(tinyedge_v1_Uplink_enrollment_status_tag, tinyedge_v1_EnrollmentStatus_fields, &status_);
}

}  // namespace tinyedge::app
