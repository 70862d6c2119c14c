// Splits an index range over a fixed number of threads (evaluation of 10,000 images on 2 cores).
#pragma once
#include <cstddef>
#include <functional>

namespace tinyedge::train {

// Calls body(begin, end) on `threads` disjoint contiguous chunks of [0, n); rethrows a worker's exception.
void parallel_chunks(std::size_t n, int threads, const std::function<void(std::size_t, std::size_t)>& body);

}  // namespace tinyedge::train
