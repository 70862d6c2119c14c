// CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF): the check on every byte-stream frame.
#pragma once
#include <cstdint>
#include <span>

namespace tinyedge::protocol {

uint16_t crc16_ccitt(std::span<const uint8_t> bytes, uint16_t crc = 0xFFFF);

}  // namespace tinyedge::protocol
