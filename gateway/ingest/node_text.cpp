#include "gateway/ingest/node_text.h"

namespace tinyedge::gateway {

const char* to_string(TextProblem problem) {
  switch (problem) {
    case TextProblem::kOk:
      return "ok";
    case TextProblem::kInvalidUtf8:
      return "not valid UTF-8";
    case TextProblem::kControl:
      return "holds a control character";
  }
  return "unknown";
}

TextProblem check_node_text(std::span<const uint8_t> bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    const uint8_t lead = bytes[i];
    if (lead < 0x80) {
      if (lead < 0x20 || lead == 0x7F) return TextProblem::kControl;
      ++i;
      continue;
    }
    // Sequence length and the smallest code point it may encode (anything less is overlong).
    size_t length;
    uint32_t code, least;
    if ((lead & 0xE0) == 0xC0)
      length = 2, code = lead & 0x1Fu, least = 0x80;
    else if ((lead & 0xF0) == 0xE0)
      length = 3, code = lead & 0x0Fu, least = 0x800;
    else if ((lead & 0xF8) == 0xF0)
      length = 4, code = lead & 0x07u, least = 0x10000;
    else
      return TextProblem::kInvalidUtf8;  // a continuation byte, or F8..FF
    if (bytes.size() - i < length) return TextProblem::kInvalidUtf8;
    for (size_t k = 1; k < length; ++k) {
      const uint8_t next = bytes[i + k];
      if ((next & 0xC0) != 0x80) return TextProblem::kInvalidUtf8;
      code = (code << 6) | (next & 0x3Fu);
    }
    if (code < least || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return TextProblem::kInvalidUtf8;
    if (code >= 0x80 && code <= 0x9F) return TextProblem::kControl;
    i += length;
  }
  return TextProblem::kOk;
}

}  // namespace tinyedge::gateway
