#include "node_firmware/audio/wav.h"

namespace tinyedge::audio {
namespace {

constexpr uint16_t kFormatPcm = 1;
constexpr uint16_t kFormatExtensible = 0xFFFE;

uint32_t u32(std::span<const uint8_t> b, uint64_t at) {
  return uint32_t{b[at]} | uint32_t{b[at + 1]} << 8 | uint32_t{b[at + 2]} << 16 | uint32_t{b[at + 3]} << 24;
}
uint16_t u16(std::span<const uint8_t> b, uint64_t at) { return static_cast<uint16_t>(b[at] | b[at + 1] << 8); }
bool tag(std::span<const uint8_t> b, uint64_t at, const char* t) {
  return b[at] == t[0] && b[at + 1] == t[1] && b[at + 2] == t[2] && b[at + 3] == t[3];
}

}  // namespace

const char* to_string(WavStatus status) {
  switch (status) {
    case WavStatus::kOk:
      return "ok";
    case WavStatus::kNotWav:
      return "not a WAV file (no RIFF/WAVE header)";
    case WavStatus::kTruncated:
      return "truncated: a chunk or the samples end before their header says";
    case WavStatus::kNoFormat:
      return "no fmt chunk before the data";
    case WavStatus::kNotPcm:
      return "not PCM (compressed or floating-point samples)";
    case WavStatus::kWrongChannels:
      return "not mono";
    case WavStatus::kWrongRate:
      return "wrong sample rate";
    case WavStatus::kWrongBitDepth:
      return "not 16-bit samples";
    case WavStatus::kNoData:
      return "no data chunk";
  }
  return "unknown WAV status";
}

WavInfo parse_wav(std::span<const uint8_t> bytes, uint32_t expected_rate) {
  WavInfo info;
  if (bytes.size() < 12 || !tag(bytes, 0, "RIFF") || !tag(bytes, 8, "WAVE")) return info;
  bool have_format = false;
  // 64-bit offsets: a hostile chunk size cannot wrap them on a 32-bit node.
  const uint64_t end = bytes.size();
  uint64_t at = 12;
  while (true) {
    if (at + 8 > end) {
      info.status = at == end ? (have_format ? WavStatus::kNoData : WavStatus::kNoFormat) : WavStatus::kTruncated;
      return info;
    }
    const uint32_t size = u32(bytes, at + 4);
    const uint64_t body = at + 8;
    if (tag(bytes, at, "fmt ")) {
      if (size < 16 || body + size > end) {
        info.status = WavStatus::kTruncated;
        return info;
      }
      info.format_tag = u16(bytes, body);
      info.channels = u16(bytes, body + 2);
      info.sample_rate = u32(bytes, body + 4);
      info.bits_per_sample = u16(bytes, body + 14);
      // WAVE_FORMAT_EXTENSIBLE names its real format in the first two bytes of the sub-format GUID.
      const bool extensible_pcm =
          info.format_tag == kFormatExtensible && size >= 40 && u16(bytes, body + 24) == kFormatPcm;
      if (info.format_tag != kFormatPcm && !extensible_pcm) {
        info.status = WavStatus::kNotPcm;
        return info;
      }
      if (info.channels != 1) {
        info.status = WavStatus::kWrongChannels;
        return info;
      }
      if (info.sample_rate != expected_rate) {
        info.status = WavStatus::kWrongRate;
        return info;
      }
      if (info.bits_per_sample != 16) {
        info.status = WavStatus::kWrongBitDepth;
        return info;
      }
      have_format = true;
    } else if (tag(bytes, at, "data")) {
      if (!have_format) {
        info.status = WavStatus::kNoFormat;
        return info;
      }
      // A data chunk longer than the file, or an odd byte count, means samples are missing.
      if (body + size > end || size % 2 != 0) {
        info.status = WavStatus::kTruncated;
        return info;
      }
      info.data_offset = static_cast<size_t>(body);
      info.samples = size / 2;
      info.status = WavStatus::kOk;
      return info;
    }
    at = body + size + (size & 1);  // chunks are padded to an even length
    if (at > end) {
      info.status = WavStatus::kTruncated;
      return info;
    }
  }
}

}  // namespace tinyedge::audio
