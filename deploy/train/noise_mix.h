// Noise augmentation for the keyword trainer: the data set's own background noise mixed into
// training clips at signal-to-noise ratios drawn from a list, so the spotter learns words heard
// over the noise a node hears. Every choice (which clip, which recording, where in it, which SNR)
// comes from the seed and the clip's position alone: the same seed gives the same training set.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "deploy/train/speech_folder.h"

namespace tinyedge::train {

struct NoiseMixOptions {
  std::vector<double> snr_db;  // empty: no noise; else each noisy clip gets one of these at random
  double share = 0.5;          // share of training clips (each time-shifted copy drawn anew) that get noise
  std::uint64_t seed = 1;
};

// Throws std::runtime_error naming the bad value: an SNR outside [-10, 60] dB or not a number, a
// share outside [0, 1].
void check_noise_options(const NoiseMixOptions& options);

struct NoiseBank {
  std::vector<std::vector<std::int16_t>> recordings;
  std::string source;  // where they came from, for the user
};

// The noise a data set carries: DIR/_background_noise_/*.wav (Speech Commands' long recordings)
// when that folder has any, else the training split's "_silence_" clips (what `tinyedge data
// speech` writes); test clips are never used. Throws std::runtime_error naming the folder when
// there is none, or naming a file that does not read as 16-bit mono PCM at `sample_rate_hz`.
NoiseBank load_noise_bank(const std::filesystem::path& dir, const SpeechFolder& folder, std::uint32_t sample_rate_hz);

// `clip` plus `noise` (its first clip.size() samples, repeated if shorter) scaled so that the
// clip's power over the added noise's power is `snr_db`; saturates at the int16 range. A clip or
// noise with no power comes back unchanged (no SNR defines a level for it).
std::vector<std::int16_t> mix_at_snr(std::span<const std::int16_t> clip, std::span<const std::int16_t> noise,
                                     double snr_db);

struct NoisePick {
  bool noisy = false;
  std::size_t recording = 0;  // index into NoiseBank::recordings
  std::size_t offset = 0;     // first noise sample used
  double snr_db = 0;
};
// The draw for training clip `clip` in copy `copy` (0: as recorded, 1 and 2: the time-shifted
// ones), `clip_samples` long, from a bank whose recordings have `recording_samples` samples.
NoisePick pick_noise(const NoiseMixOptions& options, std::span<const std::size_t> recording_samples, std::size_t clip,
                     int copy, std::size_t clip_samples);

// What compute_features applies to each training clip: a bank, the options, the copy number.
struct NoiseAugment {
  const NoiseBank* bank = nullptr;
  NoiseMixOptions options;
  int copy = 0;
  int silence_label = -1;  // "_silence_" clips are noise already: left as they are
  std::vector<std::int16_t> apply(std::vector<std::int16_t> clip, std::size_t index) const;
};

}  // namespace tinyedge::train
