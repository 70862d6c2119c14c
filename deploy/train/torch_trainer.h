// Training with libtorch. This header is torch-free on purpose: torch_trainer.cpp is the only
// translation unit that includes torch (it takes ~35 s to compile), and results come back as a
// plain FloatNet in the runtime's layout.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "deploy/train/fashion_mnist.h"
#include "deploy/train/float_net.h"

namespace tinyedge::train {

struct TrainOptions {
  int epochs = 10;
  std::uint64_t seed = 1;
  int batch_size = 128;
  float learning_rate = 2e-3f;
  int threads = 1;  // fixed, not "all cores": the thread count is part of what makes a run reproducible
};

// Called after every batch: epoch (1-based), batch (1-based), batches per epoch, mean loss and
// accuracy so far in this epoch (accuracy < 0 when it does not apply).
using ProgressFn = std::function<void(int epoch, int batch, int batches, double loss, double accuracy)>;

// Image classifiers on 28x28x1 images scaled to [0, 1]: arch "small-cnn" or "mlp".
FloatNet train_image_classifier(const ImageSet& train, const std::string& arch, const TrainOptions& options,
                                const ProgressFn& progress);

// An image embedding (28x28x1 in [0, 1] -> `dim` values) trained as a cosine classifier over
// labels in [0, classes); the returned net ends at the (linear) embedding layer.
FloatNet train_image_embedding(const ImageSet& train, int classes, int dim, const TrainOptions& options,
                               const ProgressFn& progress);

// The keyword classifier's size: DS-CNN channels and depthwise-separable blocks (the MLPerf Tiny
// kws reference has 64 and 4).
struct KeywordNetOptions {
  int channels = 64;
  int blocks = 4;
};

// A DS-CNN over feature images (count x input.h x input.w values, row-major: time rows of
// features) with class labels in [0, classes). embedding_dim > 0: a word embedding instead, the
// DS-CNN's last layer `embedding_dim` wide and trained as a cosine classifier over the classes (as
// train_image_embedding); the returned net ends at that (linear) layer.
FloatNet train_keyword_classifier(std::span<const float> features, Shape3 input, std::span<const int> labels,
                                  int classes, const KeywordNetOptions& shape, const TrainOptions& options,
                                  const ProgressFn& progress, int embedding_dim = 0);

// A dense autoencoder over `rows` (count x dim values, row-major), trained to reproduce its input.
FloatNet train_autoencoder(std::span<const float> rows, int dim, const TrainOptions& options,
                           const ProgressFn& progress);

}  // namespace tinyedge::train
