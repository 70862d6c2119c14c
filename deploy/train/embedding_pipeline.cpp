#include "deploy/train/embedding_pipeline.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <stdexcept>

#include "deploy/train/node_enrollment.h"
#include "deploy/train/runtime_eval.h"
#include "deploy/train/tem_export.h"
#include "node_firmware/app/flash.h"
#include "node_firmware/enroll/enroller.h"
#include "node_firmware/enroll/runtime_embedding_model.h"

namespace tinyedge::train {
namespace {

std::vector<float> image_to_float(std::span<const std::uint8_t> pixels) {
  std::vector<float> x(pixels.size());
  for (std::size_t i = 0; i < pixels.size(); ++i) x[i] = static_cast<float>(pixels[i]) / 255.0f;
  return x;
}

}  // namespace

EmbeddingTrainResult train_image_embedding_model(const EmbeddingTrainRequest& req, const ProgressFn& progress) {
  if (req.dim < 2 || static_cast<std::size_t>(req.dim) > enroll::kMaxPrototypeDim)
    throw std::runtime_error("--dim must be within 2.." + std::to_string(enroll::kMaxPrototypeDim) +
                             " (the node's prototype size)");
  const auto& names = fashion_mnist_labels();
  std::vector<int> remap(names.size(), -1);
  EmbeddingTrainResult r;
  for (int c : req.held_out)
    if (c < 0 || c >= static_cast<int>(names.size()))
      throw std::runtime_error("--hold-out: no Fashion-MNIST class " + std::to_string(c) + " (0..9)");
  for (int c = 0; c < static_cast<int>(names.size()); ++c) {
    if (std::find(req.held_out.begin(), req.held_out.end(), c) != req.held_out.end()) continue;
    remap[c] = static_cast<int>(r.trained_labels.size());
    r.trained_labels.push_back(node_label(names[c]));
  }
  if (r.trained_labels.size() < 2) throw std::runtime_error("--hold-out leaves fewer than 2 classes to train on");
  const auto dir = resolve_fashion_mnist(req.data);
  ImageSet all = load_fashion_mnist(dir, true);
  if (req.train_limit) all = all.head(req.train_limit);

  // The training set without the held-out classes, labels renumbered 0..T-1.
  ImageSet train;
  train.rows = all.rows;
  train.cols = all.cols;
  for (std::size_t i = 0; i < all.count(); ++i) {
    if (remap[all.labels[i]] < 0) continue;
    const auto img = all.image(i);
    train.pixels.insert(train.pixels.end(), img.begin(), img.end());
    train.labels.push_back(static_cast<std::uint8_t>(remap[all.labels[i]]));
  }
  r.train_images = train.count();
  const auto t0 = std::chrono::steady_clock::now();
  r.float_net = train_image_embedding(train, static_cast<int>(r.trained_labels.size()), req.dim, req.train, progress);
  r.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // Centring (as SimpleShot does): the trained classes' mean embedding is subtracted, so cosines
  // measure directions around the data rather than around the origin, where every class the
  // network never saw sits in one narrow cone. The embedding layer is linear, so the mean folds
  // into its bias: the node pays nothing for it.
  {
    Layer& embedding = r.float_net.layers.back();
    std::vector<double> mean(embedding.bias.size(), 0.0);
    const std::size_t n = std::min<std::size_t>(train.count(), 2000);
    for (std::size_t i = 0; i < n; ++i) {
      const auto e = forward(r.float_net, image_to_float(train.image(i * train.count() / n)));
      for (std::size_t k = 0; k < mean.size(); ++k) mean[k] += e[k];
    }
    for (std::size_t k = 0; k < mean.size(); ++k)
      embedding.bias[k] -= static_cast<float>(mean[k] / static_cast<double>(n));
  }

  std::vector<std::vector<float>> calibration;
  const std::size_t n_cal =
      std::min<std::size_t>(static_cast<std::size_t>(std::max(req.calibration, 1)), train.count());
  for (std::size_t i = 0; i < n_cal; ++i) calibration.push_back(image_to_float(train.image(i * train.count() / n_cal)));
  r.quant = quantize(r.float_net, calibration, QuantParams{1.0f / 255.0f, -128});

  model::ModelMetadata meta = req.meta;
  if (meta.name.empty()) meta.name = "fashion-mnist-embedding";
  if (meta.model_id == 0) meta.model_id = default_model_id(meta.name);
  meta.labels = r.trained_labels;
  if (meta.input_description.empty()) meta.input_description = "28x28x1 grayscale image, q = pixel - 128";
  const model::CompiledModel plain = export_tem(r.quant, meta);

  // Prototypes and thresholds from the int8 model itself, with the node's arithmetic.
  TemRunner runner(plain.tem);
  const auto info = runner.model().input_info();
  const auto classes = static_cast<std::uint16_t>(r.trained_labels.size());
  const auto dim = static_cast<std::uint16_t>(req.dim);
  std::vector<std::int16_t> prototypes(std::size_t{classes} * dim), thresholds(classes);
  for (std::uint16_t c = 0; c < classes; ++c) {
    std::vector<std::int16_t> units;
    std::size_t taken = 0;
    for (std::size_t i = 0; i < train.count() && taken < static_cast<std::size_t>(req.prototype_examples); ++i) {
      if (train.labels[i] != c) continue;
      const auto u = unit_embedding(runner, quantize_image(info, train.image(i)));
      units.insert(units.end(), u.begin(), u.end());
      ++taken;
    }
    if (taken == 0) throw std::runtime_error("no training images of class " + r.trained_labels[c]);
    const std::span<std::int16_t> proto(prototypes.data() + std::size_t{c} * dim, dim);
    if (!enroll::mean_direction_q14(units, taken, proto))
      throw std::runtime_error("class " + r.trained_labels[c] + ": embeddings cancel out, no prototype");
    std::vector<std::int32_t> cosines;
    for (std::size_t e = 0; e < taken; ++e)
      cosines.push_back(enroll::cosine_q14(std::span<const std::int16_t>(units.data() + e * dim, dim), proto));
    std::sort(cosines.begin(), cosines.end());
    thresholds[c] = static_cast<std::int16_t>(cosines[static_cast<std::size_t>(req.threshold_quantile * taken)]);
  }
  meta.front_end.resize(enroll::embedding_head_bytes(dim, classes));
  if (!enroll::encode_embedding_head(dim, thresholds, prototypes, meta.front_end))
    throw std::runtime_error("embedding head does not encode");
  r.compiled = export_tem(r.quant, meta);
  TemRunner probe(r.compiled.tem);
  r.self_test.input = quantize_image(probe.model().input_info(), train.image(0));
  const auto out = probe.run(r.self_test.input);
  r.self_test.output.assign(out.begin(), out.end());
  return r;
}

}  // namespace tinyedge::train
