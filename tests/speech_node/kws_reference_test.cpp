// The speech path with a real keyword model: MLPerf Tiny's kws_ref_model (49 x 10 MFCC input)
// given the front-end record of its input (16 kHz, 40 ms window, 20 ms stride, 40 mel channels,
// 10 MFCC, quantised as the model's input). The node accepts it, and the detector feeds it one
// 49-row window per stride. Its accuracy on our features is not the question here.
#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

#include "deploy/model/compile.h"
#include "deploy/model/tflite_import.h"
#include "node_firmware/app/keyword_detector.h"
#include "node_firmware/app/runtime_engine.h"
#include "node_firmware/app/speech_model.h"
#include "node_firmware/audio/front_end_record.h"
#include "tests/runtime/shared_models.h"
#include "tests/speech_node/speech_signal.h"

namespace tinyedge::app {
namespace {

TEST(KwsReference, AcceptedAndRunOneWindowPerStride) {
  const auto path = testing::shared_models_dir() / "kws_ref_model.tflite";
  TINYEDGE_REQUIRE_SHARED(path);
  const model::Graph graph = model::import_tflite(testing::read_bytes(path));
  const model::Tensor& input = graph.tensors[static_cast<size_t>(graph.inputs[0])];
  audio::AudioFrontEndConfig fe;
  fe.sample_rate_hz = 16000;
  fe.window_ms = 40;
  fe.stride_ms = 20;
  fe.mel_channels = 40;
  fe.mfcc_coefficients = 10;
  fe.lower_hz = 20;
  fe.upper_hz = 4000;
  fe.output_scale = input.quant.scales[0];
  fe.output_zero_point = static_cast<int8_t>(input.quant.zero_points[0]);
  ASSERT_EQ(fe.validate(), audio::AudioStatus::kOk);
  model::ModelMetadata meta;
  meta.name = "kws_ref";
  meta.model_id = 21;
  meta.labels = {"_silence_", "_unknown_", "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"};
  meta.front_end.resize(audio::kFrontEndRecordBytes);
  audio::encode_front_end(fe, std::span<uint8_t, audio::kFrontEndRecordBytes>(meta.front_end.data(), 28));
  const auto tem = model::compile(graph, meta).tem;

  std::vector<uint64_t> arena(64 * 1024 / 8);
  RuntimeEngine engine({reinterpret_cast<uint8_t*>(arena.data()), arena.size() * 8});
  ASSERT_EQ(engine.load(tem), runtime::Status::kOk);
  const size_t need = KeywordDetector::workspace_bytes(fe, engine.input().size(), engine.output().size());
  const auto check = check_speech_model(engine.model(), {16000, need});
  ASSERT_EQ(check.status, SpeechModelStatus::kOk) << to_string(check.status);
  EXPECT_EQ(check.ignored_labels, 0b11u);
  EXPECT_EQ(check_speech_model(engine.model(), {16000, need - 1}).status, SpeechModelStatus::kNotEnoughRam);
  std::printf("kws_ref_model on the node: front-end + detector RAM %zu bytes (front-end workspace %zu), arena %u\n",
              need, audio::workspace_bytes(fe), engine.model().arena_bytes());

  std::vector<uint64_t> ram(need / 8 + 1);
  KeywordDetector detector;
  DetectorConfig config;
  config.ignored_labels = check.ignored_labels;
  ASSERT_EQ(detector.configure(fe, config, engine, {reinterpret_cast<uint8_t*>(ram.data()), ram.size() * 8}),
            DetectorStatus::kOk);
  EXPECT_EQ(detector.rows(), 49u);
  std::vector<int16_t> samples(3 * 16000);
  const speech_test::Word word{speech_test::kLowHz, 1000, 600};
  speech_test::make_speech_stream(samples, std::span(&word, 1));
  std::span<const int16_t> rest(samples);
  while (!rest.empty()) {
    size_t consumed = 0;
    bool detected = false;
    Detection d;
    ASSERT_EQ(detector.push(rest, consumed, d, detected), DetectorStatus::kOk);
    rest = rest.subspan(consumed);
  }
  // 150 strides, the first row after 2 (a 640-sample window), the first window after 49 rows.
  EXPECT_EQ(detector.inferences(), fe.rows_for(samples.size()) - 49 + 1);
}

}  // namespace
}  // namespace tinyedge::app
