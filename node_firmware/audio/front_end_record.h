// The audio front-end's config as a model carries it (.tem front-end record): a fixed
// little-endian layout with its own magic and version, so a node can tell an audio record it can
// run from one it cannot (another sensor's, a newer layout) before it configures anything.
#pragma once
#include <cstdint>
#include <span>

#include "node_firmware/audio/audio_config.h"
#include "node_firmware/audio/audio_status.h"

namespace tinyedge::audio {

inline constexpr uint32_t kFrontEndRecordMagic = 0x31454641;  // "AFE1"
inline constexpr uint32_t kFrontEndRecordBytes = 28;

// Writes `config` into `out` (the record's exact size). The config is not validated here: the
// trainer validates it before it computes a single feature.
void encode_front_end(const AudioFrontEndConfig& config, std::span<uint8_t, kFrontEndRecordBytes> out);

// Reads a record; kNotAudioRecord when its size or magic is wrong, else config.validate()'s
// verdict (a record this build cannot run is refused, never run approximately). `out` is written
// only on kOk.
[[nodiscard]] AudioStatus decode_front_end(std::span<const uint8_t> record, AudioFrontEndConfig& out);

}  // namespace tinyedge::audio
