#include "deploy/train/motion_pipeline.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <stdexcept>

#include "deploy/train/parallel.h"
#include "deploy/train/runtime_eval.h"
#include "deploy/train/tem_export.h"
#include "node_firmware/motion/motion_window.h"

namespace tinyedge::train {
namespace {

std::vector<std::int8_t> quantize_window(const runtime::TensorInfo& in, std::span<const float> values) {
  std::vector<std::int8_t> q(values.size());
  motion::quantize_sample(values, in.scale, in.zero_point, q);
  return q;
}

}  // namespace

MotionTrainResult train_motion(const MotionTrainRequest& req, const ProgressFn& progress,
                               const std::function<void(const std::string&)>& log) {
  if (req.calibration <= 0) throw std::runtime_error("--calibration must be positive");
  MotionTrainResult r;
  const auto csv = motion::read_motion_csv(req.data, req.columns);
  r.axes = csv.axes;
  r.windows = cut_windows(csv, req.window, req.stride);
  const auto& w = r.windows;
  std::vector<std::size_t> train_idx, test_idx;
  for (std::size_t i = 0; i < w.count(); ++i) (w.test[i] ? test_idx : train_idx).push_back(i);
  if (train_idx.empty() || test_idx.empty())
    throw std::runtime_error(req.data + ": the windows do not split into training and test (" +
                             std::to_string(train_idx.size()) + " / " + std::to_string(test_idx.size()) + ")");
  const int classes = static_cast<int>(w.labels.size());
  const Shape3 input{w.window, 1, w.axes};
  std::string axes_list;
  for (const auto& a : r.axes) axes_list += (axes_list.empty() ? "" : ",") + a;
  if (log) {
    char line[512];
    std::snprintf(line, sizeof line,
                  "%zu rows, %zu recordings, median sample spacing %g; %zu training / %zu test windows of %d samples x "
                  "%d axes (%s), stride %d; test split: the last fifth of each label's recordings",
                  csv.rows(), w.recordings, w.sample_spacing, train_idx.size(), test_idx.size(), w.window, w.axes,
                  axes_list.c_str(), req.stride);
    log(line);
  }

  std::vector<std::vector<float>> calibration;
  const std::size_t n_cal = std::min<std::size_t>(static_cast<std::size_t>(req.calibration), train_idx.size());
  for (std::size_t k = 0; k < n_cal; ++k) {
    const auto v = w.window_values(train_idx[k * train_idx.size() / n_cal]);
    calibration.emplace_back(v.begin(), v.end());
  }
  const ImageNetSpec shape{req.arch, req.net_width, req.blocks, true};
  if (req.net_width > 0 && req.blocks > 0) {
    r.choice = measure_image_net(shape, input, classes, w.labels, std::nullopt);
  } else {
    r.choice = pick_image_net(shape, input, classes, req.budget, w.labels, std::nullopt);
  }
  if (log) {
    char line[256];
    std::snprintf(line, sizeof line,
                  "architecture %s: 1-D %s width %d, %d blocks: arena %u bytes, .tem %zu bytes, "
                  "%zu parameters, %.3f M MACs",
                  req.net_width > 0 ? "(given)" : "picked for the budget", r.choice.spec.arch.c_str(),
                  r.choice.spec.width, r.choice.spec.blocks, r.choice.arena_bytes, r.choice.tem_bytes,
                  r.choice.parameters, static_cast<double>(r.choice.macs) / 1e6);
    log(line);
  }

  std::vector<float> train_x;
  std::vector<int> train_y;
  for (auto i : train_idx) {
    const auto v = w.window_values(i);
    train_x.insert(train_x.end(), v.begin(), v.end());
    train_y.push_back(w.label[i]);
  }
  ImageAugment augment;
  augment.flip = false;        // a gesture played backwards is another gesture
  augment.shift = 0;           // windows already start anywhere (overlap)
  augment.brightness = 0.15f;  // people move harder or softer
  augment.clamp = false;
  const auto t0 = std::chrono::steady_clock::now();
  r.float_net = train_image_folder_net(train_x, input, train_y, classes, r.choice.spec, augment, req.train, progress);
  r.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::atomic<std::int64_t> correct{0};
  parallel_chunks(test_idx.size(), req.threads, [&](std::size_t lo, std::size_t hi) {
    std::int64_t c = 0;
    for (std::size_t k = lo; k < hi; ++k) {
      const auto v = w.window_values(test_idx[k]);
      c += arg_max<float>(forward(r.float_net, v)) == w.label[test_idx[k]];
    }
    correct += c;
  });
  r.float_accuracy = static_cast<double>(correct.load()) / static_cast<double>(test_idx.size());

  r.quant = quantize(r.float_net, calibration);  // the input range is calibrated too
  model::ModelMetadata meta = req.meta;
  if (meta.name.empty()) meta.name = "motion-" + req.arch;
  if (meta.model_id == 0) meta.model_id = default_model_id(meta.name);
  meta.labels = w.labels;
  if (meta.input_description.empty()) {
    char d[256];
    std::snprintf(d, sizeof d, "motion window: %d samples x %d axes (%s), raw values, stride %d, spacing %g", w.window,
                  w.axes, axes_list.c_str(), req.stride, w.sample_spacing);
    meta.input_description = d;
  }
  r.compiled = export_tem(r.quant, meta);
  r.int8_confusion = evaluate_motion(r.compiled.tem, w, false, true, req.threads);
  TemRunner runner(r.compiled.tem);
  r.self_test.input = quantize_window(runner.model().input_info(), w.window_values(test_idx.front()));
  const auto out = runner.run(r.self_test.input);
  r.self_test.output.assign(out.begin(), out.end());
  return r;
}

}  // namespace tinyedge::train
