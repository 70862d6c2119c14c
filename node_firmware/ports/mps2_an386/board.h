// The MPS2 board an image is built for. The sources in this folder (CMSDK UART, SysTick, startup,
// main) serve every MPS2 FPGA image with CMSDK peripherals: the AN386 (Cortex-M4) values below are
// the default, and another board's port (node_firmware/ports/mps2_an505) passes its own through
// its port library's compile definitions.
#pragma once
#include <cstdint>

#ifndef TINYEDGE_MPS2_BOARD
#define TINYEDGE_MPS2_BOARD "mps2-an386"
#define TINYEDGE_MPS2_UART0_BASE 0x40004000u
#define TINYEDGE_MPS2_UART0_RX_IRQ 0
#define TINYEDGE_MPS2_CPU_HZ 25000000u
// UART1 (QEMU: the second -serial), the speech images' microphone line; RX interrupt = IRQ 2.
#define TINYEDGE_MPS2_UART1_BASE 0x40005000u
#define TINYEDGE_MPS2_UART1_RX_IRQ 2
#endif

namespace tinyedge::mps2 {

// The hardware name the node reports (Hello, OTA compatibility).
inline constexpr const char* kBoardName = TINYEDGE_MPS2_BOARD;
inline constexpr uint32_t kUart0Base = TINYEDGE_MPS2_UART0_BASE;
// NVIC interrupt number of UART0's receive interrupt.
inline constexpr uint32_t kUart0RxIrq = TINYEDGE_MPS2_UART0_RX_IRQ;
// SysTick's processor clock.
inline constexpr uint32_t kCpuHz = TINYEDGE_MPS2_CPU_HZ;

}  // namespace tinyedge::mps2
