// What text from a node must look like before the gateway keeps it. Node strings (Hello's
// hardware and model name) end up in SQLite, in every JSON view and in the CLI's tables: text
// that is not UTF-8, or that holds control characters, would break those views or the terminal
// for the whole fleet. Pure and allocation-free: the uplink fuzzer drives it directly.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

namespace tinyedge::gateway {

enum class TextProblem : uint8_t {
  kOk,
  kInvalidUtf8,  // a byte sequence that is not UTF-8 (stray continuation, overlong, surrogate, > U+10FFFF)
  kControl,      // NUL, another C0 control, DEL or a C1 control
};

const char* to_string(TextProblem problem);

// Strict UTF-8 (RFC 3629) with no control characters: safe to store, print and put in JSON.
TextProblem check_node_text(std::span<const uint8_t> bytes);

}  // namespace tinyedge::gateway
