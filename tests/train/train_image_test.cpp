// Reduced real training runs (a subset, few epochs) so CI stays fast; the full configuration is
// `tinyedge train image` with its defaults.
#include <gtest/gtest.h>

#include <filesystem>

#include "deploy/train/pipeline.h"
#include "deploy/train/runtime_eval.h"

namespace tinyedge::train {
namespace {

bool have_data() { return std::filesystem::exists(kFashionMnistDir); }

#define REQUIRE_FASHION_MNIST()                                                                              \
  do {                                                                                                       \
    if (!have_data()) {                                                                                      \
      if (std::getenv("CI")) FAIL() << kFashionMnistDir << " missing under CI (scripts/setup installs it)"; \
      GTEST_SKIP() << kFashionMnistDir << " missing (install dataset-fashion-mnist)";                        \
    }                                                                                                        \
  } while (0)

ImageTrainRequest reduced(const std::string& arch, std::size_t images, int epochs) {
  ImageTrainRequest r;
  r.arch = arch;
  r.train_limit = images;
  r.test_limit = 2000;
  r.train.epochs = epochs;
  r.train.seed = 3;
  r.train.threads = 1;
  r.calibration = 300;
  return r;
}

TEST(TrainImage, ReducedSmallCnnReaches80PercentInt8InTheRuntime) {
  REQUIRE_FASHION_MNIST();
  int last_epoch = 0;
  const auto r = train_image(reduced("small-cnn", 20000, 2), [&](int e, int, int, double, double) { last_epoch = e; });
  EXPECT_EQ(last_epoch, 2);
  std::printf("small-cnn reduced: float %.2f%% int8 %.2f%% weights %zu B arena %u B in %.1f s\n",
              100 * r.float_accuracy, 100 * r.int8_accuracy(), r.quant.weight_bytes(), r.compiled.arena_bytes,
              r.train_seconds);
  EXPECT_EQ(r.int8_confusion.total(), 2000);
  EXPECT_GE(r.int8_accuracy(), 0.80);
  EXPECT_LE(r.float_accuracy - r.int8_accuracy(), 0.02);
  EXPECT_LE(r.quant.weight_bytes(), 64u * 1024u);
  EXPECT_LE(r.compiled.arena_bytes, 16u * 1024u);
  // The golden pair is what the runtime gives for the first test image.
  TemRunner runner(r.compiled.tem);
  const auto out = runner.run(r.self_test.input);
  EXPECT_EQ(std::vector<std::int8_t>(out.begin(), out.end()), r.self_test.output);
  EXPECT_EQ(r.self_test.input.size(), 784u);
  EXPECT_EQ(runner.model().label(9), "Ankle boot");
}

TEST(TrainImage, ReducedMlpLearns) {
  REQUIRE_FASHION_MNIST();
  const auto r = train_image(reduced("mlp", 30000, 3), nullptr);
  std::printf("mlp reduced: float %.2f%% int8 %.2f%% weights %zu B\n", 100 * r.float_accuracy,
              100 * r.int8_accuracy(), r.quant.weight_bytes());
  EXPECT_GE(r.int8_accuracy(), 0.75);
  EXPECT_LE(r.quant.weight_bytes(), 64u * 1024u);
}

TEST(TrainImage, SameSeedSameModelBytesOtherSeedDifferent) {
  REQUIRE_FASHION_MNIST();
  auto req = reduced("small-cnn", 1500, 1);
  req.test_limit = 200;
  const auto a = train_image(req, nullptr);
  const auto b = train_image(req, nullptr);
  EXPECT_EQ(a.compiled.tem, b.compiled.tem) << "same seed, different model bytes";
  req.train.seed = 4;
  const auto c = train_image(req, nullptr);
  EXPECT_NE(a.compiled.tem, c.compiled.tem);
}

TEST(TrainImage, UnknownArchIsRefused) {
  REQUIRE_FASHION_MNIST();
  auto req = reduced("resnet-152", 100, 1);
  EXPECT_THROW(train_image(req, nullptr), std::runtime_error);
}

}  // namespace
}  // namespace tinyedge::train
