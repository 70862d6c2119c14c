// The audio front-end: 16-bit PCM in, one int8 feature row out per stride, in fixed point with no
// heap and no floating point. The same code runs on the node and in the trainer, so the features a
// model was trained on and the features the node computes are the same bits.
//
// The maths, for window length L, stride S, FFT size N (power of two >= L), headroom
// s = 15 - log2(N), M mel channels and C MFCC coefficients; x[j] are the last L samples, oldest
// first, as int16 values:
//   window   h[j] = round(2^15 (0.5 - 0.5 cos(2 pi j / L)))   (periodic Hann, Q15 in uint16, j < L)
//            y[j] = round(x[j] h[j] / N) for j < L, 0 up to N   (= 2^s x h; sum |y| < 2^30)
//   FFT      Y[k] = sum_j y[j] e^(-2 pi i j k / N)  (see real_fft.h), so Y = 2^s X, X the DFT of x h
//   power    P[k] = round((Re^2 + Im^2)(Y[k]) / 2^(2s))      (in int16 units squared, = |X[k]|^2)
//   mel      E[m] = sum over the bins on m's rising edge of floor(P[k] w[k] / 2^15)
//                 + sum over the bins on m's falling edge of P[k] - floor(P[k] w[k] / 2^15)
//            (w[k] the Q15 rising-edge weight of bin k, see mel_filterbank.h)
//   noise    (noise_reduction = 1) per channel, with the first row's energies as the start:
//            n[m] <- n[m] + floor((E[m] - n[m]) / 32)      (moving average, time constant 32 strides)
//            E[m] <- max(E[m] - n[m], floor(E[m] / 32))    (spectral subtraction, floor at -15 dB)
//   log      F[m] = ln(E[m] + 1) in Q16, via log2 in Q24   (silence: F = 0, the floor)
//   MFCC     c[i] = sum_m D[i][m] F[m] / 2^15, D = orthonormal DCT-II in Q15:
//            D[0][m] = sqrt(1/M), D[i][m] = sqrt(2/M) cos(pi i (2m + 1) / (2M))
//   output   q = clamp(round(F or c / output_scale) + output_zero_point, -128, 127)
// Row r covers the L samples that end with stride r + ceil(L / S) - 1 (0-based): a row is ready
// at every stride once a whole window has arrived.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "node_firmware/audio/audio_config.h"
#include "node_firmware/audio/audio_status.h"
#include "node_firmware/audio/fixed_math.h"

namespace tinyedge::audio {

// Bytes of workspace (8-byte aligned) the front-end needs for `config`: its sample history,
// window, twiddles, FFT buffer, filterbank weights, DCT matrix and per-channel state. 0 for a
// config validate() refuses.
size_t workspace_bytes(const AudioFrontEndConfig& config);

class AudioFrontEnd {
 public:
  // Validates the config and computes every table into `workspace` (which must outlive this
  // object). On failure the front-end is left unconfigured.
  [[nodiscard]] AudioStatus configure(const AudioFrontEndConfig& config, std::span<uint8_t> workspace);
  // Forgets the audio heard so far (history, noise floor); keeps the tables.
  void reset();

  // Feeds exactly one stride of samples. When a whole window has arrived, writes one row of
  // features_per_row() int8 features to `row` and sets row_ready.
  [[nodiscard]] AudioStatus push_stride(std::span<const int16_t> stride, std::span<int8_t> row, bool& row_ready);

  const AudioFrontEndConfig& config() const { return config_; }
  bool configured() const { return configured_; }

  // The last row's intermediate values, for tests and tools (valid after a row was produced).
  std::span<const int32_t> fft_output() const { return {fft_, n_}; }
  int headroom_shift() const { return shift_; }
  uint64_t power(uint32_t k) const;  // P[k], 0 <= k <= N/2
  std::span<const uint64_t> mel_energies() const { return {energy_, config_.mel_channels}; }
  std::span<const int32_t> log_mel_q16() const { return {log_mel_, config_.mel_channels}; }
  std::span<const int32_t> mfcc_q16() const { return {mfcc_, config_.mfcc_coefficients}; }

 private:
  void compute_row(std::span<int8_t> row);

  AudioFrontEndConfig config_{};
  bool configured_ = false;
  uint32_t n_ = 0, window_ = 0, stride_ = 0, bins_first_ = 0, bins_count_ = 0;
  int shift_ = 0;
  OutputMultiplier out_{};
  // Views into the caller's workspace.
  uint64_t* energy_ = nullptr;
  uint64_t* noise_ = nullptr;
  int32_t* fft_ = nullptr;
  int32_t* quarter_cos_ = nullptr;
  int32_t* log_mel_ = nullptr;
  int32_t* mfcc_ = nullptr;
  int16_t* history_ = nullptr;      // ring of the last L samples
  uint16_t* window_q15_ = nullptr;  // 0..32768
  int16_t* dct_q15_ = nullptr;
  uint16_t* mel_weight_ = nullptr;
  uint8_t* mel_segment_ = nullptr;
  // Streaming state.
  uint32_t write_pos_ = 0;
  uint32_t filled_ = 0;
  bool noise_started_ = false;
};

// The batch helper: resets `front_end`, pushes every whole stride of `samples` through the same
// streaming code and writes the rows one after another to `features` (rows_for(samples.size())
// rows of features_per_row()). A trailing partial stride is ignored.
[[nodiscard]] AudioStatus compute_clip(AudioFrontEnd& front_end, std::span<const int16_t> samples,
                                       std::span<int8_t> features, size_t& rows);

}  // namespace tinyedge::audio
