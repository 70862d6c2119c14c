// Runs on the emulated Cortex-M4 (qemu mps2-an386, -icount shift=0): computes the features of the
// fixed test signal one stride at a time, as a microphone would feed them, and prints every row
// in hex with the instructions it took (SysTick on the processor clock: one tick is 40
// instructions at 25 MHz with one instruction per virtual nanosecond), the workspace and state
// sizes. audio_m4_test compares the rows with the host's, bit for bit.
#include <cstdint>

#include "node_firmware/audio/front_end.h"
#include "tests/audio/m4/m4_configs.h"
#include "tests/audio/test_signal.h"

namespace {

void sh_write0(const char* s) {
  register int r0 asm("r0") = 0x04;  // SYS_WRITE0
  register const char* r1 asm("r1") = s;
  asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
}

void print(const char* label, uint32_t value) {
  char buf[80];
  int n = 0;
  for (const char* p = label; *p != '\0' && n < 60; ++p) buf[n++] = *p;
  char digits[11];
  int d = 0;
  do {
    digits[d++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (d > 0) buf[n++] = digits[--d];
  buf[n++] = '\n';
  buf[n] = '\0';
  sh_write0(buf);
}

struct SysTick {
  volatile uint32_t ctrl, load, val, calib;
};
SysTick& systick() { return *reinterpret_cast<SysTick*>(0xE000E010u); }
constexpr uint32_t kInstructionsPerTick = 40;  // 25 MHz processor clock, 1 instruction per ns

alignas(8) uint8_t g_workspace[8192];
int16_t g_signal[tinyedge::audio_test::kM4Samples];

}  // namespace

int main() {
  using namespace tinyedge;
  systick().load = 0xFFFFFF;
  systick().val = 0;
  systick().ctrl = 0x5;  // enabled, processor clock, no interrupt: polled around each stride
  const uint32_t start = systick().val;
  audio_test::make_test_signal(g_signal);
  for (int i = 0; i < audio_test::kM4Cases; ++i) {
    const audio_test::M4Case test = audio_test::m4_case(i);
    sh_write0("audio: case ");
    sh_write0(test.name);
    sh_write0("\n");
    audio::AudioFrontEnd fe;
    uint32_t t0 = systick().val;
    if (fe.configure(test.config, g_workspace) != audio::AudioStatus::kOk) {
      sh_write0("audio: configure FAILED\n");
      continue;
    }
    print("audio: configure instructions ", ((t0 - systick().val) & 0xFFFFFF) * kInstructionsPerTick);
    print("audio: workspace bytes ", static_cast<uint32_t>(audio::workspace_bytes(test.config)));
    print("audio: state bytes ", sizeof(audio::AudioFrontEnd));
    const uint32_t stride = test.config.stride_samples();
    int8_t row[64];
    uint64_t ticks = 0;
    uint32_t rows = 0, max_stride_ticks = 0;
    for (uint32_t at = 0; at + stride <= audio_test::kM4Samples; at += stride) {
      bool ready = false;
      t0 = systick().val;
      const audio::AudioStatus s = fe.push_stride({g_signal + at, stride}, {row, 64}, ready);
      const uint32_t dt = (t0 - systick().val) & 0xFFFFFF;
      ticks += dt;
      if (dt > max_stride_ticks) max_stride_ticks = dt;
      if (s != audio::AudioStatus::kOk) sh_write0("audio: push FAILED\n");
      if (!ready) continue;
      static const char kHex[] = "0123456789abcdef";
      char line[160] = "audio: r ";
      int n = 9;
      for (uint32_t k = 0; k < test.config.features_per_row(); ++k) {
        line[n++] = kHex[static_cast<uint8_t>(row[k]) >> 4];
        line[n++] = kHex[static_cast<uint8_t>(row[k]) & 15];
      }
      line[n++] = '\n';
      line[n] = '\0';
      sh_write0(line);
      ++rows;
    }
    print("audio: rows ", rows);
    print("audio: instructions per second of audio ", static_cast<uint32_t>(ticks * kInstructionsPerTick));
    print("audio: most instructions in one stride ", max_stride_ticks * kInstructionsPerTick);
  }
  // The whole run, to check this clock against qemu's own instruction trace (-d exec).
  print("audio: instructions since main ", ((start - systick().val) & 0xFFFFFF) * kInstructionsPerTick);
  sh_write0("RESULT DONE\n");
  return 0;
}
