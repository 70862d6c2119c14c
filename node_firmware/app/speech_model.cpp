#include "node_firmware/app/speech_model.h"

#include <cstring>
#include <string_view>

#include "node_firmware/app/keyword_detector.h"
#include "node_firmware/audio/front_end_record.h"

namespace tinyedge::app {
namespace {

// "EHD1": the embedding head's magic (node_firmware/enroll/embedding_head.h; the app checks only
// that one follows, the scorer decodes it).
constexpr uint32_t kEmbeddingHeadMagic = 0x31444845;

uint32_t get32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

uint32_t bits_of(float f) {
  uint32_t bits = 0;
  std::memcpy(&bits, &f, sizeof(bits));
  return bits;
}

}  // namespace

bool is_background_label(std::string_view label) { return label == "_silence_" || label == "_unknown_"; }

const char* to_string(SpeechModelStatus status) {
  switch (status) {
    case SpeechModelStatus::kNoFrontEnd:
      return "model has no front-end record";
    case SpeechModelStatus::kOk:
      return "ok";
    case SpeechModelStatus::kRecordRefused:
      return "model's front-end record is not one this node runs";
    case SpeechModelStatus::kNoMicrophone:
      return "model needs a microphone and this node has none";
    case SpeechModelStatus::kSampleRateMismatch:
      return "model's front-end sample rate is not the microphone's";
    case SpeechModelStatus::kInputNotFeatures:
      return "model's input is not int8 rows of its front-end's features with the front-end's scale and zero point";
    case SpeechModelStatus::kOutputNotScores:
      return "model's output is not int8 class scores the detector can track";
    case SpeechModelStatus::kNotEnoughRam:
      return "model's front-end and detector need more RAM than the node keeps";
    case SpeechModelStatus::kNoEnrollment:
      return "model classifies by nearest prototype (embedding head) and this node has no enrollment";
    case SpeechModelStatus::kHeadRefused:
      return "model's embedding head does not match its output or labels, or holds more classes than the detector "
             "tracks";
  }
  return "unknown speech model status";
}

SpeechModelCheck check_speech_model(const runtime::Model& model, const SpeechCapability& node) {
  SpeechModelCheck check;
  auto record = model.front_end();
  if (record.empty()) return check;
  // A region that is only an embedding head (an image embedding model) carries no audio record:
  // not a speech model; the camera node binds the head itself.
  if (record.size() >= 4 && get32(record.data()) == kEmbeddingHeadMagic) return check;
  // An embedding head may follow the audio record in the same region ("AFE1" record, "EHD1" head).
  if (record.size() > audio::kFrontEndRecordBytes && get32(record.data()) == audio::kFrontEndRecordMagic &&
      get32(record.data() + audio::kFrontEndRecordBytes) == kEmbeddingHeadMagic) {
    check.embedding = true;
    record = record.first(audio::kFrontEndRecordBytes);
  }
  check.audio = audio::decode_front_end(record, check.front_end);
  if (check.audio != audio::AudioStatus::kOk) {
    check.status = SpeechModelStatus::kRecordRefused;
    return check;
  }
  if (node.microphone_rate_hz == 0) {
    check.status = SpeechModelStatus::kNoMicrophone;
    return check;
  }
  if (check.front_end.sample_rate_hz != node.microphone_rate_hz) {
    check.status = SpeechModelStatus::kSampleRateMismatch;
    return check;
  }
  const runtime::TensorInfo in = model.input_info();
  const size_t features = check.front_end.features_per_row();
  if (model.input_count() != 1 || in.type != static_cast<uint8_t>(runtime::TemType::kInt8) || in.element_count == 0 ||
      in.element_count % features != 0 || bits_of(in.scale) != bits_of(check.front_end.output_scale) ||
      in.zero_point != check.front_end.output_zero_point) {
    check.status = SpeechModelStatus::kInputNotFeatures;
    return check;
  }
  const runtime::TensorInfo out = model.output_info();
  if (!check.embedding && (out.type != static_cast<uint8_t>(runtime::TemType::kInt8) || out.element_count == 0 ||
                           out.element_count > kMaxDetectorClasses)) {
    check.status = SpeechModelStatus::kOutputNotScores;
    return check;
  }
  const size_t score_slots = check.embedding ? kMaxDetectorClasses : out.element_count;
  if (KeywordDetector::workspace_bytes(check.front_end, in.element_count, score_slots) > node.detector_ram_bytes) {
    check.status = SpeechModelStatus::kNotEnoughRam;
    return check;
  }
  for (size_t i = 0; i < model.label_count() && i < kMaxDetectorClasses; ++i) {
    if (is_background_label(model.label(i))) check.ignored_labels |= 1u << i;
  }
  check.status = SpeechModelStatus::kOk;
  return check;
}

}  // namespace tinyedge::app
