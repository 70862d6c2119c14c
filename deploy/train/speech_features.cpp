#include "deploy/train/speech_features.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "deploy/train/parallel.h"
#include "deploy/train/quantize.h"
#include "node_firmware/audio/front_end.h"
#include "node_firmware/audio/wav_file.h"

namespace tinyedge::train {
namespace {

audio::AudioFrontEndConfig mfcc_config() {
  audio::AudioFrontEndConfig c;
  c.sample_rate_hz = 16000;
  c.window_ms = 30;
  c.stride_ms = 20;
  c.mel_channels = 40;
  c.mfcc_coefficients = 10;
  c.lower_hz = 20;
  c.upper_hz = 4000;
  return c;
}

audio::AudioFrontEndConfig logmel_config() {
  audio::AudioFrontEndConfig c = mfcc_config();
  c.mfcc_coefficients = 0;
  c.upper_hz = 7600;
  return c;
}

// A configured front-end with its own workspace (one per thread).
struct FrontEnd {
  explicit FrontEnd(const audio::AudioFrontEndConfig& config) {
    const std::size_t bytes = audio::workspace_bytes(config);
    if (bytes == 0)
      throw std::runtime_error(std::string("front-end config refused: ") + audio::to_string(config.validate()));
    workspace.resize(bytes / 8 + 1);
    const auto s =
        front_end.configure(config, {reinterpret_cast<std::uint8_t*>(workspace.data()), workspace.size() * 8});
    if (s != audio::AudioStatus::kOk)
      throw std::runtime_error(std::string("front-end config refused: ") + audio::to_string(s));
  }
  std::vector<std::uint64_t> workspace;  // 8-byte aligned
  audio::AudioFrontEnd front_end;
};

}  // namespace

const std::vector<FrontEndPreset>& front_end_presets() {
  static const std::vector<FrontEndPreset> presets = {
      {"mfcc49x10", mfcc_config(),
       "49x10 MFCC (MLPerf Tiny kws_ref_model's input): 16 kHz, 30 ms window, 20 ms stride, 40 mel 20-4000 Hz, 10 "
       "MFCC"},
      {"logmel49x40", logmel_config(), "49x40 log-mel: 16 kHz, 30 ms window, 20 ms stride, 40 mel 20-7600 Hz"},
  };
  return presets;
}

const FrontEndPreset& front_end_preset(const std::string& name) {
  std::string known;
  for (const auto& p : front_end_presets()) {
    if (p.name == name) return p;
    known += (known.empty() ? "" : ", ") + p.name;
  }
  throw std::runtime_error("unknown front-end preset '" + name + "' (" + known + ")");
}

Shape3 feature_shape(const audio::AudioFrontEndConfig& c) {
  return {static_cast<int>(c.rows_for(clip_samples(c))), static_cast<int>(c.features_per_row()), 1};
}

std::size_t clip_samples(const audio::AudioFrontEndConfig& c) { return c.sample_rate_hz; }

std::vector<std::int16_t> read_clip(const std::filesystem::path& path, const audio::AudioFrontEndConfig& config) {
  auto clip = audio::read_wav_file(path, config.sample_rate_hz);
  if (!clip.ok()) throw std::runtime_error(clip.error);
  if (clip.samples.empty()) throw std::runtime_error(path.string() + ": no samples");
  clip.samples.resize(clip_samples(config), 0);
  return std::move(clip.samples);
}

std::vector<std::int8_t> clip_features(const audio::AudioFrontEndConfig& config,
                                       std::span<const std::int16_t> samples) {
  thread_local std::unique_ptr<FrontEnd> fe;
  thread_local audio::AudioFrontEndConfig fe_config;
  if (!fe || std::memcmp(&fe_config, &config, sizeof config) != 0) {
    fe = std::make_unique<FrontEnd>(config);
    fe_config = config;
  }
  const Shape3 shape = feature_shape(config);
  std::vector<std::int8_t> out(static_cast<std::size_t>(shape.size()));
  std::size_t rows = 0;
  const auto s = audio::compute_clip(fe->front_end, samples, out, rows);
  if (s != audio::AudioStatus::kOk) throw std::runtime_error(std::string("front-end: ") + audio::to_string(s));
  if (rows != static_cast<std::size_t>(shape.h))
    throw std::runtime_error("front-end gave " + std::to_string(rows) + " rows, expected " + std::to_string(shape.h));
  return out;
}

audio::AudioFrontEndConfig calibrate_output(audio::AudioFrontEndConfig config,
                                            const std::vector<std::vector<std::int16_t>>& clips) {
  if (clips.empty()) throw std::runtime_error("no clips to calibrate the front-end's output range on");
  // The real values before quantisation: the Q16 log-mel energies or MFCCs of every row.
  config.output_scale = 1.0f;
  config.output_zero_point = 0;
  FrontEnd fe(config);
  std::vector<float> values;
  const std::size_t stride = config.stride_samples();
  std::vector<std::int8_t> row(config.features_per_row());
  for (const auto& clip : clips) {
    fe.front_end.reset();
    for (std::size_t at = 0; at + stride <= clip.size(); at += stride) {
      bool ready = false;
      if (fe.front_end.push_stride(std::span(clip).subspan(at, stride), row, ready) != audio::AudioStatus::kOk)
        throw std::runtime_error("front-end refused a stride while calibrating");
      if (!ready) continue;
      const auto q16 = config.mfcc_coefficients ? fe.front_end.mfcc_q16() : fe.front_end.log_mel_q16();
      for (std::int32_t v : q16) values.push_back(static_cast<float>(v) / 65536.0f);
    }
  }
  std::sort(values.begin(), values.end());
  const auto at = [&](double q) {
    return values[static_cast<std::size_t>(q * static_cast<double>(values.size() - 1))];
  };
  const QuantParams p = choose_activation_params(at(0.001), at(0.999));
  config.output_scale = p.scale;
  config.output_zero_point = static_cast<std::int8_t>(p.zero_point);
  if (const auto s = config.validate(); s != audio::AudioStatus::kOk)
    throw std::runtime_error(std::string("calibrated front-end output refused: ") + audio::to_string(s));
  return config;
}

std::vector<std::int16_t> shifted(std::span<const std::int16_t> samples, long shift) {
  const long n = static_cast<long>(samples.size());
  std::vector<std::int16_t> out(samples.size(), 0);
  for (long i = std::max(0L, shift); i < std::min(n, n + shift); ++i)
    out[static_cast<std::size_t>(i)] = samples[static_cast<std::size_t>(i - shift)];
  return out;
}

SpeechFeatures compute_features(const audio::AudioFrontEndConfig& config, std::span<const SpeechClipRef> clips,
                                int threads, int shift_ms, const NoiseAugment* noise) {
  const long shift = static_cast<long>(shift_ms) * static_cast<long>(config.sample_rate_hz) / 1000;
  SpeechFeatures f;
  f.shape = feature_shape(config);
  const auto per = static_cast<std::size_t>(f.shape.size());
  f.values.resize(clips.size() * per);
  parallel_chunks(clips.size(), threads, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t i = lo; i < hi; ++i) {
      auto samples = read_clip(clips[i].path, config);
      if (shift != 0) samples = shifted(samples, shift);
      if (noise != nullptr && clips[i].label != noise->silence_label) samples = noise->apply(std::move(samples), i);
      const auto x = clip_features(config, samples);
      std::copy(x.begin(), x.end(), f.values.begin() + static_cast<std::ptrdiff_t>(i * per));
    }
  });
  return f;
}

}  // namespace tinyedge::train
