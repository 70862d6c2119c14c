// `tinyedge train image --data DIR`: a folder of labelled images -> a budget-sized classifier ->
// int8 .tem with labels and input description, float and int8 (runtime) accuracy on the held-out
// split. Every image is read and checked before training; nothing is written here.
#pragma once
#include <functional>
#include <string>

#include "deploy/model/compile.h"
#include "deploy/train/image_arch.h"
#include "deploy/train/image_folder.h"
#include "deploy/train/image_folder_trainer.h"
#include "deploy/train/metrics.h"
#include "deploy/train/pipeline.h"
#include "deploy/train/quantize.h"

namespace tinyedge::train {

struct ImageFolderTrainRequest {
  std::string data;             // DIR/<label>/*.png|*.jpg
  int height = 32, width = 32;  // the model's input image
  bool rgb = false;             // 3 channels, else gray
  int test_percent = 20;        // without DIR/testing_list.txt
  std::string arch = "ds-cnn";
  int net_width = 0, blocks = 0;  // 0: picked by the budget
  ImageBudget budget;
  ImageAugment augment;
  TrainOptions train;
  int calibration = 500;
  int threads = 2;  // decoding and evaluation
  model::ModelMetadata meta;
};

struct ImageFolderTrainResult {
  ImageFolderSet data;
  ImageNetChoice choice;
  bool picked = false;  // by the budget (else given)
  FloatNet float_net;
  QuantNet quant;
  model::CompiledModel compiled;
  double train_seconds = 0, read_seconds = 0;
  double float_accuracy = 0;
  ConfusionMatrix int8_confusion{1};
  double int8_accuracy() const { return int8_confusion.accuracy(); }
  GoldenPair self_test;  // the first test image
};

ImageFolderTrainResult train_image_folder(const ImageFolderTrainRequest& request, const ProgressFn& progress,
                                          const std::function<void(const std::string&)>& log = {});


}  // namespace tinyedge::train
