// From data to a deployable .tem in one call: train (libtorch), quantise with a calibration set,
// compile, and measure float and int8 (in the project's runtime) quality. The CLI and the tests
// both go through here.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "deploy/model/compile.h"
#include "deploy/train/float_net.h"
#include "deploy/train/metrics.h"
#include "deploy/train/quantize.h"
#include "deploy/train/speech_features.h"
#include "deploy/train/speech_folder.h"
#include "deploy/train/torch_trainer.h"
#include "deploy/train/vibration.h"

namespace tinyedge::train {

struct ImageTrainRequest {
  std::string data = "fashion-mnist";  // or a directory with the four IDX files
  std::string arch = "small-cnn";      // or "mlp"
  TrainOptions train;
  std::size_t train_limit = 0;  // first N training images only (0 = all 60,000)
  std::size_t test_limit = 0;   // first N test images only (0 = all 10,000)
  int calibration = 1000;       // training images used to calibrate activation ranges
  int eval_threads = 2;
  model::ModelMetadata meta;  // labels and input description are filled in if empty
};

struct GoldenPair {
  std::vector<std::int8_t> input, output;  // one input tensor and the runtime's output for it
};

struct ImageTrainResult {
  FloatNet float_net;
  QuantNet quant;
  model::CompiledModel compiled;
  double train_seconds = 0;
  double float_accuracy = 0;
  ConfusionMatrix int8_confusion{10};  // in the runtime, over the test set
  double int8_accuracy() const { return int8_confusion.accuracy(); }
  std::size_t train_images = 0, test_images = 0;
  GoldenPair self_test;  // the first test image
};

ImageTrainResult train_image(const ImageTrainRequest& request, const ProgressFn& progress);

struct AnomalyTrainRequest {
  VibrationSet data;
  TrainOptions train;
  double holdout_fraction = 0.2;  // machines kept out of training, for the validation AUC
  int calibration = 500;
  int eval_threads = 2;
  model::ModelMetadata meta;
};

struct AnomalyTrainResult {
  FloatNet float_net;
  QuantNet quant;
  model::CompiledModel compiled;
  double train_seconds = 0;
  std::size_t train_windows = 0, holdout_windows = 0;
  double float_auc = -1, int8_auc = -1;  // on the held-out machines (-1: they lack one class)
  double threshold = 0;  // int8 score above which a window is anomalous: 99th percentile of training windows
  GoldenPair self_test;
};

AnomalyTrainResult train_anomaly(const AnomalyTrainRequest& request, const ProgressFn& progress);

struct KeywordTrainRequest {
  std::string data;  // DIR/<label>/*.wav
  SpeechFolderOptions folder;
  std::string front_end = "mfcc49x10";  // a front_end_presets() name
  KeywordNetOptions net;
  TrainOptions train;
  int calibration = 500;  // training clips for the front-end output range and the activation ranges
  int eval_threads = 2;
  // Time-shift augmentation: each training clip also shifted this much earlier and later (0: off),
  // so the spotter fires on a word wherever it sits in the node's sliding window.
  int time_shift_ms = 0;
  // --embedding: a word embedding of this many values for enrollment instead of a classifier (0).
  // The .tem outputs the embedding and its front-end region holds the audio record followed by
  // the trained classes' prototypes ("EHD1"): `prototype_clips` training clips per class, each
  // class's threshold the `threshold_quantile` of their cosines.
  int embedding_dim = 0;
  int prototype_clips = 300;
  double threshold_quantile = 0.02;
  // Noise augmentation (noise_mix.h): the data set's background noise mixed into a share of the
  // training clips (every copy, shifted or not) at SNRs from a list; off when snr_db is empty.
  NoiseMixOptions noise;
  model::ModelMetadata meta;  // labels, input description and front-end record are filled in
};

struct KeywordTrainResult {
  SpeechFolder folder;
  audio::AudioFrontEndConfig front_end;  // as calibrated and carried in the .tem
  FloatNet float_net;
  QuantNet quant;
  model::CompiledModel compiled;
  double train_seconds = 0, feature_seconds = 0;
  std::size_t noisy_clips = 0;        // training clips (over every copy) mixed with noise
  double float_accuracy = 0;          // test split (an embedding: not measured, -1)
  ConfusionMatrix int8_confusion{1};  // test split, in the runtime (an embedding: nearest prototype)
  double int8_accuracy() const { return int8_confusion.accuracy(); }
  GoldenPair self_test;  // the first test clip
};

// Reads and checks every file before training (a bad file stops it before anything is written).
KeywordTrainResult train_keywords(const KeywordTrainRequest& request, const ProgressFn& progress,
                                  const std::function<void(const std::string&)>& log = {});

// FNV-1a of the model name: a stable default model id.
std::uint32_t default_model_id(const std::string& name);

}  // namespace tinyedge::train
