// The streaming keyword detector on the tone model of speech_model.h and synthetic streams with
// words at known times: detections at the right times with the right labels, nothing for silence,
// hiss or unknown speech, one detection per refractory period, and a feature window that is the
// batch front-end's, row for row, however the audio is chunked.
#include "node_firmware/app/keyword_detector.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "node_firmware/app/runtime_engine.h"
#include "tests/speech_node/speech_model.h"

namespace tinyedge::app {
namespace {

using speech_test::Word;

struct Workspace {
  explicit Workspace(size_t bytes) : words(bytes / 8 + 1) {}
  std::span<uint8_t> bytes() { return {reinterpret_cast<uint8_t*>(words.data()), words.size() * 8}; }
  std::vector<uint64_t> words;
};

class DetectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tem_ = speech_test::speech_model_tem();
    ASSERT_EQ(engine_.load(tem_), runtime::Status::kOk);
  }

  DetectorConfig detector_config() const {
    DetectorConfig c;
    c.infer_every_strides = 1;
    c.smoothing_ms = 100;
    c.refractory_ms = 1000;
    c.threshold = 200;
    c.ignored_labels = 0b11;  // _silence_, _unknown_
    return c;
  }

  // Configures a detector over the test model and runs `samples` through it in `chunk`-sample
  // pieces; returns every detection.
  std::vector<Detection> run(std::span<const int16_t> samples, const DetectorConfig& config, size_t chunk = 320,
                             InferenceEngine* engine = nullptr) {
    if (engine == nullptr) engine = &engine_;
    const auto front_end = speech_test::speech_front_end();
    workspace_.emplace(KeywordDetector::workspace_bytes(front_end, engine->input().size(), engine->output().size()));
    std::vector<Detection> found;
    const DetectorStatus configured = detector_.configure(front_end, config, *engine, workspace_->bytes());
    EXPECT_EQ(configured, DetectorStatus::kOk) << to_string(configured);
    for (size_t at = 0; at < samples.size(); at += chunk) {
      std::span<const int16_t> piece = samples.subspan(at, std::min(chunk, samples.size() - at));
      while (!piece.empty()) {
        size_t consumed = 0;
        bool detected = false;
        Detection d;
        const DetectorStatus status = detector_.push(piece, consumed, d, detected);
        EXPECT_EQ(status, DetectorStatus::kOk) << to_string(status);
        if (status != DetectorStatus::kOk) return found;
        if (detected) found.push_back(d);
        piece = piece.subspan(consumed);
      }
    }
    return found;
  }

  static std::vector<int16_t> stream(uint32_t total_ms, std::vector<Word> words, int32_t hiss = 64) {
    std::vector<int16_t> samples(total_ms * 16);
    speech_test::make_speech_stream(samples, words, hiss);
    return samples;
  }

  std::vector<uint8_t> tem_;
  std::vector<uint64_t> arena_storage_ = std::vector<uint64_t>(4096);
  RuntimeEngine engine_{std::span(reinterpret_cast<uint8_t*>(arena_storage_.data()), arena_storage_.size() * 8)};
  std::optional<Workspace> workspace_;
  KeywordDetector detector_;
};

std::string describe(const std::vector<Detection>& found) {
  std::string s;
  for (const auto& d : found) {
    s += "label " + std::to_string(d.label) + " score " + std::to_string(d.score) + " at " + std::to_string(d.at_ms) +
         " ms; ";
  }
  return s.empty() ? "no detections" : s;
}

TEST_F(DetectorTest, DetectsEachKeywordOnceAtItsTime) {
  const auto samples = stream(6000, {{speech_test::kLowHz, 1000, 500}, {speech_test::kHighHz, 3000, 500}});
  const auto found = run(samples, detector_config());
  ASSERT_EQ(found.size(), 2u) << describe(found);
  EXPECT_EQ(found[0].label, speech_test::kLabelLow) << describe(found);
  EXPECT_EQ(found[1].label, speech_test::kLabelHigh) << describe(found);
  // Confirmed while the word is heard, or within the window and smoothing latency after it.
  EXPECT_GE(found[0].at_ms, 1000u) << describe(found);
  EXPECT_LE(found[0].at_ms, 1500u + 320u) << describe(found);
  EXPECT_GE(found[1].at_ms, 3000u) << describe(found);
  EXPECT_LE(found[1].at_ms, 3500u + 320u) << describe(found);
  for (const auto& d : found) EXPECT_GE(d.score, 200) << describe(found);
  // One inference per stride once the first window is full.
  EXPECT_EQ(detector_.inferences(), 6000u / 20 - (speech_test::kModelRows + 1) + 1);
  EXPECT_EQ(detector_.audio_ms(), 6000u);
}

