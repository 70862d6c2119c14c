// The drift watch's settings (config "drift": {...}); see drift_detector.h for what each judges.
#pragma once
#include <cstdint>

namespace tinyedge::drift {

struct DriftOptions {
  bool enabled = true;
  uint32_t baseline = 5000;     // results learnt before judging
  uint32_t window = 1000;       // latest results judged against the baseline
  uint32_t evaluate_every = 0;  // results between verdicts (0: window / 4)
  double max_label_jsd = 0.02;  // bits above the noise floor
  double max_score_jsd = 0.02;
  double quantile = 0.9999;  // of the noise floor: many verdicts over a long run, so stricter than the gate's
  uint32_t confirm = 2;
  // The input tensors' statistics nodes put in Telemetry (input_drift.h): counted in telemetry
  // periods, not results; judged every input_window / 4 periods.
  uint32_t input_baseline = 60;  // periods learnt before judging
  uint32_t input_window = 20;    // latest periods judged against the baseline
  double max_input_shift = 2.0;  // int8 steps (of the mean or the standard deviation) above the noise floor
};

}  // namespace tinyedge::drift
