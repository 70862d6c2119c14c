#include "node_firmware/ports/host/wav_recordings.h"

#include "node_firmware/audio/wav_file.h"

namespace tinyedge::host {

std::span<const int16_t> WavRecordings::recording(std::string_view label) {
  samples_.clear();
  error_.clear();
  // Labels come over the network: one that could leave DIR ("../x", "a/b") is no file of ours.
  if (label.empty() || label.front() == '.' || label.find('/') != std::string_view::npos ||
      label.find('\\') != std::string_view::npos) {
    error_ = "enrollment label '" + std::string(label) + "' cannot name a recording in " + dir_.string();
    return {};
  }
  audio::WavClip clip = audio::read_wav_file(dir_ / (std::string(label) + ".wav"), rate_);
  if (!clip.ok()) {
    error_ = clip.error;
    return {};
  }
  samples_ = std::move(clip.samples);
  return samples_;
}

}  // namespace tinyedge::host
