#include "dashboard_api/tem_facts.h"

#include <cstring>

#include "node_firmware/runtime/tem_format.h"

namespace tinyedge::dashboard {
namespace {

// Labels are short class names; a longer one is a damaged table.
constexpr uint32_t kMaxTextBytes = 4096;
constexpr uint16_t kMaxLabels = 4096;

bool text_at(std::span<const uint8_t> blob, const runtime::TemString& s, std::string& out) {
  if (s.bytes > kMaxTextBytes || s.offset > blob.size() || s.bytes > blob.size() - s.offset) return false;
  out.assign(reinterpret_cast<const char*>(blob.data()) + s.offset, s.bytes);
  return true;
}

}  // namespace

std::optional<TemFacts> read_tem_facts(std::span<const uint8_t> payload) {
  runtime::TemHeader header;
  if (payload.size() < sizeof header) return std::nullopt;
  std::memcpy(&header, payload.data(), sizeof header);
  if (header.magic != runtime::kTemMagic || header.format_version != runtime::kTemFormatVersion ||
      header.header_bytes != sizeof header || header.label_count > kMaxLabels)
    return std::nullopt;
  TemFacts facts;
  facts.model_id = header.model_id;
  facts.version = header.model_version;
  facts.arena_bytes = header.arena_bytes;
  facts.weights_bytes = header.weights_bytes;
  if (!text_at(payload, header.name, facts.name) ||
      !text_at(payload, header.input_description, facts.input_description))
    return std::nullopt;
  const size_t table_bytes = size_t{header.label_count} * sizeof(runtime::TemString);
  if (header.labels_offset > payload.size() || table_bytes > payload.size() - header.labels_offset) return std::nullopt;
  facts.labels.resize(header.label_count);
  for (uint16_t i = 0; i < header.label_count; ++i) {
    runtime::TemString s;
    std::memcpy(&s, payload.data() + header.labels_offset + i * sizeof s, sizeof s);
    if (!text_at(payload, s, facts.labels[i])) return std::nullopt;
  }
  return facts;
}

}  // namespace tinyedge::dashboard
