// The fixed-point front-end against its definition in double precision, stage by stage, and its
// behaviour: a tone lands in its mel channel, silence gives the floor, streaming equals the batch
// helper bit for bit, bad configs and buffers are refused with their reason.
#include "node_firmware/audio/front_end.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "tests/audio/float_reference.h"
#include "tests/audio/test_signal.h"

namespace tinyedge::audio {
namespace {

using audio_test::RefFrontEnd;
using audio_test::RefRow;

struct Configured {
  explicit Configured(const AudioFrontEndConfig& c) : workspace(workspace_bytes(c) / 8 + 1) {
    status = fe.configure(c, {reinterpret_cast<uint8_t*>(workspace.data()), workspace.size() * 8});
  }
  std::vector<uint64_t> workspace;  // 8-byte aligned
  AudioFrontEnd fe;
  AudioStatus status;
};

AudioFrontEndConfig log_mel_config() {
  AudioFrontEndConfig c;
  c.output_scale = 0.125f;
  c.output_zero_point = -128;
  return c;
}
AudioFrontEndConfig mfcc_config() {
  AudioFrontEndConfig c;
  c.mfcc_coefficients = 10;
  c.output_scale = 0.5f;
  return c;
}
AudioFrontEndConfig noise_reduced_config() {
  AudioFrontEndConfig c = log_mel_config();
  c.noise_reduction = 1;
  return c;
}
AudioFrontEndConfig narrowband_config() {  // 8 kHz, 25 ms window (200 -> 256 FFT), 10 ms stride
  AudioFrontEndConfig c;
  c.sample_rate_hz = 8000;
  c.window_ms = 25;
  c.stride_ms = 10;
  c.mel_channels = 23;
  c.mfcc_coefficients = 13;
  c.lower_hz = 60;
  c.upper_hz = 3800;
  c.output_scale = 0.25f;
  return c;
}
AudioFrontEndConfig wide_config() {  // 64 ms window: the largest FFT compiled in
  AudioFrontEndConfig c;
  c.window_ms = 64;
  c.stride_ms = 32;
  c.mel_channels = 64;
  c.upper_hz = 8000;
  c.output_scale = 0.25f;
  return c;
}

std::vector<int16_t> test_signal(size_t n) {
  std::vector<int16_t> x(n);
  audio_test::make_test_signal(x);
  return x;
}

struct Stage {
  const char* name;
  AudioFrontEndConfig (*config)();
};

void PrintTo(const Stage& stage, std::ostream* os) { *os << stage.name; }

class AudioStages : public ::testing::TestWithParam<Stage> {};

// Per row: each stage's fixed-point output against the double definition applied to the previous
// fixed-point stage's output (so each bound is that stage's own error), and the whole pipeline
// against the double pipeline from the samples.
TEST_P(AudioStages, EveryStageWithinItsBoundOfTheDoubleReference) {
  const AudioFrontEndConfig c = GetParam().config();
  Configured f(c);
  ASSERT_EQ(f.status, AudioStatus::kOk) << to_string(f.status);
  const std::vector<int16_t> x = test_signal(c.sample_rate_hz);  // one second
  std::vector<RefRow> ref = RefFrontEnd(c).run(x);
  ASSERT_EQ(ref.size(), c.rows_for(x.size()));
  const uint32_t n = c.fft_size(), l = c.window_samples(), s = c.stride_samples();
  const double unit = std::ldexp(1.0, -f.fe.headroom_shift());  // one FFT output unit, in int16 units
  const audio_test::RefBank bank = audio_test::ref_bank(c);
  std::vector<int8_t> row(c.features_per_row());
  size_t r = 0;
  double worst_fft = 0, worst_log = 0, worst_end = 0;
  int quant_off = 0;
  for (size_t at = 0; at + s <= x.size(); at += s) {
    bool ready = false;
    ASSERT_EQ(f.fe.push_stride({x.data() + at, s}, row, ready), AudioStatus::kOk);
    if (!ready) continue;
    const RefRow& want = ref[r];
    const int16_t* window = x.data() + at + s - l;
    double abs_sum = 0;
    for (uint32_t j = 0; j < l; ++j) abs_sum += std::abs(window[j]);
    // FFT (with the window): Hann in Q15 (<= 2^-16 off per sample), y rounded to a unit per
    // sample (<= L/2 units), the FFT's own rounding (<= N/2 + 2 units, real_fft_test).
    const double fft_bound = std::ldexp(abs_sum, -16) + (l / 2.0 + n / 2.0 + 2) * unit;
    const auto y = f.fe.fft_output();
    for (uint32_t k = 0; k <= n / 2; ++k) {
      const std::complex<double> got = k == 0       ? std::complex<double>(y[0], 0)
                                       : k == n / 2 ? std::complex<double>(y[1], 0)
                                                    : std::complex<double>(y[2 * k], y[2 * k + 1]);
      const double err = std::abs(got * unit - want.spectrum[k]);
      worst_fft = std::max(worst_fft, err / fft_bound);
      ASSERT_LE(err, fft_bound) << GetParam().name << " row " << r << " bin " << k;
      // Power: the square of the fixed spectrum, rounded to an integer.
      ASSERT_NEAR(double(f.fe.power(k)), std::norm(got * unit), 0.5 + 1e-9 * std::norm(got * unit)) << "bin " << k;
    }
    // Mel energies (without noise reduction, which changes them): the double triangles on the
    // fixed powers; Q15 weights (2^-16 each, plus the weight's own 2^-19 from the log2 of the
    // mel positions) and one floor per bin.
    if (c.noise_reduction == 0) {
      std::vector<double> power(n / 2 + 1);
      for (uint32_t k = 0; k <= n / 2; ++k) power[k] = double(f.fe.power(k));
      const std::vector<double> e = audio_test::ref_energies(c, power);
      std::vector<double> bound(c.mel_channels, 0.0);
      for (uint32_t k = 0; k <= n / 2; ++k) {
        const int j = bank.segment[k];
        if (j < 0) continue;
        for (int m : {j, j - 1}) {
          if (m >= 0 && m < c.mel_channels) bound[m] += std::ldexp(power[k], -14) + 1;
        }
      }
      for (int m = 0; m < c.mel_channels; ++m) {
        ASSERT_NEAR(double(f.fe.mel_energies()[m]), e[m], bound[m]) << GetParam().name << " row " << r << " ch " << m;
      }
    }
    // Log: ln(E + 1) of the fixed energies, log2 within 2^-22 then Q16: within 2^-15 nats.
    std::vector<double> log_fixed(c.mel_channels);
    for (int m = 0; m < c.mel_channels; ++m) {
      log_fixed[m] = f.fe.log_mel_q16()[m] / 65536.0;
      const double err = std::fabs(log_fixed[m] - std::log(double(f.fe.mel_energies()[m]) + 1));
      worst_log = std::max(worst_log, err);
      ASSERT_LE(err, std::ldexp(1.0, -15)) << "log row " << r << " ch " << m;
    }
    // MFCC: the double DCT of the fixed log-mel; Q15 coefficients (2^-16 each) and Q16 output.
    std::vector<double> features = log_fixed;
    if (c.mfcc_coefficients != 0) {
      const std::vector<double> dct = audio_test::ref_dct(log_fixed, c.mfcc_coefficients);
      double sum = 0;
      for (double v : log_fixed) sum += std::fabs(v);
      for (int i = 0; i < c.mfcc_coefficients; ++i) {
        features[i] = f.fe.mfcc_q16()[i] / 65536.0;
        ASSERT_NEAR(features[i], dct[i], std::ldexp(sum, -16) + std::ldexp(1.0, -15)) << "mfcc row " << r << " " << i;
      }
      features.resize(c.mfcc_coefficients);
    }
    // Quantisation of the fixed features: exactly round(v / scale) + zero point.
    for (size_t i = 0; i < row.size(); ++i) {
      ASSERT_EQ(row[i], audio_test::ref_quantise(features[i], c)) << "feature " << i << " row " << r;
    }
    // End to end against the double pipeline from the samples: log-mel within 0.01 nats where
    // the channel holds energy (E >= 1e4, an amplitude of about one LSB), int8 within one step.
    for (int m = 0; m < c.mel_channels; ++m) {
      if (want.mel[m] < 1e4) continue;
      const double err = std::fabs(log_fixed[m] - want.log_mel[m]);
      worst_end = std::max(worst_end, err);
      ASSERT_LE(err, 0.01) << GetParam().name << " row " << r << " ch " << m << " E_ref " << want.mel[m];
    }
    for (size_t i = 0; i < row.size(); ++i) {
      if (std::abs(row[i] - want.quantised[i]) > 0) ++quant_off;
      ASSERT_LE(std::abs(row[i] - want.quantised[i]), 1) << "int8 feature " << i << " row " << r;
    }
    ++r;
  }
  ASSERT_EQ(r, ref.size());
  std::printf(
      "%s: %zu rows; worst FFT error %.3f of its bound, log %.2e nats, end-to-end log-mel %.2e nats, "
      "%d of %zu int8 features one step off the double pipeline\n",
      GetParam().name, r, worst_fft, worst_log, worst_end, quant_off, r * row.size());
}

INSTANTIATE_TEST_SUITE_P(Configs, AudioStages,
                         ::testing::Values(Stage{"log_mel", log_mel_config}, Stage{"mfcc", mfcc_config},
                                           Stage{"noise_reduced", noise_reduced_config},
                                           Stage{"narrowband", narrowband_config}, Stage{"wide", wide_config}),
                         [](const auto& info) { return std::string(info.param.name); });

std::vector<int16_t> tone(double hz, size_t n, double amplitude = 10000, uint32_t rate = 16000) {
  std::vector<int16_t> x(n);
  for (size_t i = 0; i < n; ++i)
    x[i] = static_cast<int16_t>(std::lround(amplitude * std::sin(2 * M_PI * hz * i / rate)));
  return x;
}

TEST(AudioFrontEnd, APureToneLandsInTheMelChannelCentredNearest) {
  const AudioFrontEndConfig c = log_mel_config();
  Configured f(c);
  ASSERT_EQ(f.status, AudioStatus::kOk);
  const double lo = audio_test::mel(c.lower_hz), spacing = (audio_test::mel(c.upper_hz) - lo) / (c.mel_channels + 1);
  for (double hz : {250.0, 440.0, 1000.0, 1733.0, 2500.0, 3600.0}) {
    const std::vector<int16_t> x = tone(hz, 16000);
    std::vector<int8_t> rows(c.rows_for(x.size()) * c.features_per_row());
    size_t n = 0;
    ASSERT_EQ(compute_clip(f.fe, x, rows, n), AudioStatus::kOk);
    // Channel m peaks at mel point m + 1.
    const int want = static_cast<int>(std::lround((audio_test::mel(hz) - lo) / spacing)) - 1;
    const auto e = f.fe.mel_energies();
    const int got = static_cast<int>(std::max_element(e.begin(), e.end()) - e.begin());
    EXPECT_EQ(got, want) << hz << " Hz landed in channel " << got;
    // The int8 row agrees: its largest feature is in that channel too.
    const int8_t* last = rows.data() + (n - 1) * c.features_per_row();
    EXPECT_EQ(std::max_element(last, last + c.features_per_row()) - last, want) << hz << " Hz, int8 row";
  }
}

TEST(AudioFrontEnd, SilenceGivesTheFloor) {
  for (auto make : {log_mel_config, mfcc_config, noise_reduced_config}) {
    const AudioFrontEndConfig c = make();
    Configured f(c);
    ASSERT_EQ(f.status, AudioStatus::kOk);
    const std::vector<int16_t> x(16000, 0);
    std::vector<int8_t> rows(c.rows_for(x.size()) * c.features_per_row(), 99);
    size_t n = 0;
    ASSERT_EQ(compute_clip(f.fe, x, rows, n), AudioStatus::kOk);
    ASSERT_EQ(n, 49u);
    for (uint64_t e : f.fe.mel_energies()) EXPECT_EQ(e, 0u);
    for (int32_t v : f.fe.log_mel_q16()) EXPECT_EQ(v, 0) << "ln(0 + 1) = 0 is the floor";
    for (int8_t v : rows) ASSERT_EQ(v, c.output_zero_point) << "silence quantises to the zero point";
  }
  // And the floor is the lowest a log-mel feature ever goes: the test signal never dips below it.
  const AudioFrontEndConfig c = log_mel_config();
  Configured f(c);
  const std::vector<int16_t> x = test_signal(16000);
  std::vector<int8_t> rows(c.rows_for(x.size()) * c.features_per_row());
  size_t n = 0;
  ASSERT_EQ(compute_clip(f.fe, x, rows, n), AudioStatus::kOk);
  for (int8_t v : rows) ASSERT_GE(v, c.output_zero_point);
}

TEST(AudioFrontEnd, StreamingRowByRowEqualsTheBatchHelperBitForBit) {
  for (auto make : {log_mel_config, mfcc_config, noise_reduced_config, narrowband_config}) {
    const AudioFrontEndConfig c = make();
    const std::vector<int16_t> x = test_signal(3 * c.sample_rate_hz + 123);  // a partial stride at the end
    Configured batch(c);
    std::vector<int8_t> all(c.rows_for(x.size()) * c.features_per_row());
    size_t rows = 0;
    ASSERT_EQ(compute_clip(batch.fe, x, all, rows), AudioStatus::kOk);
    ASSERT_EQ(rows, c.rows_for(x.size()));
    // A second front-end, fed one stride at a time as a microphone would.
    Configured stream(c);
    std::vector<int8_t> streamed;
    std::vector<int8_t> row(c.features_per_row());
    for (size_t at = 0; at + c.stride_samples() <= x.size(); at += c.stride_samples()) {
      bool ready = false;
      ASSERT_EQ(stream.fe.push_stride({x.data() + at, c.stride_samples()}, row, ready), AudioStatus::kOk);
      if (ready) streamed.insert(streamed.end(), row.begin(), row.end());
    }
    ASSERT_EQ(streamed, all);
    // The batch helper resets: a second run over the same clip gives the same bits.
    std::vector<int8_t> again(all.size());
    ASSERT_EQ(compute_clip(batch.fe, x, again, rows), AudioStatus::kOk);
    EXPECT_EQ(again, all);
  }
}

TEST(AudioFrontEnd, OneSecondGivesFortyNineRowsAsTheKwsModelTakes) {
  AudioFrontEndConfig c = mfcc_config();
  EXPECT_EQ(c.rows_for(16000), 49u);
  c.window_ms = 40;
  EXPECT_EQ(c.rows_for(16000), 49u);
  EXPECT_EQ(c.rows_for(c.window_samples() - 1), 0u);
  EXPECT_EQ(c.rows_for(640), 1u);  // two strides fill the 40 ms window: the first row
}

TEST(AudioFrontEnd, NoiseReductionLowersASteadyNoiseFloorAndKeepsAToneBurst) {
  // Two seconds of steady hiss, a 1 kHz burst in the last half second.
  std::vector<int16_t> x(32000);
  uint32_t s = 9;
  for (auto& v : x) {
    s = s * 1664525u + 1013904223u;
    v = static_cast<int16_t>(static_cast<int32_t>(s >> 20) - 2048);
  }
  const std::vector<int16_t> t = tone(1000, 8000, 8000);
  for (size_t i = 0; i < t.size(); ++i) x[24000 + i] = static_cast<int16_t>(x[24000 + i] + t[i]);
  auto run = [&](uint8_t nr) {
    AudioFrontEndConfig c = log_mel_config();
    c.noise_reduction = nr;
    Configured f(c);
    std::vector<std::vector<int32_t>> logs;
    std::vector<int8_t> row(c.features_per_row());
    for (size_t at = 0; at + 320 <= x.size(); at += 320) {
      bool ready = false;
      EXPECT_EQ(f.fe.push_stride({x.data() + at, 320}, row, ready), AudioStatus::kOk);
      if (ready) logs.emplace_back(f.fe.log_mel_q16().begin(), f.fe.log_mel_q16().end());
    }
    return logs;
  };
  const auto off = run(0), on = run(1);
  // Hiss only, 0.8 s to 1.5 s in (the floor estimate has settled): every channel drops on
  // average, the whole spectrum by more than a nat. (A frame's energy in a narrow channel
  // fluctuates around the floor, so single frames keep more than the E/32 floor.)
  double total = 0;
  for (int m = 0; m < 40; ++m) {
    double drop = 0;
    for (size_t r = 40; r < 75; ++r) drop += (off[r][m] - on[r][m]) / 65536.0;
    drop /= 35;
    total += drop / 40;
    EXPECT_GE(drop, 0.5) << "hiss, channel " << m;
  }
  EXPECT_GE(total, 1.0) << "mean drop of the hiss over all channels, nats";
  // The tone's onset (row 80: the window is all burst since row 75) keeps its level within 0.5
  // nats: the floor follows it only at 1/32 per stride.
  const double lo = audio_test::mel(20), spacing = (audio_test::mel(4000) - lo) / 41;
  const int ch = static_cast<int>(std::lround((audio_test::mel(1000) - lo) / spacing)) - 1;  // 1 kHz's channel
  EXPECT_LE(off[80][ch] - on[80][ch], 0.5 * 65536) << "the tone burst survives noise reduction, channel " << ch;
  EXPECT_GE(off[80][ch] - off[60][ch], 3 * 65536) << "the burst stands 3 nats above the hiss";
}

TEST(AudioFrontEnd, ValidateRefusesWhatItCannotRunAndSaysWhy) {
  struct Bad {
    void (*edit)(AudioFrontEndConfig&);
    AudioStatus want;
    const char* words;
  };
  const Bad cases[] = {
      {[](AudioFrontEndConfig& c) { c.sample_rate_hz = 96000; }, AudioStatus::kSampleRateOutOfRange, "sample rate"},
      {[](AudioFrontEndConfig& c) { c.sample_rate_hz = 0; }, AudioStatus::kSampleRateOutOfRange, "sample rate"},
      {[](AudioFrontEndConfig& c) {
         c.sample_rate_hz = 44100;
         c.window_ms = 25;
       },
       AudioStatus::kWindowNotWholeSamples, "window_ms"},
      {[](AudioFrontEndConfig& c) { c.stride_ms = 0; }, AudioStatus::kStrideOutOfRange, "stride"},
      {[](AudioFrontEndConfig& c) { c.stride_ms = 40; }, AudioStatus::kStrideOutOfRange, "longer than the window"},
      {[](AudioFrontEndConfig& c) {
         c.sample_rate_hz = 11025;
         c.window_ms = 40;
         c.stride_ms = 21;
       },
       AudioStatus::kStrideNotWholeSamples, "stride_ms"},
      {[](AudioFrontEndConfig& c) { c.window_ms = 65; }, AudioStatus::kWindowTooLarge, "FFT larger than the 1024"},
      {[](AudioFrontEndConfig& c) { c.window_ms = 0; }, AudioStatus::kWindowTooShort, "shorter"},
      {[](AudioFrontEndConfig& c) { c.mel_channels = 0; }, AudioStatus::kMelChannelsOutOfRange, "mel channels"},
      {[](AudioFrontEndConfig& c) { c.mel_channels = 65; }, AudioStatus::kMelChannelsOutOfRange, "mel channels"},
      {[](AudioFrontEndConfig& c) { c.mfcc_coefficients = 41; }, AudioStatus::kMfccOutOfRange, "MFCC"},
      {[](AudioFrontEndConfig& c) { c.lower_hz = 4000; }, AudioStatus::kFrequencyRangeInvalid, "lower"},
      {[](AudioFrontEndConfig& c) { c.upper_hz = 8001; }, AudioStatus::kFrequencyRangeInvalid, "half the sample rate"},
      {[](AudioFrontEndConfig& c) { c.output_scale = 0.0f; }, AudioStatus::kOutputScaleInvalid, "output scale"},
      {[](AudioFrontEndConfig& c) { c.output_scale = -0.5f; }, AudioStatus::kOutputScaleInvalid, "output scale"},
      {[](AudioFrontEndConfig& c) { c.output_scale = NAN; }, AudioStatus::kOutputScaleInvalid, "output scale"},
  };
  EXPECT_EQ(AudioFrontEndConfig{}.validate(), AudioStatus::kOk);
  for (const Bad& b : cases) {
    AudioFrontEndConfig c;
    b.edit(c);
    const AudioStatus got = c.validate();
    EXPECT_EQ(got, b.want) << to_string(got);
    EXPECT_NE(std::string(to_string(got)).find(b.words), std::string::npos) << to_string(got);
    // A node given that config refuses it with the same reason and stays unconfigured.
    std::vector<uint64_t> ws(4096);
    AudioFrontEnd fe;
    EXPECT_EQ(fe.configure(c, {reinterpret_cast<uint8_t*>(ws.data()), ws.size() * 8}), b.want);
    EXPECT_FALSE(fe.configured());
    EXPECT_EQ(workspace_bytes(c), 0u);
  }
}

TEST(AudioFrontEnd, BuffersThatDoNotFitAreRefusedAndNothingIsWritten) {
  const AudioFrontEndConfig c = mfcc_config();
  const size_t need = workspace_bytes(c);
  ASSERT_GT(need, 0u);
  std::vector<uint64_t> ws(need / 8 + 2);
  auto* bytes = reinterpret_cast<uint8_t*>(ws.data());
  AudioFrontEnd fe;
  EXPECT_EQ(fe.configure(c, {bytes, need - 1}), AudioStatus::kWorkspaceTooSmall);
  EXPECT_EQ(fe.configure(c, {bytes + 4, need}), AudioStatus::kWorkspaceTooSmall) << "misaligned";
  std::vector<int8_t> row(c.features_per_row());
  bool ready = true;
  const std::vector<int16_t> stride(c.stride_samples(), 100);
  EXPECT_EQ(fe.push_stride(stride, row, ready), AudioStatus::kNotConfigured);
  EXPECT_FALSE(ready);
  ASSERT_EQ(fe.configure(c, {bytes, need}), AudioStatus::kOk);
  EXPECT_EQ(fe.push_stride({stride.data(), stride.size() - 1}, row, ready), AudioStatus::kWrongStrideLength);
  EXPECT_EQ(fe.push_stride(stride, {row.data(), row.size() - 1}, ready), AudioStatus::kOutputTooSmall);
  // A clip whose rows do not fit the output: refused before anything is written.
  const std::vector<int16_t> clip = test_signal(16000);
  std::vector<int8_t> out(48 * c.features_per_row(), 42);
  size_t rows = 7;
  EXPECT_EQ(compute_clip(fe, clip, out, rows), AudioStatus::kOutputTooSmall);
  EXPECT_EQ(rows, 0u);
  for (int8_t v : out) ASSERT_EQ(v, 42);
}

}  // namespace
}  // namespace tinyedge::audio
