// The node's speech path without a network: the listener configures itself from the loaded
// model's front-end record and turns microphone audio into detections on the node's clock; the
// node reports them as results; a model whose front-end this node cannot run is never run, and
// the pre-activation self-test refuses it with its own status.
#include <gtest/gtest.h>

#include <vector>

#include "node_firmware/app/node.h"
#include "node_firmware/app/runtime_self_test.h"
#include "node_firmware/app/sample_microphone.h"
#include "node_firmware/app/speech_listener.h"
#include "tests/node/fakes.h"
#include "tests/speech_node/speech_model.h"

namespace tinyedge::app {
namespace {

using speech_test::Word;
using testing::FakeBearer;
using testing::FakePlatform;

// Plays a stream as recordings of `clip_samples` each (clip ids 1, 2, ...), `per_read` samples
// per read, as fast as it is read.
class StreamMicrophone final : public Microphone {
 public:
  StreamMicrophone(std::vector<int16_t> samples, size_t clip_samples, size_t per_read, uint32_t rate = 16000)
      : samples_(std::move(samples)), clip_samples_(clip_samples), per_read_(per_read), rate_(rate) {}
  size_t read(std::span<int16_t> out, uint32_t& clip_id) override {
    const size_t clip_end = (next_ / clip_samples_ + 1) * clip_samples_;
    const size_t n = std::min({out.size(), per_read_, samples_.size() - next_, clip_end - next_});
    std::copy_n(samples_.begin() + static_cast<std::ptrdiff_t>(next_), n, out.begin());
    clip_id = static_cast<uint32_t>(next_ / clip_samples_ + 1);
    next_ += n;
    return n;
  }
  uint32_t sample_rate_hz() const override { return rate_; }
  bool done() const { return next_ == samples_.size(); }

 private:
  std::vector<int16_t> samples_;
  size_t clip_samples_, per_read_;
  uint32_t rate_;
  size_t next_ = 0;
};

std::vector<int16_t> stream(uint32_t total_ms, std::vector<Word> words) {
  std::vector<int16_t> samples(total_ms * 16);
  speech_test::make_speech_stream(samples, words);
  return samples;
}

struct Arena {
  std::vector<uint64_t> words = std::vector<uint64_t>(4096);
  std::span<uint8_t> bytes() { return {reinterpret_cast<uint8_t*>(words.data()), words.size() * 8}; }
};

DetectorConfig detector_config() {
  DetectorConfig c;
  c.smoothing_ms = 100;
  c.refractory_ms = 1000;
  c.threshold = 200;
  return c;
}

// A record for `config` (which need not be what the weights were made for).
std::vector<uint8_t> record_of(const audio::AudioFrontEndConfig& config) {
  std::vector<uint8_t> r(audio::kFrontEndRecordBytes);
  audio::encode_front_end(config, std::span<uint8_t, audio::kFrontEndRecordBytes>(r.data(), r.size()));
  return r;
}

TEST(SpeechListener, ReportsDetectionsOnTheNodesClockWithTheirClip) {
  const auto tem = speech_test::speech_model_tem();
  Arena arena, ram;
  RuntimeEngine engine(arena.bytes());
  ASSERT_EQ(engine.load(tem), runtime::Status::kOk);
  FakePlatform platform;
  platform.ms = 5000;  // the node has been up 5 s when the microphone starts
  // Two recordings of 2 s: "low" at 0.5 s in the first, "high" at 0.8 s in the second.
  StreamMicrophone mic(stream(4000, {{speech_test::kLowHz, 500, 500}, {speech_test::kHighHz, 2800, 500}}), 32000, 160);
  SpeechListener listener(platform, mic, engine, ram.bytes(), detector_config());
  ASSERT_TRUE(listener.active()) << to_string(listener.model_status());
  EXPECT_EQ(listener.model_check().ignored_labels, 0b11u);
  std::vector<StreamEvent> events;
  while (!mic.done()) {
    StreamEvent e;
    while (listener.poll(e)) events.push_back(e);
  }
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].label, speech_test::kLabelLow);
  EXPECT_EQ(events[0].sample_id, 1u);
  EXPECT_GE(events[0].at_ms, 5000u + 500u);
  EXPECT_LE(events[0].at_ms, 5000u + 1000u + 320u);
  EXPECT_EQ(events[1].label, speech_test::kLabelHigh);
  EXPECT_EQ(events[1].sample_id, 2u);
  EXPECT_GE(events[1].at_ms, 5000u + 2800u);
  EXPECT_LE(events[1].at_ms, 5000u + 3300u + 320u);
  EXPECT_GE(events[0].score, 200);
}

