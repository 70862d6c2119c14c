// The TinyEdge node on the MPS2 AN386 (Cortex-M4): the portable app, its results as COBS frames
// over UART0, the model executed in place from slot A, everything in statically sized RAM.
#include <cstdint>
#include <span>

#include "node_firmware/app/frame_bearer.h"
#include "node_firmware/app/node.h"
#include "node_firmware/app/result_ring.h"
#include "node_firmware/app/runtime_engine.h"
#include "node_firmware/app/synthetic_sensor.h"
#include "node_firmware/ports/mps2_an386/cmsdk_uart.h"
#include "node_firmware/ports/mps2_an386/m4_platform.h"
#include "node_firmware/ports/mps2_an386/semihost.h"
#include "node_firmware/ports/mps2_an386/systick.h"
#include "node_firmware/ports/mps2_an386/timed_engine.h"
#include "node_firmware/runtime/tem_format.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

extern "C" {
extern uint8_t __slot_a_start[], __slot_b_start[], __arena_start[], __arena_end[];
extern uint8_t __data_start[], __bss_end[], __stack_limit[], __stack_top[];
}

#ifndef TINYEDGE_NODE_ID
#define TINYEDGE_NODE_ID "mps2-1"
#endif

namespace {

using namespace tinyedge;

// Seed of the built-in sensor: the qemu test recomputes the same samples on the host.
constexpr uint32_t kSensorSeed = 1;
constexpr size_t kTxBytes = 320;
constexpr size_t kRingCapacity = 16;

mps2::M4Platform g_platform;
app::SyntheticSensor g_sensor(kSensorSeed);
uint8_t g_frame_tx[protocol::max_encoded_frame_size(kTxBytes)];
protocol::StaticFrameDecoder<protocol::kMaxDownlinkBytes> g_decoder;
app::FrameBearer g_bearer(mps2::uart0(), g_frame_tx, g_decoder);
app::RuntimeEngine g_engine(std::span<uint8_t>(__arena_start, __arena_end));
mps2::TimedEngine g_timed(g_engine);
app::StaticResultRing<kRingCapacity> g_ring;
uint8_t g_tx[kTxBytes];
uint8_t g_rx[protocol::kMaxDownlinkBytes];

// The model in slot A: its header gives its length (an erased slot has no magic).
std::span<const uint8_t> slot_a_model() {
  const auto* header = reinterpret_cast<const runtime::TemHeader*>(__slot_a_start);
  const size_t slot_bytes = static_cast<size_t>(__slot_b_start - __slot_a_start);
  if (header->magic != runtime::kTemMagic || header->blob_bytes > slot_bytes) return {};
  return {__slot_a_start, header->blob_bytes};
}

// A boot id that differs between runs: the host's clock through semihosting (a device would
// keep a boot counter in flash).
uint32_t boot_id() {
  register uint32_t r0 asm("r0") = 0x11;  // SYS_TIME
  register uint32_t r1 asm("r1") = 0;
  asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0 != 0 ? r0 : 1;
}

}  // namespace

int main() {
  mps2::systick_init();
  mps2::uart0().init();
  mps2::semihost_print("tinyedge: mps2-an386 node, RAM used ", static_cast<uint64_t>(__stack_top - __data_start),
                       " bytes");
  mps2::semihost_print(" (static ", static_cast<uint64_t>(__bss_end - __data_start), "");
  mps2::semihost_print(", arena ", static_cast<uint64_t>(__arena_end - __arena_start), "");
  mps2::semihost_print(", stack ", static_cast<uint64_t>(__stack_top - __stack_limit), ")\n");

  const std::span<const uint8_t> model = slot_a_model();
  if (model.empty()) {
    mps2::semihost_write("tinyedge: slot A holds no model\n");
  } else {
    const runtime::Status status = g_engine.load(model);
    mps2::semihost_write("tinyedge: model load: ");
    mps2::semihost_write(runtime::to_string(status));
    mps2::semihost_write("\n");
  }

  app::NodeConfig config;
  config.node_id = TINYEDGE_NODE_ID;
  config.hardware = "mps2-an386";
  config.firmware_version = 1;
  config.boot_id = boot_id();
  config.sample_interval_ms = 1000;
  config.report_interval_ms = 100;
  config.batch_max = 4;
  config.ack_timeout_ms = 5000;
  config.telemetry_interval_ms = 30000;
  config.top_k = 5;
  config.slot_bytes = static_cast<uint32_t>(__slot_b_start - __slot_a_start);
  config.arena_capacity = static_cast<uint32_t>(__arena_end - __arena_start);
  static app::Node node(config, g_platform, g_sensor, g_bearer, g_timed, g_ring, g_tx, g_rx);

  for (;;) {
    node.step();
    asm volatile("wfi");  // SysTick (1 ms) or a UART byte wakes us
  }
}
