// The audio front-end record a model carries: what the trainer writes is what the node reads, and
// a record the node cannot run (another sensor's, a corrupt one, a config outside this build's
// limits) is refused with its reason and leaves the node's config untouched.
#include "node_firmware/audio/front_end_record.h"

#include <gtest/gtest.h>

#include <array>
#include <cstring>

namespace tinyedge::audio {
namespace {

AudioFrontEndConfig kws_like() {
  AudioFrontEndConfig c;
  c.window_ms = 40;
  c.stride_ms = 20;
  c.mel_channels = 40;
  c.mfcc_coefficients = 10;
  c.lower_hz = 20;
  c.upper_hz = 4000;
  c.noise_reduction = 1;
  c.output_zero_point = -5;
  c.output_scale = 0.25f;
  return c;
}

std::array<uint8_t, kFrontEndRecordBytes> record_of(const AudioFrontEndConfig& c) {
  std::array<uint8_t, kFrontEndRecordBytes> r{};
  encode_front_end(c, r);
  return r;
}

TEST(FrontEndRecord, RoundTripsEveryField) {
  const AudioFrontEndConfig in = kws_like();
  AudioFrontEndConfig out;
  ASSERT_EQ(decode_front_end(record_of(in), out), AudioStatus::kOk);
  EXPECT_EQ(out.sample_rate_hz, in.sample_rate_hz);
  EXPECT_EQ(out.window_ms, in.window_ms);
  EXPECT_EQ(out.stride_ms, in.stride_ms);
  EXPECT_EQ(out.mel_channels, in.mel_channels);
  EXPECT_EQ(out.mfcc_coefficients, in.mfcc_coefficients);
  EXPECT_EQ(out.lower_hz, in.lower_hz);
  EXPECT_EQ(out.upper_hz, in.upper_hz);
  EXPECT_EQ(out.noise_reduction, in.noise_reduction);
  EXPECT_EQ(out.output_zero_point, in.output_zero_point);
  EXPECT_EQ(std::memcmp(&out.output_scale, &in.output_scale, 4), 0) << "the scale's bits must survive exactly";
}

TEST(FrontEndRecord, LayoutIsLittleEndianWithItsMagicFirst) {
  const auto r = record_of(kws_like());
  EXPECT_EQ(r[0], 'A');
  EXPECT_EQ(r[1], 'F');
  EXPECT_EQ(r[2], 'E');
  EXPECT_EQ(r[3], '1');
  EXPECT_EQ(r[4] | (r[5] << 8), 16000) << "sample rate at byte 4, little-endian";
}

TEST(FrontEndRecord, RefusesWhatItCannotRunAndLeavesTheConfigAlone) {
  const AudioFrontEndConfig sentinel = [] {
    AudioFrontEndConfig c;
    c.mel_channels = 7;
    return c;
  }();
  auto expect_refused = [&](std::span<const uint8_t> bytes, AudioStatus want, const char* what) {
    AudioFrontEndConfig out = sentinel;
    EXPECT_EQ(decode_front_end(bytes, out), want) << what;
    EXPECT_EQ(out.mel_channels, 7) << what << ": a refused record must not change the config";
  };
  auto r = record_of(kws_like());
  expect_refused(std::span(r).first(kFrontEndRecordBytes - 1), AudioStatus::kNotAudioRecord, "short record");
  auto wrong_magic = r;
  wrong_magic[3] = '2';
  expect_refused(wrong_magic, AudioStatus::kNotAudioRecord, "another layout's magic");
  auto reserved = r;
  reserved[22] = 1;
  expect_refused(reserved, AudioStatus::kNotAudioRecord, "reserved bytes set");
  auto noise = r;
  noise[20] = 2;
  expect_refused(noise, AudioStatus::kNotAudioRecord, "unknown noise-reduction mode");
  AudioFrontEndConfig too_many_mels = kws_like();
  too_many_mels.mel_channels = kMaxMelChannels + 1;
  expect_refused(record_of(too_many_mels), AudioStatus::kMelChannelsOutOfRange, "mel channels beyond this build");
  AudioFrontEndConfig long_window = kws_like();
  long_window.window_ms = 128;  // 2048 samples: an FFT larger than compiled in
  expect_refused(record_of(long_window), AudioStatus::kWindowTooLarge, "window beyond the compiled FFT");
}

}  // namespace
}  // namespace tinyedge::audio
