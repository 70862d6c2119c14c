#include "deploy/train/image_folder_pipeline.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <stdexcept>

#include "deploy/train/parallel.h"
#include "deploy/train/runtime_eval.h"
#include "deploy/train/tem_export.h"

namespace tinyedge::train {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<float> to_float(std::span<const std::uint8_t> pixels) {
  std::vector<float> x(pixels.size());
  for (std::size_t i = 0; i < pixels.size(); ++i) x[i] = static_cast<float>(pixels[i]) / 255.0f;
  return x;
}

std::string describe(const ImageNetChoice& c) {
  char line[256];
  std::snprintf(line, sizeof line,
                "%s width %d, %d blocks: arena %u bytes, .tem %zu bytes, %zu parameters, %.2f M MACs",
                c.spec.arch.c_str(), c.spec.width, c.spec.blocks, c.arena_bytes, c.tem_bytes, c.parameters,
                static_cast<double>(c.macs) / 1e6);
  return line;
}

}  // namespace

ImageFolderTrainResult train_image_folder(const ImageFolderTrainRequest& req, const ProgressFn& progress,
                                          const std::function<void(const std::string&)>& log) {
  if (req.calibration <= 0) throw std::runtime_error("--calibration must be positive");
  const Shape3 input{req.height, req.width, req.rgb ? 3 : 1};
  ImageFolderTrainResult r;
  const auto t_read = std::chrono::steady_clock::now();
  r.data = read_image_folder(
      req.data,
      {static_cast<std::uint32_t>(input.w), static_cast<std::uint32_t>(input.h), static_cast<std::uint32_t>(input.c)},
      req.test_percent, req.threads);
  r.read_seconds = seconds_since(t_read);
  std::vector<std::size_t> train_idx, test_idx;
  for (std::size_t i = 0; i < r.data.files.size(); ++i) (r.data.test[i] ? test_idx : train_idx).push_back(i);
  if (train_idx.empty()) throw std::runtime_error(req.data + ": every image is in the test split; nothing to train on");
  if (test_idx.empty())
    throw std::runtime_error(req.data + ": the test split is empty; nothing to measure accuracy on");
  const int classes = static_cast<int>(r.data.labels.size());
  for (int c = 0; c < classes; ++c) {
    bool any = false;
    for (auto i : train_idx) any |= r.data.label[i] == c;
    if (!any)
      throw std::runtime_error((std::filesystem::path(req.data) / r.data.labels[static_cast<std::size_t>(c)]).string() +
                               ": every image of class '" + r.data.labels[static_cast<std::size_t>(c)] +
                               "' is in the test split; nothing to train it on");
  }
  if (log)
    log(std::to_string(train_idx.size()) + " training images, " + std::to_string(test_idx.size()) + " test images, " +
        std::to_string(classes) + " classes, read and converted to " + std::to_string(input.h) + "x" +
        std::to_string(input.w) + (req.rgb ? " RGB" : " gray") + " in " + std::to_string(r.read_seconds).substr(0, 4) +
        " s; " + r.data.split);

  if (req.net_width > 0 && req.blocks > 0) {
    r.choice = measure_image_net({req.arch, req.net_width, req.blocks}, input, classes, r.data.labels);
    if (log) log("architecture (given): " + describe(r.choice));
  } else {
    r.choice = pick_image_net({req.arch, 0, 0}, input, classes, req.budget, r.data.labels);
    r.picked = true;
    if (log)
      log("architecture picked for --ram " + std::to_string(req.budget.ram_bytes) + " --flash " +
          std::to_string(req.budget.flash_bytes) + " bytes: " + describe(r.choice));
  }

  std::vector<float> train_x;
  train_x.reserve(train_idx.size() * static_cast<std::size_t>(input.size()));
  std::vector<int> train_y;
  for (auto i : train_idx) {
    for (auto p : r.data.image(i)) train_x.push_back(static_cast<float>(p) / 255.0f);
    train_y.push_back(r.data.label[i]);
  }
  const auto t0 = std::chrono::steady_clock::now();
  r.float_net =
      train_image_folder_net(train_x, input, train_y, classes, r.choice.spec, req.augment, req.train, progress);
  r.train_seconds = seconds_since(t0);

  std::atomic<std::int64_t> correct{0};
  parallel_chunks(test_idx.size(), req.threads, [&](std::size_t lo, std::size_t hi) {
    std::int64_t c = 0;
    for (std::size_t k = lo; k < hi; ++k)
      c += arg_max<float>(forward(r.float_net, to_float(r.data.image(test_idx[k])))) == r.data.label[test_idx[k]];
    correct += c;
  });
  r.float_accuracy = static_cast<double>(correct.load()) / static_cast<double>(test_idx.size());

  // Calibration: evenly spaced training images (a fixed choice: same data, same bytes).
  std::vector<std::vector<float>> calibration;
  const std::size_t n_cal = std::min<std::size_t>(static_cast<std::size_t>(req.calibration), train_idx.size());
  for (std::size_t k = 0; k < n_cal; ++k)
    calibration.push_back(to_float(r.data.image(train_idx[k * train_idx.size() / n_cal])));
  r.quant = quantize(r.float_net, calibration, QuantParams{1.0f / 255.0f, -128});

  model::ModelMetadata meta = req.meta;
  if (meta.name.empty()) meta.name = "image-" + req.arch;
  if (meta.model_id == 0) meta.model_id = default_model_id(meta.name);
  meta.labels = r.data.labels;
  if (meta.input_description.empty())
    meta.input_description = std::to_string(input.h) + "x" + std::to_string(input.w) + "x" + std::to_string(input.c) +
                             (req.rgb ? " RGB" : " grayscale") + " image, q = pixel - 128";
  r.compiled = export_tem(r.quant, meta);
  if (r.picked && (r.compiled.arena_bytes > req.budget.ram_bytes || r.compiled.tem.size() > req.budget.flash_bytes))
    throw std::runtime_error("the trained model outgrew the budget it was picked for (arena " +
                             std::to_string(r.compiled.arena_bytes) + ", .tem " +
                             std::to_string(r.compiled.tem.size()) + " bytes)");

  r.int8_confusion = evaluate_image_folder(r.compiled.tem, r.data, false, true, req.threads);
  std::vector<std::int8_t> first(r.data.shape.bytes());
  const auto px = r.data.image(test_idx.front());
  for (std::size_t i = 0; i < px.size(); ++i) first[i] = static_cast<std::int8_t>(static_cast<int>(px[i]) - 128);
  TemRunner runner(r.compiled.tem);
  const auto out = runner.run(first);
  r.self_test.input = first;
  r.self_test.output.assign(out.begin(), out.end());
  return r;
}

}  // namespace tinyedge::train
