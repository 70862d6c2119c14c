#include "deploy/train/noise_mix.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "node_firmware/audio/wav_file.h"

namespace tinyedge::train {
namespace {

namespace fs = std::filesystem;

// splitmix64: independent, well-mixed draws from (seed, clip, copy, which draw).
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

double unit(std::uint64_t x) { return static_cast<double>(x >> 11) * 0x1.0p-53; }

double power(std::span<const std::int16_t> s) {
  double sum = 0;
  for (const std::int16_t v : s) sum += static_cast<double>(v) * static_cast<double>(v);
  return s.empty() ? 0.0 : sum / static_cast<double>(s.size());
}

std::vector<std::int16_t> read_noise(const fs::path& path, std::uint32_t rate) {
  auto wav = audio::read_wav_file(path, rate);
  if (!wav.ok()) throw std::runtime_error(wav.error);
  if (wav.samples.empty()) throw std::runtime_error(path.string() + ": no samples");
  return std::move(wav.samples);
}

}  // namespace

void check_noise_options(const NoiseMixOptions& options) {
  for (const double snr : options.snr_db)
    if (!(snr >= -10.0 && snr <= 60.0))
      throw std::runtime_error("--noise-snr " + std::to_string(snr) + " dB is outside [-10, 60] dB");
  if (!(options.share >= 0.0 && options.share <= 1.0))
    throw std::runtime_error("--noise-share " + std::to_string(options.share) + " is outside [0, 1]");
}

NoiseBank load_noise_bank(const fs::path& dir, const SpeechFolder& folder, std::uint32_t sample_rate_hz) {
  NoiseBank bank;
  const fs::path background = dir / "_background_noise_";
  std::error_code ec;
  if (fs::is_directory(background, ec)) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(background))
      if (e.is_regular_file() && e.path().extension() == ".wav") files.push_back(e.path());
    std::sort(files.begin(), files.end());  // directory order differs between file systems
    for (const auto& f : files) bank.recordings.push_back(read_noise(f, sample_rate_hz));
    bank.source = background.string();
  }
  if (bank.recordings.empty()) {
    const auto silence = std::find(folder.labels.begin(), folder.labels.end(), "_silence_");
    const int label = silence == folder.labels.end() ? -1 : static_cast<int>(silence - folder.labels.begin());
    for (const auto& c : folder.clips)
      if (c.label == label && !c.test) bank.recordings.push_back(read_noise(c.path, sample_rate_hz));
    bank.source = (dir / "_silence_").string() + " (training split)";
  }
  if (bank.recordings.empty())
    throw std::runtime_error(dir.string() +
                             ": no background noise to mix (--noise-snr): neither _background_noise_/*.wav nor "
                             "training clips in _silence_");
  return bank;
}

std::vector<std::int16_t> mix_at_snr(std::span<const std::int16_t> clip, std::span<const std::int16_t> noise,
                                     double snr_db) {
  std::vector<std::int16_t> out(clip.begin(), clip.end());
  if (clip.empty() || noise.empty()) return out;
  std::vector<std::int16_t> segment(clip.size());
  for (std::size_t i = 0; i < clip.size(); ++i) segment[i] = noise[i % noise.size()];
  const double p_clip = power(clip), p_noise = power(segment);
  if (p_clip <= 0.0 || p_noise <= 0.0) return out;
  const double gain = std::sqrt(p_clip / (p_noise * std::pow(10.0, snr_db / 10.0)));
  for (std::size_t i = 0; i < clip.size(); ++i) {
    const double v = std::lround(static_cast<double>(clip[i]) + gain * static_cast<double>(segment[i]));
    out[i] = static_cast<std::int16_t>(std::clamp(v, -32768.0, 32767.0));
  }
  return out;
}

NoisePick pick_noise(const NoiseMixOptions& options, std::span<const std::size_t> recording_samples, std::size_t clip,
                     int copy, std::size_t clip_samples) {
  NoisePick pick;
  if (options.snr_db.empty() || recording_samples.empty()) return pick;
  const std::uint64_t base = mix(mix(options.seed) ^ mix(clip * 4 + static_cast<std::uint64_t>(copy)));
  if (unit(mix(base + 1)) >= options.share) return pick;
  pick.noisy = true;
  pick.recording = mix(base + 2) % recording_samples.size();
  const std::size_t n = recording_samples[pick.recording];
  pick.offset = n > clip_samples ? mix(base + 3) % (n - clip_samples + 1) : 0;
  pick.snr_db = options.snr_db[mix(base + 4) % options.snr_db.size()];
  return pick;
}

std::vector<std::int16_t> NoiseAugment::apply(std::vector<std::int16_t> clip, std::size_t index) const {
  if (bank == nullptr || bank->recordings.empty()) return clip;
  std::vector<std::size_t> lengths;
  lengths.reserve(bank->recordings.size());
  for (const auto& r : bank->recordings) lengths.push_back(r.size());
  const NoisePick pick = pick_noise(options, lengths, index, copy, clip.size());
  if (!pick.noisy) return clip;
  const auto& noise = bank->recordings[pick.recording];
  return mix_at_snr(clip, std::span(noise).subspan(pick.offset), pick.snr_db);
}

}  // namespace tinyedge::train
