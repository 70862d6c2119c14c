// Keyword features for training and evaluation, computed by the node's own fixed-point front-end
// (node_firmware/audio): the features a model learns from are the bits the node will compute.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "deploy/train/float_net.h"
#include "deploy/train/noise_mix.h"
#include "deploy/train/speech_folder.h"
#include "node_firmware/audio/audio_config.h"

namespace tinyedge::train {

struct FrontEndPreset {
  std::string name;
  audio::AudioFrontEndConfig config;  // output scale and zero point are calibrated on the training data
  std::string description;
};
// "mfcc49x10": the MLPerf Tiny kws_ref_model's input (16 kHz, 30 ms window, 20 ms stride, 40 mel
// channels over 20..4000 Hz, 10 MFCC: 49 rows of 10); "logmel49x40": 40 log-mel energies per row
// over 20..7600 Hz with the same framing (TFLite Micro micro_speech's geometry).
const std::vector<FrontEndPreset>& front_end_presets();
// Throws std::runtime_error listing the presets when `name` is none of them.
const FrontEndPreset& front_end_preset(const std::string& name);

// One clip's features: (rows x features_per_row) int8 values, as the model's input.
Shape3 feature_shape(const audio::AudioFrontEndConfig& config);
// The samples one clip covers (one second); shorter recordings are padded with silence at the end
// and longer ones cut, as Speech Commands' loaders do.
std::size_t clip_samples(const audio::AudioFrontEndConfig& config);

// Chooses output_scale and output_zero_point so the real feature values seen over `clips` (the
// 0.1 % and 99.9 % points, widened to include 0) fill the int8 range. Throws on bad input.
audio::AudioFrontEndConfig calibrate_output(audio::AudioFrontEndConfig config,
                                            const std::vector<std::vector<std::int16_t>>& clips);

struct SpeechFeatures {
  Shape3 shape;
  std::vector<std::int8_t> values;  // clip i at i * shape.size()
  std::span<const std::int8_t> clip(std::size_t i) const {
    return {values.data() + i * static_cast<std::size_t>(shape.size()), static_cast<std::size_t>(shape.size())};
  }
};

// Reads every clip of `clips` (16-bit mono PCM at the config's rate; an error names the file) and
// computes its features with the configured front-end, on `threads` threads.
// `shift_ms` moves every clip in time first (positive: later, silence in front; negative:
// earlier), as a word is heard at any offset in a stream: the trainer's time-shift augmentation.
// `noise`, if given, then mixes background noise into the clips it picks (noise augmentation).
SpeechFeatures compute_features(const audio::AudioFrontEndConfig& config, std::span<const SpeechClipRef> clips,
                                int threads, int shift_ms = 0, const NoiseAugment* noise = nullptr);
// `samples` moved by `shift` samples within its own length (zeros fill what it leaves).
std::vector<std::int16_t> shifted(std::span<const std::int16_t> samples, long shift);
std::vector<std::int8_t> clip_features(const audio::AudioFrontEndConfig& config, std::span<const std::int16_t> samples);

// Reads one clip fitted to one second; throws std::runtime_error("<file>: <problem>").
std::vector<std::int16_t> read_clip(const std::filesystem::path& path, const audio::AudioFrontEndConfig& config);

}  // namespace tinyedge::train
