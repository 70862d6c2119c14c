// Writes the test suite's tiny model (tests/runtime/tiny_model.h) to a .tem file for the build.
#include <cstdio>

#include "tests/runtime/tiny_model.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  FILE* f = std::fopen(argv[1], "wb");
  if (!f) return 1;
  const bool ok = std::fwrite(tinyedge::testing::kTinyModelTem, 1, tinyedge::testing::kTinyModelTemSize, f) ==
                  tinyedge::testing::kTinyModelTemSize;
  return std::fclose(f) == 0 && ok ? 0 : 1;
}
