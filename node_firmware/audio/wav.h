// RIFF/WAVE parsing from bytes in memory (a file on the host, a sample in flash on the node): finds
// the PCM format and the data chunk and says exactly what is wrong with anything else.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

namespace tinyedge::audio {

enum class WavStatus : uint8_t {
  kOk,
  kNotWav,         // no "RIFF....WAVE" header
  kTruncated,      // a chunk or the sample data is shorter than its header says
  kNoFormat,       // no "fmt " chunk before the data
  kNotPcm,         // compressed or floating-point samples
  kWrongChannels,  // not mono
  kWrongRate,      // not the expected sample rate
  kWrongBitDepth,  // not 16-bit
  kNoData,         // no "data" chunk
};
const char* to_string(WavStatus status);

struct WavInfo {
  WavStatus status = WavStatus::kNotWav;
  uint32_t sample_rate = 0;  // as found, for the error message
  uint16_t channels = 0;
  uint16_t bits_per_sample = 0;
  uint16_t format_tag = 0;
  size_t data_offset = 0;  // little-endian int16 samples start here
  size_t samples = 0;
};

// Mono 16-bit PCM at `expected_rate` is accepted; everything else is refused with its reason.
WavInfo parse_wav(std::span<const uint8_t> bytes, uint32_t expected_rate);

inline int16_t wav_sample(std::span<const uint8_t> bytes, const WavInfo& info, size_t i) {
  const size_t at = info.data_offset + 2 * i;
  return static_cast<int16_t>(static_cast<uint16_t>(bytes[at] | (bytes[at + 1] << 8)));
}

}  // namespace tinyedge::audio
