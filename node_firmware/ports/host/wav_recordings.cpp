#include "node_firmware/ports/host/wav_recordings.h"

#include "node_firmware/audio/wav_file.h"

namespace tinyedge::host {

std::span<const int16_t> WavRecordings::recording(std::string_view label) {
  samples_.clear();
  if (!begin(label)) return {};
  audio::WavClip clip = audio::read_wav_file(dir() / (std::string(label) + ".wav"), rate_);
  if (!clip.ok()) {
    refuse(clip.error);
    return {};
  }
  samples_ = std::move(clip.samples);
  return samples_;
}

}  // namespace tinyedge::host