TEST_F(DetectorTest, SilenceAndHissReportNothing) {
  EXPECT_EQ(run(stream(5000, {}, 0), detector_config()).size(), 0u) << "digital silence";
  const auto hiss = run(stream(5000, {}, 64), detector_config());
  EXPECT_EQ(hiss.size(), 0u) << describe(hiss);
  const auto loud_hiss = run(stream(5000, {}, 1500), detector_config());
  EXPECT_EQ(loud_hiss.size(), 0u) << describe(loud_hiss);
  EXPECT_GT(detector_.inferences(), 200u);
}

TEST_F(DetectorTest, UnknownSpeechReportsNothingThoughTheModelHearsIt) {
  const auto samples = stream(4000, {{speech_test::kUnknownHz, 1000, 500}});
  const auto found = run(samples, detector_config());
  EXPECT_EQ(found.size(), 0u) << describe(found);
  // The same stream with only _silence_ ignored: the model does call it _unknown_ (so it is the
  // ignore list, not the threshold, that keeps it out of the results).
  DetectorConfig all = detector_config();
  all.ignored_labels = 0b1;
  const auto heard = run(samples, all);
  ASSERT_EQ(heard.size(), 1u) << describe(heard);
  EXPECT_EQ(heard[0].label, 1u);
}

TEST_F(DetectorTest, RefractoryPeriodSuppressesARepeatedWord) {
  const auto samples = stream(4000, {{speech_test::kLowHz, 1000, 400}, {speech_test::kLowHz, 1800, 400}});
  DetectorConfig config = detector_config();
  config.refractory_ms = 1500;
  const auto once = run(samples, config);
  ASSERT_EQ(once.size(), 1u) << describe(once);
  EXPECT_LE(once[0].at_ms, 1400u + 320u);
  config.refractory_ms = 300;
  const auto twice = run(samples, config);
  ASSERT_EQ(twice.size(), 2u) << describe(twice);
  EXPECT_GE(twice[1].at_ms, 1800u) << describe(twice);
  EXPECT_GE(twice[1].at_ms - twice[0].at_ms, 300u) << describe(twice);
}

// Wraps the engine and checks every feature window the detector hands the model against the
// batch front-end's rows over the audio heard so far.
class WindowCheckingEngine final : public InferenceEngine {
 public:
  WindowCheckingEngine(InferenceEngine& inner, std::vector<int8_t> batch_rows, size_t features_per_row)
      : inner_(inner), batch_rows_(std::move(batch_rows)), features_per_row_(features_per_row) {}
  bool ready() const override { return inner_.ready(); }
  ModelInfo info() const override { return inner_.info(); }
  std::span<int8_t> input() override { return inner_.input(); }
  bool invoke() override {
    // Inference k (0-based) sees rows k .. k + rows - 1 of the batch output.
    const auto in = inner_.input();
    const size_t offset = windows_ * features_per_row_;
    if (offset + in.size() > batch_rows_.size() || !std::equal(in.begin(), in.end(), batch_rows_.begin() + offset)) {
      ++mismatches_;
    }
    ++windows_;
    return inner_.invoke();
  }
  std::span<const int8_t> output() const override { return inner_.output(); }
  int32_t output_zero_point() const override { return inner_.output_zero_point(); }
  size_t windows_ = 0;
  size_t mismatches_ = 0;

 private:
  InferenceEngine& inner_;
  std::vector<int8_t> batch_rows_;
  size_t features_per_row_;
};

TEST_F(DetectorTest, FeatureWindowIsTheBatchFrontEndsRowsShiftedOneStrideAtATime) {
  const auto samples = stream(3000, {{speech_test::kLowHz, 700, 400}, {speech_test::kHighHz, 1900, 300}});
  const auto config = speech_test::speech_front_end();
  Workspace ws(audio::workspace_bytes(config));
  audio::AudioFrontEnd batch;
  ASSERT_EQ(batch.configure(config, ws.bytes()), audio::AudioStatus::kOk);
  std::vector<int8_t> rows(config.rows_for(samples.size()) * config.features_per_row());
  size_t row_count = 0;
  ASSERT_EQ(audio::compute_clip(batch, samples, rows, row_count), audio::AudioStatus::kOk);
  for (size_t chunk : {size_t{1}, size_t{37}, size_t{320}, size_t{5000}}) {
    WindowCheckingEngine checking(engine_, rows, config.features_per_row());
    run(samples, detector_config(), chunk, &checking);
    EXPECT_EQ(checking.windows_, row_count - speech_test::kModelRows + 1) << "chunk " << chunk;
    EXPECT_EQ(checking.mismatches_, 0u) << "chunk " << chunk << ": a window differed from the batch rows";
  }
}

