// A .tem payload that carries a name and class labels (header, label table, strings), as
// `tinyedge model import --labels` writes them: what the dashboard reads to name results. It has
// no graph: the registry checks a package's identity and signature, not that its model runs.
#pragma once
#include <cstring>
#include <string>
#include <vector>

#include "node_firmware/runtime/tem_format.h"

namespace tinyedge::dashboard::testing {

inline std::vector<uint8_t> labelled_tem(uint32_t model_id, uint32_t version, const std::string& name,
                                         const std::vector<std::string>& labels, uint32_t arena_bytes = 6944) {
  runtime::TemHeader h{};
  h.magic = runtime::kTemMagic;
  h.format_version = runtime::kTemFormatVersion;
  h.header_bytes = sizeof h;
  h.model_id = model_id;
  h.model_version = version;
  h.arena_bytes = arena_bytes;
  h.labels_offset = sizeof h;
  h.label_count = static_cast<uint16_t>(labels.size());
  std::vector<runtime::TemString> table;
  std::string strings;
  const uint32_t strings_at = static_cast<uint32_t>(sizeof h + labels.size() * sizeof(runtime::TemString));
  h.name = {strings_at, static_cast<uint32_t>(name.size())};
  strings += name;
  for (const auto& l : labels) {
    table.push_back({static_cast<uint32_t>(strings_at + strings.size()), static_cast<uint32_t>(l.size())});
    strings += l;
  }
  h.input_description = {static_cast<uint32_t>(strings_at + strings.size()), 0};
  std::vector<uint8_t> blob(strings_at + strings.size());
  blob.resize((blob.size() + 3) & ~size_t{3});
  h.blob_bytes = static_cast<uint32_t>(blob.size());
  std::memcpy(blob.data(), &h, sizeof h);
  std::memcpy(blob.data() + sizeof h, table.data(), table.size() * sizeof(runtime::TemString));
  std::memcpy(blob.data() + strings_at, strings.data(), strings.size());
  return blob;
}

}  // namespace tinyedge::dashboard::testing
