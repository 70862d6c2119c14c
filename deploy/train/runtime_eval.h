// Runs .tem models in the project's own int8 runtime (node_firmware/runtime), the same engine the
// nodes run, and evaluates them over a data set.
#pragma once
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "deploy/train/fashion_mnist.h"
#include "deploy/train/image_folder.h"
#include "deploy/train/metrics.h"
#include "deploy/train/motion_windows.h"
#include "deploy/train/speech_features.h"
#include "deploy/train/vibration.h"
#include "node_firmware/runtime/interpreter.h"
#include "node_firmware/runtime/model.h"

namespace tinyedge::train {

std::vector<std::uint8_t> read_file(const std::filesystem::path& path);

// One loaded model with its own arena: use one per thread. The blob must outlive it.
class TemRunner {
 public:
  explicit TemRunner(std::span<const std::uint8_t> blob);  // throws std::runtime_error naming the load status
  TemRunner(const TemRunner&) = delete;
  TemRunner& operator=(const TemRunner&) = delete;
  std::span<const std::int8_t> run(std::span<const std::int8_t> input);
  const runtime::Model& model() const { return model_; }

 private:
  runtime::Model model_;
  std::vector<std::uint32_t> arena_;  // uint32 storage: the interpreter wants a 4-byte aligned arena
  runtime::Interpreter interpreter_;
};

struct ClassifierEval {
  ConfusionMatrix confusion{10};
  double seconds = 0;  // wall time of all inferences (threads in parallel)
};
// Pixels -> int8 with the model's input quantisation (pixel/255 in real terms).
std::vector<std::int8_t> quantize_image(const runtime::TensorInfo& input, std::span<const std::uint8_t> pixels);
ClassifierEval evaluate_classifier(std::span<const std::uint8_t> blob, const ImageSet& test, int threads);

// Keyword clips' features (already computed by the model's front-end) through the model: the
// confusion matrix over the clips' labels (indices into the model's classes).
ClassifierEval evaluate_keywords(std::span<const std::uint8_t> blob, const SpeechFeatures& features,
                                 std::span<const SpeechClipRef> clips, int threads);

struct AnomalyEval {
  std::vector<double> scores;  // reconstruction mean squared error per window, from the int8 output
  std::vector<std::uint8_t> labels;
  double auc = 0;
};
AnomalyEval evaluate_anomaly(std::span<const std::uint8_t> blob, const VibrationSet& data, int threads);
// One window's anomaly score: quantise features, run, dequantise, mean squared reconstruction error.
double anomaly_score(TemRunner& runner, std::span<const float> features);

// The int8 confusion matrix of a .tem over the `test_split` images of `data` (all when `all`).
ConfusionMatrix evaluate_image_folder(std::span<const std::uint8_t> blob, const ImageFolderSet& data, bool all,
                                      bool test_split, int threads);

// Windows through the .tem, each sample quantised by the node's own step (motion::quantize_sample).
ConfusionMatrix evaluate_motion(std::span<const std::uint8_t> blob, const MotionWindows& windows, bool all,
                                bool test_split, int threads);

}  // namespace tinyedge::train
