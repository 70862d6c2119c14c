#include "deploy/train/runtime_eval.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "deploy/train/parallel.h"
#include "node_firmware/motion/motion_window.h"

namespace tinyedge::train {
namespace {

std::int8_t quantize_value(const runtime::TensorInfo& t, float v) {
  const float q = std::round(v / t.scale) + static_cast<float>(t.zero_point);
  return static_cast<std::int8_t>(std::clamp(q, -128.0f, 127.0f));
}

}  // namespace

std::vector<std::uint8_t> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TemRunner::TemRunner(std::span<const std::uint8_t> blob) {
  if (auto s = runtime::Model::load(blob, model_); s != runtime::Status::kOk)
    throw std::runtime_error(std::string("not a valid .tem model: ") + runtime::to_string(s));
  arena_.resize((model_.arena_bytes() + 3) / 4 + 1);
  std::span<std::uint8_t> arena(reinterpret_cast<std::uint8_t*>(arena_.data()), arena_.size() * 4);
  if (auto s = interpreter_.init(model_, arena); s != runtime::Status::kOk)
    throw std::runtime_error(std::string("runtime init failed: ") + runtime::to_string(s));
}

std::span<const std::int8_t> TemRunner::run(std::span<const std::int8_t> input) {
  auto in = interpreter_.input();
  if (input.size() != in.size())
    throw std::runtime_error("input has " + std::to_string(input.size()) + " values, the model takes " +
                             std::to_string(in.size()));
  std::copy(input.begin(), input.end(), in.begin());
  if (auto s = interpreter_.invoke(); s != runtime::Status::kOk)
    throw std::runtime_error(std::string("inference failed: ") + runtime::to_string(s));
  return interpreter_.output();
}

std::vector<std::int8_t> quantize_image(const runtime::TensorInfo& input, std::span<const std::uint8_t> pixels) {
  std::vector<std::int8_t> q(pixels.size());
  for (std::size_t i = 0; i < pixels.size(); ++i) q[i] = quantize_value(input, static_cast<float>(pixels[i]) / 255.0f);
  return q;
}

ClassifierEval evaluate_classifier(std::span<const std::uint8_t> blob, const ImageSet& test, int threads) {
  {
    TemRunner probe(blob);
    const auto in = probe.model().input_info(), out = probe.model().output_info();
    if (in.element_count != static_cast<std::size_t>(test.rows * test.cols))
      throw std::runtime_error("the model takes " + std::to_string(in.element_count) +
                               " input values, the images have " + std::to_string(test.rows * test.cols) + " pixels");
    if (out.element_count != 10)
      throw std::runtime_error("the model has " + std::to_string(out.element_count) +
                               " outputs; a Fashion-MNIST classifier has 10");
  }
  std::vector<int> predicted(test.count());
  const auto t0 = std::chrono::steady_clock::now();
  parallel_chunks(test.count(), threads, [&](std::size_t lo, std::size_t hi) {
    TemRunner runner(blob);
    const auto info = runner.model().input_info();
    for (std::size_t i = lo; i < hi; ++i) predicted[i] = arg_max(runner.run(quantize_image(info, test.image(i))));
  });
  ClassifierEval e;
  e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (std::size_t i = 0; i < test.count(); ++i) e.confusion.add(test.labels[i], predicted[i]);
  return e;
}

ClassifierEval evaluate_keywords(std::span<const std::uint8_t> blob, const SpeechFeatures& features,
                                 std::span<const SpeechClipRef> clips, int threads) {
  std::size_t classes = 0;
  {
    TemRunner probe(blob);
    const auto in = probe.model().input_info();
    if (in.element_count != static_cast<std::size_t>(features.shape.size()))
      throw std::runtime_error("the model takes " + std::to_string(in.element_count) +
                               " input values, the front-end gives " + std::to_string(features.shape.size()) +
                               " per clip");
    classes = probe.model().output_info().element_count;
  }
  for (const auto& c : clips)
    if (c.label < 0 || static_cast<std::size_t>(c.label) >= classes)
      throw std::runtime_error(c.path.string() + ": class " + std::to_string(c.label) + " is beyond the model's " +
                               std::to_string(classes) + " outputs");
  std::vector<int> predicted(clips.size());
  const auto t0 = std::chrono::steady_clock::now();
  parallel_chunks(clips.size(), threads, [&](std::size_t lo, std::size_t hi) {
    TemRunner runner(blob);
    for (std::size_t i = lo; i < hi; ++i) predicted[i] = arg_max(runner.run(features.clip(i)));
  });
  ClassifierEval e;
  e.confusion = ConfusionMatrix(static_cast<int>(classes));
  e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (std::size_t i = 0; i < clips.size(); ++i) e.confusion.add(clips[i].label, predicted[i]);
  return e;
}

double anomaly_score(TemRunner& runner, std::span<const float> features) {
  const auto in = runner.model().input_info(), out = runner.model().output_info();
  std::vector<std::int8_t> q(features.size());
  for (std::size_t i = 0; i < features.size(); ++i) q[i] = quantize_value(in, features[i]);
  const auto y = runner.run(q);
  if (y.size() != features.size())
    throw std::runtime_error("the model's output is not the size of its input: not an autoencoder");
  double err = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    const double d = out.scale * (static_cast<double>(y[i]) - out.zero_point) - features[i];
    err += d * d;
  }
  return err / static_cast<double>(y.size());
}

