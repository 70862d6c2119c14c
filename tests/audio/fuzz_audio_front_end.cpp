// libFuzzer: any config bytes and any samples. A config is either refused by validate() or runs
// over the samples without touching memory outside the workspace and the output (ASan/UBSan);
// the same bytes also go through the WAV parser.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "node_firmware/audio/front_end.h"
#include "node_firmware/audio/wav.h"

using namespace tinyedge::audio;

alignas(8) static uint8_t workspace[32 * 1024];
static int8_t features[64 * 1024];

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const WavInfo info = parse_wav({data, size}, 16000);
  if (info.status == WavStatus::kOk && info.samples > 0) (void)wav_sample({data, size}, info, info.samples - 1);

  if (size < 20) return 0;
  // Mostly plausible configs (so the pipeline itself gets fuzzed), some out of every range.
  auto u16 = [&](size_t at) { return static_cast<uint16_t>(data[at] | data[at + 1] << 8); };
  static constexpr uint32_t kRates[] = {8000, 11025, 16000, 22050, 44100, 48000, 4000, 96000};
  AudioFrontEndConfig c;
  c.sample_rate_hz = data[0] < 240 ? kRates[data[0] % 8] : u16(2) * 2u;
  c.window_ms = data[1] < 250 ? 1 + u16(4) % 80 : u16(4);
  c.stride_ms = 1 + u16(6) % (c.window_ms + 2);
  c.mel_channels = u16(8) % 70;
  c.mfcc_coefficients = data[10] < 128 ? 0 : u16(10) % 70;
  c.lower_hz = u16(12) % 8000;
  c.upper_hz = c.lower_hz + u16(14) % 9000;
  c.noise_reduction = data[16] & 1;
  c.output_zero_point = static_cast<int8_t>(data[17]);
  // Scale 2^-20 .. 2^13 (the top three refused), any mantissa; byte 18 >= 250: raw bits (NaN, ...).
  const uint32_t bits =
      data[18] < 250 ? ((107u + data[18] % 34) << 23) | (uint32_t{data[19]} << 15) : uint32_t{u16(18)} << 16;
  std::memcpy(&c.output_scale, &bits, 4);

  AudioFrontEnd fe;
  if (fe.configure(c, workspace) != AudioStatus::kOk) return 0;
  if (workspace_bytes(c) > sizeof(workspace)) __builtin_trap();  // configure must have refused
  const size_t samples = (size - 20) / 2;
  int16_t pcm[8192];
  const size_t n = samples < 8192 ? samples : 8192;
  std::memcpy(pcm, data + 20, n * 2);
  size_t rows = 0;
  const size_t limit = sizeof(features) / c.features_per_row();
  const size_t use = c.rows_for(n) <= limit ? n : 0;
  if (compute_clip(fe, {pcm, use}, features, rows) != AudioStatus::kOk) __builtin_trap();
  if (rows != c.rows_for(use)) __builtin_trap();
  return 0;
}
