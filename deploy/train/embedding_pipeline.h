// tinyedge train image --embedding and model eval --enroll: an image embedding trained on some
// Fashion-MNIST classes, exported as a .tem whose output is the embedding and whose front-end
// region carries the trained classes' prototypes ("EHD1", node_firmware/enroll); and the
// few-shot measurement that enrolls the held-out classes through the node's own code.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "deploy/model/compile.h"
#include "deploy/train/fashion_mnist.h"
#include "deploy/train/float_net.h"
#include "deploy/train/pipeline.h"
#include "deploy/train/quantize.h"
#include "deploy/train/torch_trainer.h"
#include "node_firmware/enroll/class_table.h"

namespace tinyedge::train {

struct EmbeddingTrainRequest {
  std::string data = "fashion-mnist";
  std::vector<int> held_out = {8, 9};  // classes the embedding never sees (Bag, Ankle boot)
  int dim = 32;
  TrainOptions train;
  std::size_t train_limit = 0;  // first N training images (before removing held-out classes)
  int calibration = 1000;
  int prototype_examples = 300;      // training images per class for its prototype and threshold
  double threshold_quantile = 0.02;  // a class's threshold: this quantile of its examples' cosines
  model::ModelMetadata meta;
};

struct EmbeddingTrainResult {
  FloatNet float_net;
  QuantNet quant;
  model::CompiledModel compiled;
  std::vector<std::string> trained_labels;
  double train_seconds = 0;
  std::size_t train_images = 0;
  GoldenPair self_test;
};

// A label as the node's table takes it: printable, no spaces, at most enroll::kLabelBytes.
inline std::string node_label(const std::string& name) {
  std::string out;
  for (char c : name) out += (c == ' ') ? '-' : c;
  return out.substr(0, enroll::kLabelBytes);
}

// Trains with libtorch (embedding_pipeline.cpp, in the trainer only); evaluate_few_shot below is
// torch-free (few_shot_eval.cpp, in tinyedge for `model eval --enroll`).
EmbeddingTrainResult train_image_embedding_model(const EmbeddingTrainRequest& request, const ProgressFn& progress);

// Enrolls every Fashion-MNIST class the model was not trained on with `shots` training images
// each (seeded pick), through node_firmware/enroll (Enroller over the runtime, a flash table in
// RAM), then classifies the test images by nearest prototype. "unknown" counts as wrong.
struct FewShotEval {
  int shots = 0;
  std::vector<std::string> new_labels;
  std::size_t test_images = 0, new_images = 0, unknown = 0;
  double all_accuracy = 0, new_accuracy = 0, trained_accuracy = 0;
};
FewShotEval evaluate_few_shot(std::span<const std::uint8_t> tem, const ImageSet& train, const ImageSet& test, int shots,
                              std::uint64_t seed);

}  // namespace tinyedge::train