AnomalyEval evaluate_anomaly(std::span<const std::uint8_t> blob, const VibrationSet& data, int threads) {
  {
    TemRunner probe(blob);
    if (probe.model().input_info().element_count != static_cast<std::size_t>(kVibrationFeatures))
      throw std::runtime_error("the model takes " + std::to_string(probe.model().input_info().element_count) +
                               " inputs; the vibration features are " + std::to_string(kVibrationFeatures));
  }
  AnomalyEval e;
  e.scores.resize(data.count());
  e.labels = data.label;
  parallel_chunks(data.count(), threads, [&](std::size_t lo, std::size_t hi) {
    TemRunner runner(blob);
    for (std::size_t i = lo; i < hi; ++i) e.scores[i] = anomaly_score(runner, vibration_features(data.window(i)));
  });
  e.auc = roc_auc(e.scores, e.labels);
  return e;
}

ConfusionMatrix evaluate_image_folder(std::span<const std::uint8_t> blob, const ImageFolderSet& data, bool all,
                                      bool test_split, int threads) {
  std::vector<std::size_t> idx;
  for (std::size_t i = 0; i < data.files.size(); ++i)
    if (all || data.test[i] == test_split) idx.push_back(i);
  std::vector<int> predicted(idx.size());
  parallel_chunks(idx.size(), threads, [&](std::size_t lo, std::size_t hi) {
    TemRunner runner(blob);
    const auto info = runner.model().input_info();
    for (std::size_t k = lo; k < hi; ++k) predicted[k] = arg_max(runner.run(quantize_image(info, data.image(idx[k]))));
  });
  ConfusionMatrix cm(static_cast<int>(data.labels.size()));
  for (std::size_t k = 0; k < idx.size(); ++k) cm.add(data.label[idx[k]], predicted[k]);
  return cm;
}

ConfusionMatrix evaluate_motion(std::span<const std::uint8_t> blob, const MotionWindows& w, bool all, bool test_split,
                                int threads) {
  {
    TemRunner probe(blob);
    const auto in = probe.model().input_info();
    if (in.rank != 4 || in.dims[1] != w.window || in.dims[2] != 1 || in.dims[3] != w.axes)
      throw std::runtime_error("the model takes [1, " + std::to_string(in.dims[1]) + ", " + std::to_string(in.dims[2]) +
                               ", " + std::to_string(in.dims[3]) + "] windows, the log gives " +
                               std::to_string(w.window) + " samples x " + std::to_string(w.axes) + " axes");
  }
  std::vector<std::size_t> idx;
  for (std::size_t i = 0; i < w.count(); ++i)
    if (all || w.test[i] == test_split) idx.push_back(i);
  std::vector<int> predicted(idx.size());
  parallel_chunks(idx.size(), threads, [&](std::size_t lo, std::size_t hi) {
    TemRunner runner(blob);
    const auto info = runner.model().input_info();
    for (std::size_t k = lo; k < hi; ++k) {
      std::vector<std::int8_t> q(w.window_values(idx[k]).size());
      motion::quantize_sample(w.window_values(idx[k]), info.scale, info.zero_point, q);
      predicted[k] = arg_max(runner.run(q));
    }
  });
  ConfusionMatrix cm(static_cast<int>(w.labels.size()));
  for (std::size_t k = 0; k < idx.size(); ++k) cm.add(w.label[idx[k]], predicted[k]);
  return cm;
}

}  // namespace tinyedge::train
