#include "node_firmware/audio/front_end_record.h"

#include <cstring>

namespace tinyedge::audio {
namespace {

// Byte offsets of the record's fields (little-endian).
enum Field : uint32_t {
  kMagic = 0,
  kSampleRate = 4,
  kWindowMs = 8,
  kStrideMs = 10,
  kMelChannels = 12,
  kMfcc = 14,
  kLowerHz = 16,
  kUpperHz = 18,
  kNoiseReduction = 20,
  kZeroPoint = 21,
  // 22..23 reserved, zero
  kScaleBits = 24,
};

void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
void put32(uint8_t* p, uint32_t v) {
  put16(p, static_cast<uint16_t>(v));
  put16(p + 2, static_cast<uint16_t>(v >> 16));
}
uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t get32(const uint8_t* p) { return get16(p) | (uint32_t{get16(p + 2)} << 16); }

}  // namespace

void encode_front_end(const AudioFrontEndConfig& c, std::span<uint8_t, kFrontEndRecordBytes> out) {
  uint8_t* p = out.data();
  std::memset(p, 0, kFrontEndRecordBytes);
  put32(p + kMagic, kFrontEndRecordMagic);
  put32(p + kSampleRate, c.sample_rate_hz);
  put16(p + kWindowMs, c.window_ms);
  put16(p + kStrideMs, c.stride_ms);
  put16(p + kMelChannels, c.mel_channels);
  put16(p + kMfcc, c.mfcc_coefficients);
  put16(p + kLowerHz, c.lower_hz);
  put16(p + kUpperHz, c.upper_hz);
  p[kNoiseReduction] = c.noise_reduction;
  p[kZeroPoint] = static_cast<uint8_t>(c.output_zero_point);
  uint32_t scale_bits;
  std::memcpy(&scale_bits, &c.output_scale, 4);
  put32(p + kScaleBits, scale_bits);
}

AudioStatus decode_front_end(std::span<const uint8_t> record, AudioFrontEndConfig& out) {
  if (record.size() != kFrontEndRecordBytes) return AudioStatus::kNotAudioRecord;
  const uint8_t* p = record.data();
  if (get32(p + kMagic) != kFrontEndRecordMagic || p[22] != 0 || p[23] != 0) return AudioStatus::kNotAudioRecord;
  AudioFrontEndConfig c;
  c.sample_rate_hz = get32(p + kSampleRate);
  c.window_ms = get16(p + kWindowMs);
  c.stride_ms = get16(p + kStrideMs);
  c.mel_channels = get16(p + kMelChannels);
  c.mfcc_coefficients = get16(p + kMfcc);
  c.lower_hz = get16(p + kLowerHz);
  c.upper_hz = get16(p + kUpperHz);
  c.noise_reduction = p[kNoiseReduction];
  c.output_zero_point = static_cast<int8_t>(p[kZeroPoint]);
  const uint32_t scale_bits = get32(p + kScaleBits);
  std::memcpy(&c.output_scale, &scale_bits, 4);
  if (c.noise_reduction > 1) return AudioStatus::kNotAudioRecord;
  if (const AudioStatus s = c.validate(); s != AudioStatus::kOk) return s;
  out = c;
  return AudioStatus::kOk;
}

}  // namespace tinyedge::audio
