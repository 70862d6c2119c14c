#include "node_firmware/ports/host/wav_microphone.h"

#include <algorithm>
#include <stdexcept>
#include <system_error>

#include "node_firmware/audio/wav_file.h"

namespace tinyedge::host {

std::shared_ptr<const AudioClips> load_audio_clips(const std::filesystem::path& path, uint32_t sample_rate_hz) {
  namespace fs = std::filesystem;
  auto clips = std::make_shared<AudioClips>();
  clips->sample_rate_hz = sample_rate_hz;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file() && it->path().extension() == ".wav") clips->files.push_back(it->path());
    }
    if (ec) throw std::runtime_error("audio folder " + path.string() + ": " + ec.message());
    if (clips->files.empty()) throw std::runtime_error("audio folder " + path.string() + " holds no .wav file");
    std::sort(clips->files.begin(), clips->files.end());
  } else if (fs::is_regular_file(path, ec)) {
    clips->files.push_back(path);
  } else {
    throw std::runtime_error("audio " + path.string() + ": no such file or folder");
  }
  for (const auto& file : clips->files) {
    audio::WavClip clip = audio::read_wav_file(file, sample_rate_hz);
    if (!clip.ok()) throw std::runtime_error("audio " + clip.error);
    if (clip.samples.empty()) throw std::runtime_error("audio " + file.string() + ": no samples");
    clips->samples.push_back(std::move(clip.samples));
  }
  return clips;
}

WavMicrophone::WavMicrophone(std::shared_ptr<const AudioClips> clips, app::Platform& platform, size_t first_clip,
                             bool loop)
    : clips_(std::move(clips)), platform_(platform), loop_(loop), clip_(first_clip % clips_->samples.size()) {}

size_t WavMicrophone::read(std::span<int16_t> out, uint32_t& clip_id) {
  if (finished_ || out.empty()) return 0;
  const uint32_t now = platform_.now_ms();
  if (!started_) {
    started_ = true;
    start_ms_ = now;
  }
  // Samples "heard" by now; hand out at most what is due, and from one clip at a time.
  const uint64_t due = uint64_t{now - start_ms_} * clips_->sample_rate_hz / 1000;
  if (due <= delivered_) return 0;
  const std::vector<int16_t>& clip = clips_->samples[clip_];
  const size_t n = static_cast<size_t>(std::min<uint64_t>({out.size(), due - delivered_, clip.size() - offset_}));
  std::copy_n(clip.begin() + static_cast<std::ptrdiff_t>(offset_), n, out.begin());
  clip_id = static_cast<uint32_t>(clip_ + 1);
  offset_ += n;
  delivered_ += n;
  if (offset_ == clip.size()) {
    offset_ = 0;
    clip_ = (clip_ + 1) % clips_->samples.size();
    if (++clips_played_ == clips_->samples.size() && !loop_) finished_ = true;
  }
  return n;
}

}  // namespace tinyedge::host
