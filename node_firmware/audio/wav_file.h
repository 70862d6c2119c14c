// Host side of WAV input (the host node's microphone, the trainer's data sets): reads a file
// through parse_wav with errors that name the file, and writes one atomically.
#pragma once
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace tinyedge::audio {

struct WavClip {
  std::vector<int16_t> samples;
  std::string error;  // empty when the file was read; else "<file>: <what is wrong>"
  bool ok() const { return error.empty(); }
};

// Reads a mono 16-bit PCM WAV recorded at `expected_rate`.
WavClip read_wav_file(const std::filesystem::path& path, uint32_t expected_rate = 16000);

// Writes mono 16-bit PCM through a temporary file renamed into place, so a reader never sees a
// half-written file. Returns an error sentence naming the file, or "".
std::string write_wav_file(const std::filesystem::path& path, std::span<const int16_t> samples,
                           uint32_t sample_rate = 16000);

// The bytes of such a file (for tests that build bad files from good ones).
std::vector<uint8_t> wav_bytes(std::span<const int16_t> samples, uint32_t sample_rate, uint16_t channels = 1,
                               uint16_t bits_per_sample = 16, uint16_t format_tag = 1);

}  // namespace tinyedge::audio
