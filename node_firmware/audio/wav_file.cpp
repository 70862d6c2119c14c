#include "node_firmware/audio/wav_file.h"

#include <cstdio>
#include <fstream>
#include <iterator>
#include <system_error>

#include "node_firmware/audio/wav.h"

namespace tinyedge::audio {
namespace {

void put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v));
  out.push_back(static_cast<uint8_t>(v >> 8));
}
void put32(std::vector<uint8_t>& out, uint32_t v) {
  put16(out, static_cast<uint16_t>(v));
  put16(out, static_cast<uint16_t>(v >> 16));
}
void put_tag(std::vector<uint8_t>& out, const char* t) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(t[i]));
}

}  // namespace

WavClip read_wav_file(const std::filesystem::path& path, uint32_t expected_rate) {
  WavClip clip;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    clip.error = path.string() + ": cannot open";
    return clip;
  }
  const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const WavInfo info = parse_wav(bytes, expected_rate);
  switch (info.status) {
    case WavStatus::kOk:
      break;
    case WavStatus::kWrongRate:
      clip.error = path.string() + ": sample rate " + std::to_string(info.sample_rate) + " Hz, expected " +
                   std::to_string(expected_rate) + " Hz";
      return clip;
    case WavStatus::kWrongChannels:
      clip.error = path.string() + ": " + std::to_string(info.channels) + " channels, expected mono";
      return clip;
    case WavStatus::kWrongBitDepth:
      clip.error = path.string() + ": " + std::to_string(info.bits_per_sample) + "-bit samples, expected 16-bit PCM";
      return clip;
    case WavStatus::kNotPcm:
      clip.error = path.string() + ": format tag " + std::to_string(info.format_tag) + " is not PCM";
      return clip;
    default:
      clip.error = path.string() + ": " + to_string(info.status);
      return clip;
  }
  clip.samples.resize(info.samples);
  for (size_t i = 0; i < info.samples; ++i) clip.samples[i] = wav_sample(bytes, info, i);
  return clip;
}

std::vector<uint8_t> wav_bytes(std::span<const int16_t> samples, uint32_t sample_rate, uint16_t channels,
                               uint16_t bits_per_sample, uint16_t format_tag) {
  const uint32_t data_bytes = static_cast<uint32_t>(samples.size() * 2);
  std::vector<uint8_t> out;
  out.reserve(44 + data_bytes);
  put_tag(out, "RIFF");
  put32(out, 36 + data_bytes);
  put_tag(out, "WAVE");
  put_tag(out, "fmt ");
  put32(out, 16);
  put16(out, format_tag);
  put16(out, channels);
  put32(out, sample_rate);
  const uint16_t block = static_cast<uint16_t>(channels * bits_per_sample / 8);
  put32(out, sample_rate * block);
  put16(out, block);
  put16(out, bits_per_sample);
  put_tag(out, "data");
  put32(out, data_bytes);
  for (const int16_t s : samples) put16(out, static_cast<uint16_t>(s));
  return out;
}

std::string write_wav_file(const std::filesystem::path& path, std::span<const int16_t> samples, uint32_t sample_rate) {
  const std::vector<uint8_t> bytes = wav_bytes(samples, sample_rate);
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(tmp, ignored);
      return path.string() + ": cannot write";
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return path.string() + ": cannot rename into place";
  }
  return "";
}

}  // namespace tinyedge::audio
