// `tinyedge train text --data FILE|DIR`: labelled texts -> hashed word and character n-gram counts
// (the node's own front-end, node_firmware/text) -> an n-gram MLP (text_trainer.h) -> int8 .tem that
// carries the front-end record, so every node hashes a text to the buckets the model was trained
// on. Nothing is written here.
#pragma once
#include <functional>
#include <optional>
#include <string>

#include "deploy/model/compile.h"
#include "deploy/train/metrics.h"
#include "deploy/train/pipeline.h"
#include "deploy/train/quantize.h"
#include "deploy/train/text_corpus.h"
#include "deploy/train/text_eval.h"
#include "node_firmware/text/text_front_end.h"

namespace tinyedge::train {

struct TextTrainRequest {
  std::string data;
  text::TextFrontEndConfig front_end;
  int hidden = 32;  // 0: a linear classifier over the counts
  // With a budget, the buckets and hidden units not fixed below are picked to fit it.
  std::optional<TextBudget> budget;
  bool fixed_buckets = false, fixed_hidden = false;
  TrainOptions train;
  int calibration = 500;
  int threads = 2;
  model::ModelMetadata meta;
};

struct TextTrainResult {
  TextCorpus corpus;
  FloatNet float_net;
  QuantNet quant;
  model::CompiledModel compiled;
  double train_seconds = 0, float_accuracy = 0;
  double mean_nonzero = 0;              // distinct buckets per training text
  std::optional<TextNetChoice> picked;  // what the budget picked
  ConfusionMatrix int8_confusion{2};
  double int8_accuracy() const { return int8_confusion.accuracy(); }
  GoldenPair self_test;  // the first held-out text
};

TextTrainResult train_text(const TextTrainRequest& request, const ProgressFn& progress,
                           const std::function<void(const std::string&)>& log = {});

}  // namespace tinyedge::train
