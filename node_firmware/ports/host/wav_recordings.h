// The host speech node's enrollment recordings: DIR/<label>.wav (16-bit mono at the microphone's
// rate), read when an EnrollCommand asks for that label. What a board takes from its microphone
// after a button press, the host takes from a file the user recorded.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "node_firmware/app/recording_examples.h"
#include "node_firmware/ports/host/enrollment_files.h"

namespace tinyedge::host {

class WavRecordings final : public app::EnrollmentRecordings, public EnrollmentFiles {
 public:
  WavRecordings(std::filesystem::path dir, uint32_t sample_rate_hz)
      : EnrollmentFiles(std::move(dir)), rate_(sample_rate_hz) {}

  // Empty (the enrollment is refused: bad examples) when the file is missing or not such a WAV, or
  // the label could name a file outside DIR; last_error() then says which.
  std::span<const int16_t> recording(std::string_view label) override;

 private:
  uint32_t rate_;
  std::vector<int16_t> samples_;
};

}  // namespace tinyedge::host
