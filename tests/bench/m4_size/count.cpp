// Instruction-count probe for the emulated Cortex-M4: runs INFERENCES inferences of the embedded
// .tem (objcopy'd as model_blob), so that (count with N) - (count with 0) / N is per inference.
#include <cstddef>
#include <cstdint>

#include "node_firmware/runtime/interpreter.h"
#include "node_firmware/runtime/model.h"

extern "C" const uint8_t _binary_model_blob_start[];
extern "C" const uint8_t _binary_model_blob_end[];
alignas(4) static uint8_t arena[128 * 1024];

int main() {
  using namespace tinyedge::runtime;
  Model m;
  Interpreter in;
  const size_t n = static_cast<size_t>(_binary_model_blob_end - _binary_model_blob_start);
  if (Model::load({_binary_model_blob_start, n}, m) != Status::kOk || in.init(m, arena) != Status::kOk) return 1;
  for (size_t i = 0; i < in.input().size(); ++i) in.input()[i] = static_cast<int8_t>(i * 13);
#ifdef REFERENCE
  in.set_kernel_set(KernelSet::kReference);
#endif
  for (int i = 0; i < INFERENCES; ++i) in.invoke();
  return in.output()[0];
}
