#include "node_firmware/audio/front_end.h"

#include "node_firmware/audio/mel_filterbank.h"
#include "node_firmware/audio/real_fft.h"

namespace tinyedge::audio {
namespace {

constexpr int64_t kLn2Q32 = 2977044472;  // round(ln 2 * 2^32)

// Where each buffer sits in the workspace; 8-byte items first so every view stays aligned.
struct Layout {
  size_t energy, noise, fft, quarter_cos, log_mel, mfcc, history, window, dct, mel_weight, mel_segment, total;
};

Layout layout_for(const AudioFrontEndConfig& c) {
  const size_t m = c.mel_channels, n = c.fft_size(), l = c.window_samples(), k = c.mfcc_coefficients;
  const size_t bins = mel_bin_range(c).count;
  Layout at{};
  size_t off = 0;
  auto place = [&off](size_t bytes) {
    const size_t here = off;
    off += bytes;
    return here;
  };
  at.energy = place(m * 8);
  at.noise = place(c.noise_reduction != 0 ? m * 8 : 0);
  at.fft = place(n * 4);
  at.quarter_cos = place((n / 4 + 1) * 4);
  at.log_mel = place(m * 4);
  at.mfcc = place(k * 4);
  at.history = place(l * 2);
  at.window = place(l * 2);
  at.dct = place(k * m * 2);
  at.mel_weight = place(bins * 2);
  at.mel_segment = place(bins);
  at.total = (off + 7) / 8 * 8;
  return at;
}

int log2_exact(uint32_t n) {
  int b = 0;
  while ((uint32_t{1} << b) < n) ++b;
  return b;
}

}  // namespace

size_t workspace_bytes(const AudioFrontEndConfig& config) {
  if (config.validate() != AudioStatus::kOk) return 0;
  return layout_for(config).total;
}

AudioStatus AudioFrontEnd::configure(const AudioFrontEndConfig& config, std::span<uint8_t> workspace) {
  configured_ = false;
  if (const AudioStatus s = config.validate(); s != AudioStatus::kOk) return s;
  const Layout at = layout_for(config);
  if (workspace.size() < at.total || reinterpret_cast<uintptr_t>(workspace.data()) % 8 != 0) {
    return AudioStatus::kWorkspaceTooSmall;
  }
  config_ = config;
  n_ = config.fft_size();
  window_ = config.window_samples();
  stride_ = config.stride_samples();
  shift_ = 15 - log2_exact(n_);
  const MelBinRange bins = mel_bin_range(config);
  bins_first_ = bins.first;
  bins_count_ = bins.count;
  out_ = output_multiplier(config.output_scale);

  uint8_t* base = workspace.data();
  energy_ = reinterpret_cast<uint64_t*>(base + at.energy);
  noise_ = reinterpret_cast<uint64_t*>(base + at.noise);
  fft_ = reinterpret_cast<int32_t*>(base + at.fft);
  quarter_cos_ = reinterpret_cast<int32_t*>(base + at.quarter_cos);
  log_mel_ = reinterpret_cast<int32_t*>(base + at.log_mel);
  mfcc_ = reinterpret_cast<int32_t*>(base + at.mfcc);
  history_ = reinterpret_cast<int16_t*>(base + at.history);
  window_q15_ = reinterpret_cast<uint16_t*>(base + at.window);
  dct_q15_ = reinterpret_cast<int16_t*>(base + at.dct);
  mel_weight_ = reinterpret_cast<uint16_t*>(base + at.mel_weight);
  mel_segment_ = base + at.mel_segment;

  for (uint32_t j = 0; j < window_; ++j) {
    // 0.5 - 0.5 cos in Q30 is (2^30 - cos) / 2; in Q15, rounded: (2^30 - cos + 2^15) / 2^16.
    const int64_t c = cos_sin_q30(j, window_).cos;
    window_q15_[j] = static_cast<uint16_t>((int64_t{kOneQ30} - c + (1 << 15)) >> 16);
  }
  fill_quarter_cos({quarter_cos_, n_ / 4 + 1}, n_);
  fill_mel_weights(config, {mel_weight_, bins_count_}, {mel_segment_, bins_count_});
  const uint32_t m = config.mel_channels;
  const int64_t norm0 = isqrt64((uint64_t{1} << 60) / m);  // sqrt(1/M) in Q30
  const int64_t norm = isqrt64((uint64_t{1} << 61) / m);   // sqrt(2/M) in Q30
  for (uint32_t i = 0; i < config.mfcc_coefficients; ++i) {
    for (uint32_t j = 0; j < m; ++j) {
      const int64_t c = i == 0 ? kOneQ30 : cos_sin_q30(i * (2 * j + 1), 4 * m).cos;
      int64_t d = (c * (i == 0 ? norm0 : norm) + (int64_t{1} << 44)) >> 45;
      if (d > 32767) d = 32767;  // only M = 1 reaches 1.0
      if (d < -32767) d = -32767;
      dct_q15_[i * m + j] = static_cast<int16_t>(d);
    }
  }
  configured_ = true;
  reset();
  return AudioStatus::kOk;
}

void AudioFrontEnd::reset() {
  if (!configured_) return;
  for (uint32_t j = 0; j < window_; ++j) history_[j] = 0;
  write_pos_ = 0;
  filled_ = 0;
  noise_started_ = false;
}

AudioStatus AudioFrontEnd::push_stride(std::span<const int16_t> stride, std::span<int8_t> row, bool& row_ready) {
  row_ready = false;
  if (!configured_) return AudioStatus::kNotConfigured;
  if (stride.size() != stride_) return AudioStatus::kWrongStrideLength;
  if (row.size() < config_.features_per_row()) return AudioStatus::kOutputTooSmall;
  // The ring keeps the overlap: only the new stride is written, the window is never copied.
  for (const int16_t s : stride) {
    history_[write_pos_] = s;
    write_pos_ = write_pos_ + 1 == window_ ? 0 : write_pos_ + 1;
  }
  filled_ = filled_ + stride_ >= window_ ? window_ : filled_ + stride_;
  if (filled_ < window_) return AudioStatus::kOk;
  compute_row(row);
  row_ready = true;
  return AudioStatus::kOk;
}

uint64_t AudioFrontEnd::power(uint32_t k) const {
  int32_t re, im;  // |Y| < 2^30: each square is one 32x32->64 multiply
  if (k == 0) {
    re = fft_[0], im = 0;
  } else if (k == n_ / 2) {
    re = fft_[1], im = 0;
  } else {
    re = fft_[2 * k], im = fft_[2 * k + 1];
  }
  const uint64_t sq = static_cast<uint64_t>(int64_t{re} * re) + static_cast<uint64_t>(int64_t{im} * im);
  return (sq + (uint64_t{1} << (2 * shift_ - 1))) >> (2 * shift_);
}

void AudioFrontEnd::compute_row(std::span<int8_t> row) {
  // Window the last L samples, oldest first (the oldest sits at the write position).
  const int round = 1 << (15 - shift_ - 1);
  const int down = 15 - shift_;  // = log2(N)
  uint32_t j = 0;
  for (uint32_t p = write_pos_; p < window_; ++p, ++j) fft_[j] = (history_[p] * window_q15_[j] + round) >> down;
  for (uint32_t p = 0; p < write_pos_; ++p, ++j) fft_[j] = (history_[p] * window_q15_[j] + round) >> down;
  for (; j < n_; ++j) fft_[j] = 0;
  real_fft({fft_, n_}, n_, {quarter_cos_, n_ / 4 + 1});

  const uint32_t m = config_.mel_channels;
  for (uint32_t c = 0; c < m; ++c) energy_[c] = 0;
  for (uint32_t i = 0; i < bins_count_; ++i) {
    const uint64_t p = power(bins_first_ + i);
    const uint32_t seg = mel_segment_[i];
    const uint64_t rising = mul_q15(p, mel_weight_[i]);
    if (seg < m) energy_[seg] += rising;
    if (seg > 0) energy_[seg - 1] += p - rising;
  }

  if (config_.noise_reduction != 0) {
    for (uint32_t c = 0; c < m; ++c) {
      const int64_t e = static_cast<int64_t>(energy_[c]);
      int64_t floor_estimate = noise_started_ ? static_cast<int64_t>(noise_[c]) : e;
      floor_estimate += (e - floor_estimate) >> 5;
      noise_[c] = static_cast<uint64_t>(floor_estimate);
      const int64_t cleaned = e - floor_estimate;
      energy_[c] = static_cast<uint64_t>(cleaned > (e >> 5) ? cleaned : (e >> 5));
    }
    noise_started_ = true;
  }

  for (uint32_t c = 0; c < m; ++c) {
    log_mel_[c] = static_cast<int32_t>((log2_q24(energy_[c] + 1) * kLn2Q32 + (int64_t{1} << 39)) >> 40);
  }
  const uint32_t coefficients = config_.mfcc_coefficients;
  for (uint32_t i = 0; i < coefficients; ++i) {
    int64_t acc = 0;
    for (uint32_t c = 0; c < m; ++c) acc += int64_t{dct_q15_[i * m + c]} * log_mel_[c];
    mfcc_[i] = static_cast<int32_t>((acc + (1 << 14)) >> 15);
  }
  const int32_t* features = coefficients != 0 ? mfcc_ : log_mel_;
  for (uint32_t i = 0; i < config_.features_per_row(); ++i) {
    row[i] = quantise_feature(features[i], out_, config_.output_zero_point);
  }
}

AudioStatus compute_clip(AudioFrontEnd& front_end, std::span<const int16_t> samples, std::span<int8_t> features,
                         size_t& rows) {
  rows = 0;
  if (!front_end.configured()) return AudioStatus::kNotConfigured;
  const AudioFrontEndConfig& c = front_end.config();
  const size_t per_row = c.features_per_row();
  const size_t total = c.rows_for(samples.size());
  if (features.size() < total * per_row) return AudioStatus::kOutputTooSmall;
  front_end.reset();
  if (total == 0) return AudioStatus::kOk;  // shorter than one window: no row, nothing to push
  const size_t stride = c.stride_samples();
  for (size_t at = 0; at + stride <= samples.size(); at += stride) {
    bool ready = false;
    const AudioStatus s = front_end.push_stride(samples.subspan(at, stride), features.subspan(rows * per_row), ready);
    if (s != AudioStatus::kOk) return s;
    if (ready) ++rows;
  }
  return AudioStatus::kOk;
}

}  // namespace tinyedge::audio
