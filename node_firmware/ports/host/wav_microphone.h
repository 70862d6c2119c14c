// The host node's microphone: WAV recordings (one file, or every .wav under a folder, in path
// order: a stream of them) played back at the pace of the host clock, one after another.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "node_firmware/app/microphone.h"
#include "node_firmware/app/platform.h"

namespace tinyedge::host {

struct AudioClips {
  uint32_t sample_rate_hz = 16000;
  std::vector<std::filesystem::path> files;  // clip id i + 1 is files[i]
  std::vector<std::vector<int16_t>> samples;
};

// Loads `path` (a .wav file, or a folder searched recursively for *.wav) at `sample_rate_hz`.
// Throws std::runtime_error naming the file for anything it cannot play: a missing path, a
// folder with no .wav file, a WAV of another rate, channel count or bit depth, a truncated one.
std::shared_ptr<const AudioClips> load_audio_clips(const std::filesystem::path& path, uint32_t sample_rate_hz);

class WavMicrophone final : public app::Microphone {
 public:
  // Node `first_clip` of a fleet starts with that clip (wrapping), so nodes do not all say the
  // same word at once. With `loop` the stream starts over after its last clip; without, it ends.
  WavMicrophone(std::shared_ptr<const AudioClips> clips, app::Platform& platform, size_t first_clip, bool loop);

  size_t read(std::span<int16_t> out, uint32_t& clip_id) override;
  uint32_t sample_rate_hz() const override { return clips_->sample_rate_hz; }
  bool finished() const { return finished_; }

 private:
  std::shared_ptr<const AudioClips> clips_;
  app::Platform& platform_;
  bool loop_;
  size_t clip_;
  size_t clips_played_ = 0;
  size_t offset_ = 0;  // next sample of the current clip
  bool started_ = false;
  bool finished_ = false;
  uint32_t start_ms_ = 0;
  uint64_t delivered_ = 0;  // samples handed out since the start
};

}  // namespace tinyedge::host
