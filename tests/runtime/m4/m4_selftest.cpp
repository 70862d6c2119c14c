// Runs on the emulated Cortex-M4 (qemu mps2-an386): the DSP (SXTB16/SMLAD) dot products against
// plain loops, and the tiny model's optimised kernels against the reference kernels. Prints
// "RESULT PASS" or "RESULT FAIL" over semihosting (newlib's exit status does not reach qemu).
#include <cstring>

#include "node_firmware/runtime/interpreter.h"
#include "node_firmware/runtime/kernels/dot.h"
#include "node_firmware/runtime/model.h"
#include "tests/runtime/tiny_model.h"

namespace {

void sh_write0(const char* s) {
  register int r0 asm("r0") = 0x04;  // SYS_WRITE0
  register const char* r1 asm("r1") = s;
  asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
}

alignas(4) uint8_t arena[8192];
alignas(4) uint8_t blob[8192];

}  // namespace

int main() {
  using namespace tinyedge;
#if !defined(__ARM_FEATURE_DSP)
  sh_write0("no DSP extension in this build\n");
#endif
  uint32_t s = 1;
  auto next = [&] {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    return static_cast<int8_t>(s >> 24);
  };
  int bad = 0;
  int8_t x[301], w[4 * 301];
  for (int t = 0; t < 300; ++t) {
    for (auto& v : x) v = next();
    for (auto& v : w) v = next();
    if (t % 7 == 0) x[t % 301] = -128;
    const int n = 1 + t % 301;
    int32_t ref[4] = {0, 0, 0, 0};
    for (int j = 0; j < 4; ++j) {
      for (int i = 0; i < n; ++i) ref[j] += x[i] * w[j * n + i];
    }
    int32_t got[4];
    runtime::optimized::dot4(x, w, n, got);
    for (int j = 0; j < 4; ++j) bad += got[j] != ref[j];
    bad += runtime::optimized::dot(x, w + n, n) != ref[1];
  }
  if (bad) sh_write0("dot/dot4 differ from plain loops\n");
  if (testing::kTinyModelTemSize > sizeof blob) return 1;
  std::memcpy(blob, testing::kTinyModelTem, testing::kTinyModelTemSize);
  runtime::Model m;
  runtime::Interpreter interp;
  if (runtime::Model::load({blob, testing::kTinyModelTemSize}, m) != runtime::Status::kOk ||
      interp.init(m, arena) != runtime::Status::kOk) {
    sh_write0("tiny model did not load\n");
    ++bad;
  } else {
    int8_t out[2][16];
    for (int pass = 0; pass < 2; ++pass) {
      interp.set_kernel_set(pass ? runtime::KernelSet::kReference : runtime::KernelSet::kOptimized);
      for (size_t i = 0; i < interp.input().size(); ++i) interp.input()[i] = static_cast<int8_t>(i * 29);
      for (uint16_t op = 0; op < m.op_count(); ++op) {
        if (interp.invoke_ops(op, op + 1) != runtime::Status::kOk) ++bad;
      }
      std::memcpy(out[pass], interp.output().data(), interp.output().size());
    }
    if (std::memcmp(out[0], out[1], interp.output().size()) != 0) {
      sh_write0("tiny model: optimised differs from reference\n");
      ++bad;
    }
  }
  sh_write0(bad ? "RESULT FAIL\n" : "RESULT PASS\n");
  return bad ? 1 : 0;
}
