// Runs on the emulated Cortex-M4 (qemu mps2-an386): one MLPerf Tiny model (embedded .tem) on
// TFLite Micro's reference vectors (embedded inputs and outputs, five of each), with the
// optimised (DSP) kernels, whose outputs must equal TFLite Micro's bit for bit; then, layer by
// layer on every vector, the optimised kernels against the reference kernels. Prints
// "RESULT PASS" or "RESULT FAIL" over semihosting (newlib's exit status does not reach qemu).
#include <cstdio>
#include <cstring>

#include "node_firmware/runtime/interpreter.h"
#include "node_firmware/runtime/model.h"

extern "C" const uint8_t _binary_model_blob_start[], _binary_model_blob_end[];
extern "C" const uint8_t _binary_inputs_blob_start[], _binary_inputs_blob_end[];
extern "C" const uint8_t _binary_outputs_blob_start[], _binary_outputs_blob_end[];

namespace {

void sh_write0(const char* s) {
  register int r0 asm("r0") = 0x04;  // SYS_WRITE0
  register const char* r1 asm("r1") = s;
  asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
}

void report(const char* fmt, int a, int b, int c, int d) {
  char line[160];
  std::snprintf(line, sizeof line, fmt, a, b, c, d);
  sh_write0(line);
}

constexpr int kVectors = 5;
alignas(4) uint8_t arena[2][128 * 1024];
// The embedded blob's address follows the other embedded files: the model runs from an aligned copy.
alignas(16) uint8_t model_copy[1024 * 1024];  // room for any of the four MLPerf Tiny models

}  // namespace

int main() {
  using namespace tinyedge::runtime;
#if !defined(__ARM_FEATURE_DSP)
  sh_write0("no DSP extension in this build\n");
  sh_write0("RESULT FAIL\n");
  return 1;
#endif
  Model m;
  Interpreter fast, ref;
  const size_t n = static_cast<size_t>(_binary_model_blob_end - _binary_model_blob_start);
  if (n > sizeof model_copy) {
    sh_write0("model larger than the copy buffer\nRESULT FAIL\n");
    return 1;
  }
  std::memcpy(model_copy, _binary_model_blob_start, n);
  const Status load = Model::load({model_copy, n}, m);
  const Status init = load == Status::kOk ? fast.init(m, arena[0]) : load;
  if (load != Status::kOk || init != Status::kOk || ref.init(m, arena[1]) != Status::kOk) {
    report("model did not load (status %d, init %d, %d bytes at %x)\nRESULT FAIL\n", static_cast<int>(load),
           static_cast<int>(init), static_cast<int>(n), static_cast<int>(reinterpret_cast<uintptr_t>(model_copy)));
    return 1;
  }
  ref.set_kernel_set(KernelSet::kReference);
  const size_t in_bytes = fast.input().size(), out_bytes = fast.output().size();
  if (static_cast<size_t>(_binary_inputs_blob_end - _binary_inputs_blob_start) != kVectors * in_bytes ||
      static_cast<size_t>(_binary_outputs_blob_end - _binary_outputs_blob_start) != kVectors * out_bytes) {
    sh_write0("vector files do not match the model's input/output sizes\nRESULT FAIL\n");
    return 1;
  }
  int bad = 0;
  for (int v = 0; v < kVectors; ++v) {
    std::memcpy(fast.input().data(), _binary_inputs_blob_start + v * in_bytes, in_bytes);
    std::memcpy(ref.input().data(), _binary_inputs_blob_start + v * in_bytes, in_bytes);
    for (uint16_t op = 0; op < m.op_count(); ++op) {
      if (fast.invoke_ops(op, op + 1) != Status::kOk || ref.invoke_ops(op, op + 1) != Status::kOk) {
        report("vector %d: op %d failed to run%c%c\n", v, op, ' ', ' ');
        ++bad;
        break;
      }
      const auto a = fast.tensor_data(m.op_outputs(op)[0]);
      const auto b = ref.tensor_data(m.op_outputs(op)[0]);
      for (size_t i = 0; i < a.size(); ++i) {
        if (a[i] != b[i]) {
          report("vector %d: op %d (kernel %d) element %d: optimised differs from reference\n", v, op, m.op(op).kernel,
                 static_cast<int>(i));
          ++bad;
          break;
        }
      }
    }
    const uint8_t* expected = _binary_outputs_blob_start + v * out_bytes;
    for (size_t i = 0; i < out_bytes; ++i) {
      if (static_cast<uint8_t>(fast.output()[i]) != expected[i]) {
        report("vector %d: output %d is %d, TFLite Micro's %d\n", v, static_cast<int>(i), fast.output()[i],
               static_cast<int8_t>(expected[i]));
        ++bad;
        break;
      }
    }
  }
  report("%d vectors, %d ops each, %d problems%c\n", kVectors, m.op_count(), bad, ' ');
  sh_write0(bad ? "RESULT FAIL\n" : "RESULT PASS\n");
  return bad ? 1 : 0;
}
