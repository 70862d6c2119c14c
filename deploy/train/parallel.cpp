#include "deploy/train/parallel.h"

#include <algorithm>
#include <exception>
#include <thread>
#include <vector>

namespace tinyedge::train {

void parallel_chunks(std::size_t n, int threads, const std::function<void(std::size_t, std::size_t)>& body) {
  const std::size_t t = static_cast<std::size_t>(std::max(1, threads));
  std::vector<std::exception_ptr> errors(t);
  std::vector<std::thread> workers;
  for (std::size_t i = 0; i < t; ++i) {
    const std::size_t lo = n * i / t, hi = n * (i + 1) / t;
    workers.emplace_back([&, i, lo, hi] {
      try {
        body(lo, hi);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    });
  }
  for (auto& w : workers) w.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace tinyedge::train
