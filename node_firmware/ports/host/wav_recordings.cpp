#include "node_firmware/ports/host/wav_recordings.h"

#include <cstdio>

#include "node_firmware/audio/wav_file.h"

namespace tinyedge::host {

std::span<const int16_t> WavRecordings::recording(std::string_view label) {
  const std::span<const int16_t> samples = read(label);
  if (!error_.empty() && !log_prefix_.empty()) std::fprintf(stderr, "%s%s\n", log_prefix_.c_str(), error_.c_str());
  return samples;
}

std::span<const int16_t> WavRecordings::read(std::string_view label) {
  samples_.clear();
  error_.clear();
  if (dir_.empty()) {
    error_ = "no enrollment recordings: the node was started without --enroll-from";
    return {};
  }
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
