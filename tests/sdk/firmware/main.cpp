// The firmware of a project outside the TinyEdge tree, built against the node SDK: the model is
// compiled in (model.h, from `tinyedge model export --c-header --name model`), the node app's
// RuntimeEngine runs it on the synthetic sensor's first sample (seed 1), and the output tensor and
// top-1 go to the semihosting console for the test to hold against the host runtime.
#include <cstdint>
#include <cstdio>
#include <span>

#include "model.h"
#include "node_firmware/app/runtime_engine.h"
#include "node_firmware/app/synthetic_sensor.h"
#include "node_firmware/app/top_k.h"
#include "node_firmware/runtime/status.h"

namespace {

alignas(16) uint8_t g_arena[MODEL_ARENA_BYTES];

// One line to the debugger's console (semihosting SYS_WRITE0; qemu prints it).
void console(const char* text) {
  register int r0 asm("r0") = 0x04;
  register const char* r1 asm("r1") = text;
  asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
}

}  // namespace

int main() {
  using namespace tinyedge;
  app::RuntimeEngine engine(g_arena);
  const runtime::Status status = engine.load(std::span<const uint8_t>(model, MODEL_BYTES));
  char line[256];
  if (status != runtime::Status::kOk) {
    std::snprintf(line, sizeof line, "sdk_node: model refused: %s\n", runtime::to_string(status));
    console(line);
    return 1;
  }
  app::SyntheticSensor sensor(/*seed=*/1);
  uint32_t sample_id = 0;
  if (!sensor.read(engine.input(), sample_id) || !engine.invoke()) {
    console("sdk_node: inference failed\n");
    return 1;
  }
  console("sdk_node: output ");
  for (int8_t v : engine.output()) {
    std::snprintf(line, sizeof line, "%02x", static_cast<uint8_t>(v));
    console(line);
  }
  app::ClassScore best[1];
  if (app::top_k(engine.output(), engine.output_zero_point(), best) == 1) {
    std::snprintf(line, sizeof line, "\nsdk_node: top-1 label %u score %u\n", best[0].label, best[0].score);
    console(line);
  }
  return 0;
}
