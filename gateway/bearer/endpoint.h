// Serial/BLE-bridge bearer endpoints, as written in the config file and on the command line:
//   tcp-listen:HOST:PORT     accept links (qemu -serial tcp:HOST:PORT, BLE-UART bridges)
//   tcp-connect:HOST:PORT    dial out (qemu -serial tcp::PORT,server), redialled when it drops
//   unix-listen:PATH         accept links on a unix socket (qemu -serial unix:PATH)
//   unix-connect:PATH        dial a unix socket (qemu -serial unix:PATH,server)
//   serial:DEVICE[@BAUD]     a UART, e.g. serial:/dev/ttyUSB0@115200 (default 115200)
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tinyedge::gateway {

struct Endpoint {
  enum class Kind { kTcpListen, kTcpConnect, kUnixListen, kUnixConnect, kSerial };
  Kind kind;
  std::string host_or_path;  // host for tcp, path for unix, device for serial
  uint16_t port = 0;
  uint32_t baud = 115200;
  std::string text;          // as configured
};

// Returns nullopt and sets `error` to a message naming the problem.
std::optional<Endpoint> parse_endpoint(std::string_view text, std::string& error);

}  // namespace tinyedge::gateway
