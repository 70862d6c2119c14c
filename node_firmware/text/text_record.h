// The text front-end's parameters as a model carries them (.tem front-end record): a fixed
// little-endian layout with its own magic, so a node tells a text record it can run from one it
// cannot (an audio record, a newer layout, parameters out of range) before it tokenizes anything.
#pragma once
#include <cstdint>
#include <span>

#include "node_firmware/text/text_front_end.h"

namespace tinyedge::text {

inline constexpr uint32_t kTextRecordMagic = 0x31454654;  // "TFE1"
inline constexpr uint32_t kTextRecordBytes = 20;

// Writes `config` into `out`. Not validated here: the trainer validates before it counts anything.
void encode_text_record(const TextFrontEndConfig& config, std::span<uint8_t, kTextRecordBytes> out);

// kNotTextRecord on a wrong size, magic or a reserved bit set, else config.validate()'s verdict.
// `out` is written only on kOk.
[[nodiscard]] TextStatus decode_text_record(std::span<const uint8_t> record, TextFrontEndConfig& out);

}  // namespace tinyedge::text
