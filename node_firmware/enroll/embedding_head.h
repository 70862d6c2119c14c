// The embedding head a model carries (.tem front-end region, "EHD1"): the trained classes'
// prototypes and thresholds, so the node classifies by nearest prototype and can add classes of
// its own. Fixed little-endian layout with its own magic and version, like the audio record
// ("AFE1"), which it follows in the same region when the model has both:
//
//   0  magic "EHD1"     4  u16 version (1)    6  u16 dim       8  u16 class_count
//   10 u16 metric (0: cosine, Q14)            12 u32 reserved (0)
//   16 int16 threshold_q14[class_count], padded to 4 bytes
//   .. int16 prototype_q14[class_count][dim]  (unit vectors, Q14)
//
// The model's labels name the trained classes, one per prototype.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "node_firmware/enroll/enroll_status.h"

namespace tinyedge::enroll {

inline constexpr uint32_t kEmbeddingHeadMagic = 0x31444845;  // "EHD1"
inline constexpr uint32_t kAudioRecordMagic = 0x31454641;    // "AFE1", always 28 bytes
inline constexpr size_t kAudioRecordBytes = 28;
inline constexpr uint16_t kMaxTrainedClasses = 64;

struct EmbeddingHead {
  uint16_t dim = 0;
  uint16_t class_count = 0;
  std::span<const int16_t> thresholds;  // Q14, one per class
  std::span<const int16_t> prototypes;  // class_count * dim, Q14 unit vectors

  std::span<const int16_t> prototype(size_t i) const { return prototypes.subspan(i * dim, dim); }
};

size_t embedding_head_bytes(uint16_t dim, uint16_t class_count);

// Writes a record into `out` (exactly embedding_head_bytes()); false if sizes do not match.
[[nodiscard]] bool encode_embedding_head(uint16_t dim, std::span<const int16_t> thresholds,
                                         std::span<const int16_t> prototypes, std::span<uint8_t> out);

// The embedding-head record inside a model's front-end region: the region itself, or what
// follows an audio record. Empty if there is none.
std::span<const uint8_t> find_embedding_head(std::span<const uint8_t> front_end_region);

// Checks every size against the record (and 2-byte alignment, as the spans point into it);
// kBadHead if anything is off. `out` is written only on kOk and views `record`.
[[nodiscard]] EnrollStatus decode_embedding_head(std::span<const uint8_t> record, EmbeddingHead& out);

}  // namespace tinyedge::enroll
