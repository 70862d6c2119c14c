// tinyedge train image --embedding, reduced (a subset, few epochs), and the few-shot measurement
// that enrolls the two held-out classes through node_firmware/enroll over the int8 runtime.
#include <gtest/gtest.h>

#include <filesystem>

#include "deploy/train/embedding_pipeline.h"
#include "deploy/train/runtime_eval.h"
#include "node_firmware/enroll/embedding_head.h"

namespace tinyedge::train {
namespace {

#define REQUIRE_FASHION_MNIST()                                                                             \
  do {                                                                                                      \
    if (!std::filesystem::exists(kFashionMnistDir)) {                                                       \
      if (std::getenv("CI")) FAIL() << kFashionMnistDir << " missing under CI (scripts/setup installs it)"; \
      GTEST_SKIP() << kFashionMnistDir << " missing (install dataset-fashion-mnist)";                       \
    }                                                                                                       \
  } while (0)

TEST(TrainEmbedding, HeldOutClassesEnrolledFromFiveExamplesAreRecognised) {
  REQUIRE_FASHION_MNIST();
  EmbeddingTrainRequest req;
  req.train_limit = 8000;
  req.train.epochs = 2;
  req.train.seed = 3;
  req.train.threads = 1;
  req.calibration = 200;
  req.prototype_examples = 100;
  const auto r = train_image_embedding_model(req, {});
  ASSERT_EQ(r.trained_labels.size(), 8u);

  // The .tem: output is the embedding, the head has a prototype per trained label.
  TemRunner runner(r.compiled.tem);
  EXPECT_EQ(runner.model().output_info().element_count, static_cast<std::size_t>(req.dim));
  ASSERT_EQ(runner.model().label_count(), 8u);
  enroll::EmbeddingHead head;
  ASSERT_EQ(enroll::decode_embedding_head(enroll::find_embedding_head(runner.model().front_end()), head),
            enroll::EnrollStatus::kOk);
  EXPECT_EQ(head.class_count, 8);

  const auto dir = resolve_fashion_mnist("fashion-mnist");
  const auto train = load_fashion_mnist(dir, true).head(8000);
  const auto test = load_fashion_mnist(dir, false).head(1500);
  const auto e = evaluate_few_shot(r.compiled.tem, train, test, 5, 1);
  ASSERT_EQ(e.new_labels, (std::vector<std::string>{"Bag", "Ankle-boot"}));
  std::printf("reduced run: top-1 all %.1f%%, new %.1f%% (%zu images), trained %.1f%%, unknown %zu\n",
              100 * e.all_accuracy, 100 * e.new_accuracy, e.new_images, 100 * e.trained_accuracy, e.unknown);
  // Chance is 10% over all classes and 10% for a new class's image; the floors sit far above it.
  EXPECT_GE(e.all_accuracy, 0.45) << "few-shot top-1 over the 10 classes";
  EXPECT_GE(e.new_accuracy, 0.40) << "top-1 on the two classes enrolled from 5 examples each";
}

TEST(TrainEmbedding, BadHoldOutIsRefused) {
  REQUIRE_FASHION_MNIST();
  EmbeddingTrainRequest bad;
  bad.held_out = {0, 1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_THROW(train_image_embedding_model(bad, {}), std::runtime_error) << "one class left: nothing to learn";
  bad.held_out = {12};
  EXPECT_THROW(train_image_embedding_model(bad, {}), std::runtime_error) << "no class 12";
}

}  // namespace
}  // namespace tinyedge::train