TEST_F(DetectorTest, DetectionsDoNotDependOnHowTheAudioIsChunked) {
  const auto samples = stream(5000, {{speech_test::kHighHz, 800, 500}, {speech_test::kLowHz, 2600, 500}});
  const auto reference = run(samples, detector_config(), samples.size());
  ASSERT_EQ(reference.size(), 2u) << describe(reference);
  for (size_t chunk : {size_t{1}, size_t{37}, size_t{321}}) {
    const auto found = run(samples, detector_config(), chunk);
    ASSERT_EQ(found.size(), reference.size()) << "chunk " << chunk << ": " << describe(found);
    for (size_t i = 0; i < found.size(); ++i) {
      EXPECT_EQ(found[i].label, reference[i].label);
      EXPECT_EQ(found[i].score, reference[i].score);
      EXPECT_EQ(found[i].at_ms, reference[i].at_ms);
    }
  }
}

TEST_F(DetectorTest, InfersEveryNStrides) {
  const auto samples = stream(3000, {{speech_test::kLowHz, 1000, 600}});
  DetectorConfig config = detector_config();
  config.infer_every_strides = 3;
  const auto found = run(samples, config);
  const uint32_t windows = 3000 / 20 - speech_test::kModelRows;  // rows after the first window
  EXPECT_EQ(detector_.inferences(), windows / 3 + 1);
  ASSERT_EQ(found.size(), 1u) << describe(found);
  EXPECT_EQ(found[0].label, speech_test::kLabelLow);
}

TEST_F(DetectorTest, RefusesWhatItCannotRun) {
  auto front_end = speech_test::speech_front_end();
  Workspace ws(64 * 1024);
  KeywordDetector d;
  size_t consumed = 0;
  bool detected = false;
  Detection det;
  const int16_t some[4] = {};
  EXPECT_EQ(d.push(some, consumed, det, detected), DetectorStatus::kNotConfigured);

  DetectorConfig config = detector_config();
  config.infer_every_strides = 0;
  EXPECT_EQ(d.configure(front_end, config, engine_, ws.bytes()), DetectorStatus::kBadDetectorConfig);
  config = detector_config();
  config.smoothing_ms = 20 * (kMaxSmoothedInferences + 1);
  EXPECT_EQ(d.configure(front_end, config, engine_, ws.bytes()), DetectorStatus::kBadDetectorConfig);

  auto twelve = front_end;
  twelve.mel_channels = 12;  // 160 inputs are not whole rows of 12
  EXPECT_EQ(d.configure(twelve, detector_config(), engine_, ws.bytes()), DetectorStatus::kInputNotWholeRows);
  auto huge = front_end;
  huge.window_ms = 100;  // needs a 2048-point FFT
  EXPECT_EQ(d.configure(huge, detector_config(), engine_, ws.bytes()), DetectorStatus::kFrontEndRefused);
  EXPECT_EQ(d.audio_status(), audio::AudioStatus::kWindowTooLarge);

  const size_t need = KeywordDetector::workspace_bytes(front_end, engine_.input().size(), engine_.output().size());
  EXPECT_EQ(d.configure(front_end, detector_config(), engine_, ws.bytes().first(need - 1)),
            DetectorStatus::kWorkspaceTooSmall);
  EXPECT_EQ(d.configure(front_end, detector_config(), engine_, ws.bytes().subspan(4, need)),
            DetectorStatus::kWorkspaceTooSmall);
  EXPECT_FALSE(d.configured());
  EXPECT_EQ(d.push(some, consumed, det, detected), DetectorStatus::kNotConfigured);
  EXPECT_EQ(d.configure(front_end, detector_config(), engine_, ws.bytes().first(need)), DetectorStatus::kOk);

  RuntimeEngine empty({});
  EXPECT_EQ(d.configure(front_end, detector_config(), empty, ws.bytes()), DetectorStatus::kModelNotReady);
}

}  // namespace
}  // namespace tinyedge::app
