// Enrollment examples for a word from one enrollment recording: the user says the word N times,
// the node takes the N loudest windows as long as the model's input window (audio/
// loudest_windows.h) and turns each into the model's input with the model's own front-end, as the
// detector would have seen it. Where the recording comes from is the port's business (the host
// node reads a WAV, a board its microphone after a button press): EnrollmentRecordings.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "node_firmware/app/enroll_service.h"
#include "node_firmware/audio/audio_config.h"
#include "node_firmware/audio/front_end.h"

namespace tinyedge::app {

class EnrollmentRecordings {
 public:
  // 16-bit samples at the front-end's rate of the recording for `label`; empty if there is none.
  // The samples stay valid until the next call.
  virtual std::span<const int16_t> recording(std::string_view label) = 0;

 protected:
  ~EnrollmentRecordings() = default;
};

class RecordingExamples final : public ExampleSource {
 public:
  // `front_end_workspace`: at least audio::workspace_bytes() of the model's front-end, 8-byte aligned.
  RecordingExamples(EnrollmentRecordings& recordings, std::span<uint8_t> front_end_workspace)
      : recordings_(recordings), workspace_(front_end_workspace) {}

  // The front-end of the model enrolled into (the speech model's record).
  void set_front_end(const audio::AudioFrontEndConfig& config) {
    front_end_config_ = config;
    have_front_end_ = true;
  }

  // Example `index` of `label`: index 0 reads the recording and picks its windows. Refusals:
  // kBadExamples (no recording, no front-end, a front-end that refuses, an input that is not whole
  // feature rows), kTooFewExamples (the recording holds fewer words than asked for: windows 20 dB below the
  // loudest are pauses). A silent
  // window is left to the Enroller, which refuses it as kSilentExample.
  [[nodiscard]] enroll::EnrollStatus capture(std::string_view label, uint32_t index, std::span<int8_t> out) override;

  // The windows picked for the last enrollment (first samples, loudest first).
  std::span<const size_t> starts() const { return std::span<const size_t>(starts_, found_); }

 private:
  EnrollmentRecordings& recordings_;
  std::span<uint8_t> workspace_;
  audio::AudioFrontEndConfig front_end_config_{};
  bool have_front_end_ = false;
  audio::AudioFrontEnd front_end_;
  std::span<const int16_t> samples_;
  size_t window_ = 0;
  size_t starts_[enroll::kMaxExamples] = {};
  size_t found_ = 0;
};

}  // namespace tinyedge::app
