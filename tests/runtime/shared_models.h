// Locating ../shared/models (the MLPerf Tiny reference models and TFLM vectors): absent on a
// user's clone (tests skip, saying so), always present under CI (absence fails).
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace tinyedge::testing {

inline std::filesystem::path shared_models_dir() {
  if (const char* env = std::getenv("TINYEDGE_SHARED_MODELS"); env && *env) return env;
#ifdef TINYEDGE_REPO_DIR
  return std::filesystem::path(TINYEDGE_REPO_DIR) / ".." / "shared" / "models";
#else
  return std::filesystem::path("..") / "shared" / "models";
#endif
}

inline bool under_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

inline std::vector<uint8_t> read_bytes(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

}  // namespace tinyedge::testing

// Skips (or under CI fails) the current test when `path` is missing.
#define TINYEDGE_REQUIRE_SHARED(path)                                                                   \
  do {                                                                                                  \
    if (!std::filesystem::exists(path)) {                                                               \
      if (tinyedge::testing::under_ci()) FAIL() << "missing reference file under CI: " << (path);       \
      GTEST_SKIP() << "reference models not found at " << (path)                                        \
                   << " (set TINYEDGE_SHARED_MODELS or place them in ../shared/models)";               \
    }                                                                                                   \
  } while (0)
