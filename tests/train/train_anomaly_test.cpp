#include <gtest/gtest.h>

#include "deploy/train/pipeline.h"
#include "deploy/train/runtime_eval.h"

namespace tinyedge::train {
namespace {

TEST(TrainAnomaly, AutoencoderSeparatesFaultyMachinesInTheRuntime) {
  VibrationOptions vo;
  vo.machines = 30;
  vo.windows_per_machine = 20;
  vo.faulty_fraction = 0.25;
  vo.seed = 11;
  AnomalyTrainRequest req;
  req.data = synthesize_vibration(vo);
  req.train.epochs = 40;
  req.train.batch_size = 64;
  req.train.threads = 1;
  req.holdout_fraction = 0.3;
  const auto r = train_anomaly(req, nullptr);
  std::printf("autoencoder: held-out AUC float %.4f int8 %.4f, weights %zu B, arena %u B, %.1f s\n", r.float_auc,
              r.int8_auc, r.quant.weight_bytes(), r.compiled.arena_bytes, r.train_seconds);
  ASSERT_GE(r.int8_auc, 0.0) << "held-out machines lacked a class";
  EXPECT_GE(r.int8_auc, 0.95);

  // And on a fresh, independently generated fleet.
  vo.seed = 12;
  const auto eval = evaluate_anomaly(r.compiled.tem, synthesize_vibration(vo), 2);
  std::printf("autoencoder: fresh fleet AUC int8 %.4f\n", eval.auc);
  EXPECT_GE(eval.auc, 0.95);
  TemRunner runner(r.compiled.tem);
  EXPECT_EQ(runner.model().input_info().element_count, static_cast<std::size_t>(kVibrationFeatures));
  const auto out = runner.run(r.self_test.input);
  EXPECT_EQ(std::vector<std::int8_t>(out.begin(), out.end()), r.self_test.output);
}

TEST(TrainAnomaly, NoNormalWindowsIsAnError) {
  VibrationOptions vo;
  vo.machines = 4;
  vo.windows_per_machine = 2;
  vo.faulty_fraction = 1.0;
  AnomalyTrainRequest req;
  req.data = synthesize_vibration(vo);
  req.train.epochs = 1;
  EXPECT_THROW(train_anomaly(req, nullptr), std::runtime_error);
}

}  // namespace
}  // namespace tinyedge::train