TEST(SpeechListener, NodeReportsDetectionsAsResultsAndNoIntervalInferences) {
  const auto tem = speech_test::speech_model_tem();
  Arena arena, ram;
  RuntimeEngine engine(arena.bytes());
  ASSERT_EQ(engine.load(tem), runtime::Status::kOk);
  FakePlatform platform;
  StreamMicrophone mic(stream(3000, {{speech_test::kHighHz, 1000, 500}}), 48000, 320);
  SpeechListener listener(platform, mic, engine, ram.bytes(), detector_config());
  testing::CountingSensor sensor;
  FakeBearer bearer;
  StaticResultRing<16> ring;
  std::vector<uint8_t> tx(protocol::kMaxUplinkBytes), rx(protocol::kMaxDownlinkBytes);
  NodeConfig config;
  config.node_id = "ear";
  config.report_interval_ms = 10;
  Node node(config, platform, sensor, bearer, engine, ring, tx, rx);
  node.set_event_source(&listener);
  for (int i = 0; i < 2000 && !mic.done(); ++i) {
    node.step();
    platform.ms += 10;
  }
  for (int i = 0; i < 10; ++i) {
    node.step();
    platform.ms += 10;
  }
  EXPECT_EQ(sensor.n, 0u) << "the interval sensor was read while a speech model ran";
  std::vector<tinyedge_v1_InferenceResult> results;
  for (const auto& m : bearer.sent) {
    if (m.which_payload != tinyedge_v1_Uplink_results_tag) continue;
    EXPECT_EQ(m.payload.results.model_id, 15u);
    for (pb_size_t i = 0; i < m.payload.results.results_count; ++i) results.push_back(m.payload.results.results[i]);
  }
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].label, speech_test::kLabelHigh);
  EXPECT_GE(results[0].score, 200u);
  EXPECT_EQ(results[0].sample_id, 1u);
  EXPECT_EQ(results[0].runners_up_count, 0u);
  EXPECT_GT(node.counters().inferences, 100u);
}

TEST(SpeechListener, AModelWithoutFrontEndIsLeftToTheSampleInterval) {
  auto graph_tem = [] {
    model::ModelMetadata meta;
    meta.name = "plain";
    meta.model_id = 16;
    meta.labels = {"_silence_", "_unknown_", "low", "high"};
    return model::compile(speech_test::speech_graph(speech_test::speech_front_end()), meta).tem;
  }();
  Arena arena, ram;
  RuntimeEngine engine(arena.bytes());
  ASSERT_EQ(engine.load(graph_tem), runtime::Status::kOk);
  FakePlatform platform;
  StreamMicrophone mic(stream(1000, {}), 16000, 160);
  SpeechListener listener(platform, mic, engine, ram.bytes(), detector_config());
  EXPECT_FALSE(listener.active());
  EXPECT_EQ(listener.model_status(), SpeechModelStatus::kNoFrontEnd);
}

// Each way a speech model can be one this node cannot run: never run by the listener, and
// refused by the self-test an update must pass.
TEST(SpeechListener, ModelsThisNodeCannotRunAreRefusedNeverRun) {
  const auto good = speech_test::speech_front_end();
  auto eight_khz = good;
  eight_khz.sample_rate_hz = 8000;
  auto other_scale = good;
  other_scale.output_scale = 0.5f;
  auto twelve_mel = good;
  twelve_mel.mel_channels = 12;
  std::vector<uint8_t> not_audio = record_of(good);
  not_audio[0] ^= 0xFF;  // another sensor's magic
  std::vector<uint8_t> too_large = record_of(good);
  too_large[4 + 4] = 200;  // window_ms 200: an FFT this build does not have
  struct Case {
    const char* what;
    std::vector<uint8_t> record;
    SpeechModelStatus expected;
  };
  const std::vector<Case> cases = {
      {"8 kHz front-end on a 16 kHz microphone", record_of(eight_khz), SpeechModelStatus::kSampleRateMismatch},
      {"front-end scale differs from the input's", record_of(other_scale), SpeechModelStatus::kInputNotFeatures},
      {"input is not whole rows of 12 features", record_of(twelve_mel), SpeechModelStatus::kInputNotFeatures},
      {"record of another sensor", not_audio, SpeechModelStatus::kRecordRefused},
  };
  for (const auto& c : cases) {
    const auto tem = speech_test::speech_model_tem(good, 2, c.record);
    Arena arena, ram, test_arena;
    RuntimeEngine engine(arena.bytes());
    ASSERT_EQ(engine.load(tem), runtime::Status::kOk) << c.what;
    FakePlatform platform;
    StreamMicrophone mic(stream(3000, {{speech_test::kLowHz, 1000, 500}}), 48000, 160);
    SpeechListener listener(platform, mic, engine, ram.bytes(), detector_config());
    EXPECT_FALSE(listener.active()) << c.what;
    EXPECT_EQ(listener.model_status(), c.expected) << c.what << ": " << to_string(listener.model_status());
    StreamEvent e;
    EXPECT_FALSE(listener.poll(e)) << c.what;
    EXPECT_EQ(listener.inferences(), 0u) << c.what << ": the model was run";

    RuntimeSelfTest self_test(test_arena.bytes());
    self_test.set_speech_capability(listener.capability());
    ota::Digest digest{};
    EXPECT_EQ(self_test.run(tem, {}, digest), SelfTestStatus::kFrontEndUnsupported) << c.what;
    EXPECT_EQ(self_test.last_speech_status(), c.expected) << c.what;
  }
  // A record the decoder refuses (window too large) names the audio reason too.
  Arena arena;
  runtime::Model model;
  const auto tem = speech_test::speech_model_tem(good, 2, too_large);
  ASSERT_EQ(runtime::Model::load(tem, model), runtime::Status::kOk);
  const auto check = check_speech_model(model, {16000, 1 << 20});
  EXPECT_EQ(check.status, SpeechModelStatus::kRecordRefused);
  EXPECT_NE(check.audio, audio::AudioStatus::kOk);
}

