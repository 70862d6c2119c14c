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
  AudioFrontEndConfig c;
  std::memcpy(&c.sample_rate_hz, data, 4);
  c.sample_rate_hz %= 50000;
  std::memcpy(&c.window_ms, data + 4, 2);
  std::memcpy(&c.stride_ms, data + 6, 2);
  std::memcpy(&c.mel_channels, data + 8, 2);
  std::memcpy(&c.mfcc_coefficients, data + 10, 2);
  std::memcpy(&c.lower_hz, data + 12, 2);
  std::memcpy(&c.upper_hz, data + 14, 2);
  c.noise_reduction = data[16] & 1;
  c.output_zero_point = static_cast<int8_t>(data[17]);
  uint16_t scale_bits;  // scales 2^-24 .. 2^16 and some invalid ones
  std::memcpy(&scale_bits, data + 18, 2);
  const uint32_t bits = (uint32_t{scale_bits} << 16) & 0x7FFFFFFFu;
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
