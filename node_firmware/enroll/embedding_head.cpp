#include "node_firmware/enroll/embedding_head.h"

#include <cstring>

#include "node_firmware/enroll/prototype_math.h"

namespace tinyedge::enroll {
namespace {

constexpr size_t kHeaderBytes = 16;
constexpr uint16_t kVersion = 1;
constexpr uint16_t kMetricCosineQ14 = 0;

size_t thresholds_bytes(uint16_t class_count) { return (size_t{class_count} * 2 + 3) & ~size_t{3}; }

void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t get32(const uint8_t* p) { return get16(p) | (uint32_t{get16(p + 2)} << 16); }

}  // namespace

size_t embedding_head_bytes(uint16_t dim, uint16_t class_count) {
  return kHeaderBytes + thresholds_bytes(class_count) + size_t{class_count} * dim * 2;
}

bool encode_embedding_head(uint16_t dim, std::span<const int16_t> thresholds, std::span<const int16_t> prototypes,
                           std::span<uint8_t> out) {
  const size_t classes = thresholds.size();
  if (classes == 0 || classes > kMaxTrainedClasses || dim == 0 || dim > kMaxEmbeddingDim ||
      prototypes.size() != classes * dim || out.size() != embedding_head_bytes(dim, static_cast<uint16_t>(classes)))
    return false;
  uint8_t* p = out.data();
  std::memset(p, 0, out.size());
  put16(p + 0, static_cast<uint16_t>(kEmbeddingHeadMagic));
  put16(p + 2, static_cast<uint16_t>(kEmbeddingHeadMagic >> 16));
  put16(p + 4, kVersion);
  put16(p + 6, dim);
  put16(p + 8, static_cast<uint16_t>(classes));
  put16(p + 10, kMetricCosineQ14);
  p += kHeaderBytes;
  for (size_t i = 0; i < classes; ++i) put16(p + 2 * i, static_cast<uint16_t>(thresholds[i]));
  p += thresholds_bytes(static_cast<uint16_t>(classes));
  for (size_t i = 0; i < prototypes.size(); ++i) put16(p + 2 * i, static_cast<uint16_t>(prototypes[i]));
  return true;
}

std::span<const uint8_t> find_embedding_head(std::span<const uint8_t> region) {
  if (region.size() >= 4 && get32(region.data()) == kAudioRecordMagic) {
    if (region.size() < kAudioRecordBytes) return {};
    region = region.subspan(kAudioRecordBytes);
  }
  if (region.size() >= 4 && get32(region.data()) == kEmbeddingHeadMagic) return region;
  return {};
}

EnrollStatus decode_embedding_head(std::span<const uint8_t> record, EmbeddingHead& out) {
  if (record.size() < kHeaderBytes) return EnrollStatus::kBadHead;
  const uint8_t* p = record.data();
  if (get32(p) != kEmbeddingHeadMagic || get16(p + 4) != kVersion || get16(p + 10) != kMetricCosineQ14 ||
      get32(p + 12) != 0)
    return EnrollStatus::kBadHead;
  const uint16_t dim = get16(p + 6);
  const uint16_t classes = get16(p + 8);
  if (dim == 0 || dim > kMaxEmbeddingDim || classes == 0 || classes > kMaxTrainedClasses ||
      record.size() != embedding_head_bytes(dim, classes) || reinterpret_cast<uintptr_t>(p) % 2 != 0)
    return EnrollStatus::kBadHead;
  // The node reads the int16 fields in place (little-endian targets only, as the .tem itself).
  const auto* thresholds = reinterpret_cast<const int16_t*>(p + kHeaderBytes);
  const auto* prototypes = reinterpret_cast<const int16_t*>(p + kHeaderBytes + thresholds_bytes(classes));
  for (uint16_t i = 0; i < classes; ++i)
    if (thresholds[i] < -kQ14One || thresholds[i] > kQ14One) return EnrollStatus::kBadHead;
  for (size_t i = 0; i < size_t{classes} * dim; ++i)
    if (prototypes[i] < -kQ14One || prototypes[i] > kQ14One) return EnrollStatus::kBadHead;
  out.dim = dim;
  out.class_count = classes;
  out.thresholds = {thresholds, classes};
  out.prototypes = {prototypes, size_t{classes} * dim};
  return EnrollStatus::kOk;
}

}  // namespace tinyedge::enroll
