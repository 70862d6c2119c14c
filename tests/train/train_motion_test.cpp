// `tinyedge train motion` end to end on a small synthetic gesture log (`data synth-motion`, said
// to be synthetic): a reduced 1-D DS-CNN far above chance on held-out recordings, `model eval` on
// the log agreeing, the node's window step giving the trainer's windows, and bad logs (a missing
// column, a non-numeric cell, a label with no complete window) refused by file, line and column
// with nothing written.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "deploy/train/motion_windows.h"
#include "node_firmware/motion/motion_window.h"
#include "tests/train/cli_run.h"

namespace {

namespace fs = std::filesystem;

using tinyedge::train::testing::cli;
using tinyedge::train::testing::percent_after;
using tinyedge::train::testing::Run;
using tinyedge::train::testing::run;

fs::path scratch(const std::string& what) { return tinyedge::train::testing::scratch("motion", what); }

TEST(MotionWindowStep, GivesTheTrainersWindowsOldestFirst) {
  // One label, 10 samples of 2 axes: the trainer's windows of 4 every 2 samples equal the ring's.
  tinyedge::motion::MotionLog log;
  log.source = "log";
  log.axes = {"x", "y"};
  for (int i = 0; i < 10; ++i) {
    log.time.push_back(i);
    log.values.push_back(static_cast<float>(i));
    log.values.push_back(static_cast<float>(-i));
    log.labels.push_back(i < 5 ? "a" : "b");  // two labels, so it splits
    log.line.push_back(static_cast<std::size_t>(i + 2));
  }
  std::vector<int8_t> ring(8), sample(2), window(8);
  tinyedge::motion::MotionWindow step;
  ASSERT_EQ(step.init(ring, 4, 2, 2), tinyedge::motion::MotionStatus::kOk);
  std::vector<std::vector<int8_t>> node_windows;
  for (std::size_t r = 0; r < 5; ++r) {  // label "a": rows 0..4
    tinyedge::motion::quantize_sample(std::span<const float>(log.values).subspan(r * 2, 2), 1.0f, 0, sample);
    if (step.push(sample)) {
      step.copy_window(window);
      node_windows.push_back(window);
    }
  }
  const auto w = tinyedge::train::cut_windows(log, 4, 2);
  ASSERT_EQ(node_windows.size(), 1u);  // rows 0..3 (the next would start at row 2 and end at 5)
  const auto first = w.window_values(0);
  for (std::size_t i = 0; i < 8; ++i) EXPECT_EQ(node_windows[0][i], static_cast<int8_t>(first[i])) << i;
  EXPECT_EQ(tinyedge::motion::MotionWindow{}.init(ring, 4, 2, 5), tinyedge::motion::MotionStatus::kBadShape);
}

TEST(TrainMotion, ReducedOneDimensionalDsCnnBeatsChanceOnHeldOutRecordingsAndEvalAgrees) {
  const auto dir = scratch("train");
  const auto log = (dir / "gestures.csv").string();
  auto r = cli("data synth-motion --recordings 6 --seconds 4 --rate 25 --seed 3 -o " + log);
  ASSERT_EQ(r.status, 0) << r.output;
  r = cli("train motion --data " + log +
          " --window 32 --stride 8 --ram 4K --flash 8K --epochs 15 --batch-size 32 --lr 1e-2 --threads 1 -o " +
          (dir / "m.tem").string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("architecture picked for the budget: 1-D ds-cnn"), std::string::npos) << r.output;
  const double int8 = percent_after(r.output, "int8 (runtime) ");
  EXPECT_GE(int8, 70.0) << "5 gestures (chance 20 %), held-out recordings\n" << r.output;
  r = cli("model eval " + (dir / "m.tem").string() + " --data " + log + " --stride 8");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NEAR(percent_after(r.output, "windows: "), int8, 0.01) << r.output;
  EXPECT_NE(r.output.find("confusion matrix"), std::string::npos) << r.output;
  fs::remove_all(dir);
}

std::string refusal(const fs::path& log, const std::string& csv) {
  std::ofstream(log) << csv;
  try {
    (void)tinyedge::train::cut_windows(tinyedge::motion::read_motion_csv(log, {}), 4, 2);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(TrainMotionBadInput, MissingColumnNonNumericCellAndEmptyClassAreRefusedByLineAndName) {
  const auto dir = scratch("bad");
  const auto log = dir / "log.csv";
  std::string good = "timestamp_ms,ax,ay,label\n";
  for (int i = 0; i < 12; ++i) good += std::to_string(i * 20) + ",0.1,0.2," + (i < 6 ? "idle\n" : "wave\n");
  EXPECT_EQ(refusal(log, "timestamp_ms,ax,ay,gesture\n0,1,2,idle\n"),
            log.string() + ":1: no column 'label' (the header has timestamp_ms,ax,ay,gesture)");
  EXPECT_EQ(refusal(log, good + "240,0.1\n"), log.string() + ":14: 2 cells, the header has 4");
  EXPECT_EQ(refusal(log, good + "260,0.1,0.2,tap\n"),
            log.string() + ": label 'tap' has no complete window (1 samples in 1 recording(s), --window 4)");
  // Through the CLI once: a non-numeric cell names its line and column, and nothing is written.
  std::string bad = good;
  bad.replace(bad.find("0.2"), 3, "abc");  // the first data row is line 2
  std::ofstream(log) << bad;
  const auto r =
      cli("train motion --data " + log.string() + " --window 4 --stride 2 --epochs 1 -o " + (dir / "m.tem").string());
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find(log.string() + ":2: column 'ay': 'abc' is not a number"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir / "m.tem"));
  fs::remove_all(dir);
}

}  // namespace
