// The compiled bytes of tiny_graph() (see tiny_graph.h), for tests that build without the compiler.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tinyedge::testing {
extern const uint8_t kTinyModelTem[];
extern const size_t kTinyModelTemSize;
}  // namespace tinyedge::testing
