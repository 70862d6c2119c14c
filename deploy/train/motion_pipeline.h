// `tinyedge train motion --data log.csv`: a labelled sensor log -> overlapping windows -> a 1-D
// depthwise-separable CNN sized to a RAM/flash budget -> int8 .tem whose input is the raw window
// ([1, window, 1, axes], input quantisation calibrated on the training windows: the node quantises
// each sample with it, node_firmware/motion). Nothing is written here.
#pragma once
#include <functional>
#include <string>

#include "deploy/model/compile.h"
#include "deploy/train/image_arch.h"
#include "deploy/train/image_folder_trainer.h"
#include "deploy/train/metrics.h"
#include "deploy/train/motion_windows.h"
#include "deploy/train/pipeline.h"

namespace tinyedge::train {

struct MotionTrainRequest {
  std::string data;
  motion::MotionCsvColumns columns;
  int window = 64, stride = 16;  // samples
  std::string arch = "ds-cnn";
  int net_width = 0, blocks = 0;  // 0: picked by the budget
  ImageBudget budget;
  TrainOptions train;
  int calibration = 500;
  int threads = 2;
  model::ModelMetadata meta;
};

struct MotionTrainResult {
  MotionWindows windows;
  std::vector<std::string> axes;
  ImageNetChoice choice;
  FloatNet float_net;
  QuantNet quant;
  model::CompiledModel compiled;
  double train_seconds = 0, float_accuracy = 0;
  ConfusionMatrix int8_confusion{1};
  double int8_accuracy() const { return int8_confusion.accuracy(); }
  GoldenPair self_test;
};

MotionTrainResult train_motion(const MotionTrainRequest& request, const ProgressFn& progress,
                               const std::function<void(const std::string&)>& log = {});


}  // namespace tinyedge::train