TEST(SpeechListener, SelfTestPassesASpeechModelOnlyWhereItCanRun) {
  const auto tem = speech_test::speech_model_tem();
  Arena arena;
  RuntimeSelfTest self_test(arena.bytes());
  ota::Digest digest{};
  // A node without a microphone (the default): refused.
  EXPECT_EQ(self_test.run(tem, {}, digest), SelfTestStatus::kFrontEndUnsupported);
  EXPECT_EQ(self_test.last_speech_status(), SpeechModelStatus::kNoMicrophone);
  // Too little detector RAM: refused.
  self_test.set_speech_capability({16000, 256});
  EXPECT_EQ(self_test.run(tem, {}, digest), SelfTestStatus::kFrontEndUnsupported);
  EXPECT_EQ(self_test.last_speech_status(), SpeechModelStatus::kNotEnoughRam);
  // A 16 kHz microphone and room: passes.
  self_test.set_speech_capability({16000, 32 * 1024});
  EXPECT_EQ(self_test.run(tem, {}, digest), SelfTestStatus::kOk);
  EXPECT_EQ(self_test.last_speech_status(), SpeechModelStatus::kOk);
}

TEST(SpeechListener, AnActivatedUpdateIsPickedUpAndTheStreamRestarts) {
  const auto v1 = speech_test::speech_model_tem(speech_test::speech_front_end(), 1);
  const auto v2 = speech_test::speech_model_tem(speech_test::speech_front_end(), 2);
  Arena arena, ram;
  RuntimeEngine engine(arena.bytes());
  ASSERT_EQ(engine.load(v1), runtime::Status::kOk);
  FakePlatform platform;
  StreamMicrophone mic(stream(4000, {{speech_test::kLowHz, 2500, 500}}), 64000, 160);
  SpeechListener listener(platform, mic, engine, ram.bytes(), detector_config());
  ASSERT_TRUE(listener.active());
  StreamEvent e;
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(listener.poll(e));  // 1.6 s: up to before the word
  EXPECT_GT(listener.audio_ms(), 1000u);
  ASSERT_EQ(engine.load(v2), runtime::Status::kOk);
  ASSERT_TRUE(listener.active());
  EXPECT_EQ(listener.audio_ms(), 0u) << "the stream did not restart with the new model";
  std::vector<StreamEvent> events;
  while (!mic.done()) {
    while (listener.poll(e)) events.push_back(e);
  }
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].label, speech_test::kLabelLow);
}

// The M4 node's microphone: a sample in memory delivered at the clock's pace, never ahead of it.
TEST(SampleMicrophone, DeliversWhatTheClockHasHeardOnceOrOverAndOver) {
  std::vector<int16_t> sample(1600);  // 100 ms at 16 kHz
  for (size_t i = 0; i < sample.size(); ++i) sample[i] = static_cast<int16_t>(i);
  FakePlatform platform;
  platform.ms = 700;
  SampleMicrophone once(sample, 16000, platform, false);
  int16_t out[512];
  uint32_t clip = 0;
  EXPECT_EQ(once.read(out, clip), 0u) << "samples before any time passed";
  platform.ms += 10;
  ASSERT_EQ(once.read(out, clip), 160u);
  EXPECT_EQ(out[0], 0);
  EXPECT_EQ(out[159], 159);
  EXPECT_EQ(clip, 1u);
  EXPECT_EQ(once.read(out, clip), 0u) << "ahead of the clock";
  platform.ms += 1000;
  size_t total = 160;
  for (size_t n; (n = once.read(out, clip)) != 0;) total += n;
  EXPECT_EQ(total, sample.size());
  EXPECT_TRUE(once.finished());

  SampleMicrophone looping(sample, 16000, platform, true);
  EXPECT_EQ(looping.read(out, clip), 0u);
  platform.ms += 250;  // two and a half repetitions
  std::vector<int16_t> heard;
  std::vector<uint32_t> clips;
  for (size_t n; (n = looping.read(out, clip)) != 0;) {
    heard.insert(heard.end(), out, out + n);
    clips.push_back(clip);
  }
  ASSERT_EQ(heard.size(), 4000u);
  EXPECT_EQ(heard[1600], 0);
  EXPECT_EQ(heard[3999], 799);
  EXPECT_EQ(clips.front(), 1u);
  EXPECT_EQ(clips.back(), 3u);
  EXPECT_FALSE(looping.finished());
}

}  // namespace
}  // namespace tinyedge::app
