// Whether this node can run a model's front-end: a model that carries a front-end record is a
// speech model (today the audio front-end is the only one), and it runs only where the record
// decodes to a config this build runs, at the node's microphone rate, into a model whose input is
// the front-end's features, within the RAM the node keeps for the detector. A region that starts
// with an embedding head (an image embedding model) has no audio record: kNoFrontEnd. Used by the pre-
// activation self-test (so an update the node cannot run is refused, never installed) and by the
// node when it (re)configures its detector. The audio record is read as the region's prefix: an
// embedding head ("EHD1") may follow it, and then the output is checked by the prototype scorer,
// which binds the head, instead of as class scores. The RAM bound then counts kMaxDetectorClasses
// score slots (trained, enrolled and "unknown" classes are at most that many).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "node_firmware/audio/audio_config.h"
#include "node_firmware/audio/audio_status.h"
#include "node_firmware/runtime/model.h"

namespace tinyedge::app {

enum class SpeechModelStatus : uint8_t {
  kNoFrontEnd,          // the model takes its input as is (no front-end record): not a speech model
  kOk,                  // a speech model this node runs
  kRecordRefused,       // the record is not an audio front-end this build runs (audio says why)
  kNoMicrophone,        // the node has no microphone
  kSampleRateMismatch,  // the front-end's sample rate is not the microphone's
  kInputNotFeatures,    // the input is not int8 rows of the front-end's features, quantised as they are
  kOutputNotScores,     // the output is not int8 class scores (at most kMaxDetectorClasses)
  kNotEnoughRam,        // the front-end and detector buffers exceed the node's detector RAM
  kNoEnrollment,        // an embedding model (record then "EHD1" head) and this node has no prototype scorer
  kHeadRefused,         // the embedding head does not fit the model or this node (see enroll::EnrollStatus)
};

const char* to_string(SpeechModelStatus status);

struct SpeechCapability {
  uint32_t microphone_rate_hz = 0;  // 0: no microphone
  size_t detector_ram_bytes = 0;    // workspace the node keeps for front-end + detector
};

struct SpeechModelCheck {
  SpeechModelStatus status = SpeechModelStatus::kNoFrontEnd;
  audio::AudioStatus audio = audio::AudioStatus::kOk;  // decode's verdict when kRecordRefused
  audio::AudioFrontEndConfig front_end{};
  uint32_t ignored_labels = 0;  // bit i: label i is _silence_ or _unknown_ (never reported)
  // The record is followed by an embedding head: the output is an embedding, and the node
  // classifies by nearest prototype (app::PrototypeScorer) rather than reading class scores.
  bool embedding = false;
};

// _silence_ and _unknown_: classes a speech model has but a node never reports.
bool is_background_label(std::string_view label);

[[nodiscard]] SpeechModelCheck check_speech_model(const runtime::Model& model, const SpeechCapability& node);

}  // namespace tinyedge::app
