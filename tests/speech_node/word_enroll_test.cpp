// A word taught to the speech node on the node's own code path: an embedding speech model (audio
// record, then an "EHD1" head) runs through the listener by nearest prototype, unknown speech is
// "unknown", and a new word is enrolled from an enrollment recording (its loudest windows) through
// the EnrollService, then detected by its enrolled class; after a model update it is recomputed
// and still detected; an update activated in place re-binds enrollment (SpeechEnrollment).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <list>
#include <map>
#include <string>
#include <vector>

#include "node_firmware/app/enroll_service.h"
#include "node_firmware/app/prototype_scorer.h"
#include "node_firmware/app/recording_examples.h"
#include "node_firmware/app/slot_store.h"
#include "node_firmware/app/speech_enrollment.h"
#include "node_firmware/app/speech_listener.h"
#include "node_firmware/audio/loudest_windows.h"
#include "node_firmware/audio/wav_file.h"
#include "node_firmware/ports/host/wav_recordings.h"
#include "ota/signing_key.h"
#include "tests/node/fakes.h"
#include "tests/speech_node/signed_share.h"
#include "tests/speech_node/word_model.h"

namespace tinyedge::app {
namespace {

using speech_test::Word;
using testing::FakePlatform;

constexpr uint16_t kLow = 0, kHigh = 1, kFirstEnrolled = 2;

// Plays one stream, 10 ms per read.
class PlayedMicrophone final : public Microphone {
 public:
  explicit PlayedMicrophone(std::vector<int16_t> samples) : samples_(std::move(samples)) {}
  size_t read(std::span<int16_t> out, uint32_t& clip_id) override {
    const size_t n = std::min({out.size(), size_t{160}, samples_.size() - next_});
    std::copy_n(samples_.begin() + static_cast<std::ptrdiff_t>(next_), n, out.begin());
    next_ += n;
    clip_id = 1;
    return n;
  }
  uint32_t sample_rate_hz() const override { return 16000; }
  bool done() const { return next_ == samples_.size(); }

 private:
  std::vector<int16_t> samples_;
  size_t next_ = 0;
};

std::vector<int16_t> stream(uint32_t total_ms, const std::vector<Word>& words, int32_t hiss = 64) {
  std::vector<int16_t> samples(total_ms * 16);
  speech_test::make_speech_stream(samples, words, hiss);
  return samples;
}

using speech_test::enrollment_recording;

class MapRecordings final : public EnrollmentRecordings {
 public:
  std::span<const int16_t> recording(std::string_view label) override {
    const auto it = by_label.find(std::string(label));
    return it == by_label.end() ? std::span<const int16_t>{} : std::span<const int16_t>(it->second);
  }
  std::map<std::string, std::vector<int16_t>> by_label;
};

struct Buffer {
  explicit Buffer(size_t bytes) : words((bytes + 7) / 8) {}
  std::vector<uint64_t> words;
  std::span<uint8_t> bytes() { return {reinterpret_cast<uint8_t*>(words.data()), words.size() * 8}; }
};

DetectorConfig detector_config() {
  DetectorConfig c;
  c.smoothing_ms = 100;  // 5 inferences: a word must be the nearest known class in 4 of them
  c.refractory_ms = 1000;
  c.threshold = 200;
  return c;
}

// A speech node with enrollment: engine, listener with the prototype scorer, the enrolled-class
// table in flash, the EnrollService taking its examples from recordings.
struct SpeechNode {
  Buffer arena{32 * 1024}, detector_ram{32 * 1024}, front_end_ram{16 * 1024};
  RuntimeEngine engine{arena.bytes()};
  std::vector<uint8_t> flash_bytes = std::vector<uint8_t>(16 * 1024, 0xFF);
  MemoryFlash flash{flash_bytes, 1024, 8};
  enroll::ClassTable table{flash, 0, flash_bytes.size()};
  enroll::EnrollConfig config{};
  enroll::Enroller enroller{table, config};
  PrototypeScorer scorer{enroller, config.max_classes};
  MapRecordings recordings;
  RecordingExamples examples{recordings, front_end_ram.bytes()};
  std::vector<int8_t> example_buffer = std::vector<int8_t>(enroll::kMaxExamples * 160);
  EnrollService service{enroller, examples, example_buffer};
  FakePlatform platform;

  explicit SpeechNode(std::vector<uint8_t> tem) {
    EXPECT_EQ(table.mount(), enroll::EnrollStatus::kOk);
    install(std::move(tem));
    service.set_model(&scorer);
  }
  // The engine runs the model in place: the node keeps its bytes, as a flash slot does.
  void install(std::vector<uint8_t> tem) {
    slots.push_back(std::move(tem));
    EXPECT_EQ(engine.load(slots.back()), runtime::Status::kOk);
  }
  std::list<std::vector<uint8_t>> slots;

  // Plays `samples` through a listener over this node's engine; the detections.
  std::vector<StreamEvent> hear(std::vector<int16_t> samples, SpeechModelStatus* status = nullptr) {
    PlayedMicrophone mic(std::move(samples));
    SpeechListener listener(platform, mic, engine, detector_ram.bytes(), detector_config());
    listener.set_scorer(&scorer);
    std::vector<StreamEvent> events;
    const bool active = listener.active();
    if (status != nullptr) *status = listener.model_status();
    if (!active) return events;
    // The listener bound the scorer: the enrollment path reads the same front-end.
    examples.set_front_end(listener.model_check().front_end);
    while (!mic.done()) {
      StreamEvent e;
      while (listener.poll(e)) events.push_back(e);
    }
    return events;
  }

  tinyedge_v1_EnrollmentStatus enroll(const char* label, uint32_t count) {
    tinyedge_v1_EnrollCommand cmd = tinyedge_v1_EnrollCommand_init_zero;
    cmd.action = tinyedge_v1_EnrollCommand_Action_START;
    std::strncpy(cmd.label, label, sizeof cmd.label - 1);
    cmd.examples = count;
    tinyedge_v1_EnrollmentStatus status;
    service.handle(cmd, status);
    return status;
  }
};

std::vector<uint16_t> labels_of(const std::vector<StreamEvent>& events) {
  std::vector<uint16_t> out;
  for (const auto& e : events) out.push_back(e.label);
  return out;
}

TEST(LoudestWindows, PicksTheLoudestNonOverlappingWindowsLoudestFirst) {
  std::vector<int16_t> samples(10000, 0);
  // Bursts at 1000 (amplitude 100), 4000 (300), 7000 (200), each 500 samples.
  for (auto [at, amplitude] : {std::pair{1000, 100}, {4000, 300}, {7000, 200}})
    for (int i = 0; i < 500; ++i)
      samples[static_cast<size_t>(at + i)] = static_cast<int16_t>(i % 2 ? amplitude : -amplitude);
  size_t starts[4] = {};
  ASSERT_EQ(audio::loudest_windows(samples, 500, 100, 0, std::span(starts, 3)), 3u);
  EXPECT_EQ(starts[0], 4000u);
  EXPECT_EQ(starts[1], 7000u);
  EXPECT_EQ(starts[2], 1000u);
  // Twenty 500-sample windows fit; a 21st does not.
  size_t many[21] = {};
  EXPECT_EQ(audio::loudest_windows(samples, 500, 100, 0, many), 20u);
  // Windows below an eighth of the loudest's energy are pauses: the 100-amplitude burst (1/9) is one.
  EXPECT_EQ(audio::loudest_windows(samples, 500, 100, 8, many), 2u);
  EXPECT_EQ(audio::loudest_windows(std::span(samples).first(499), 500, 100, 0, starts), 0u);
  EXPECT_EQ(audio::loudest_windows(samples, 500, 0, 0, starts), 0u);
}

TEST(WordEnrollment, AnEmbeddingSpeechModelIsRunByNearestPrototype) {
  const auto tem = speech_test::word_model_tem();
  ASSERT_FALSE(tem.empty());
  SpeechNode node(tem);
  const SpeechModelCheck check = check_speech_model(node.engine.model(), {16000, 32 * 1024});
  ASSERT_EQ(check.status, SpeechModelStatus::kOk) << to_string(check.status);
  EXPECT_TRUE(check.embedding);
  SpeechModelStatus status{};
  const auto events = node.hear(stream(6000, {{speech_test::kLowHz, 500, 400},
                                              {speech_test::kUnknownHz, 2000, 400},
                                              {speech_test::kMidHz, 3500, 400},
                                              {speech_test::kHighHz, 5000, 400}}),
                                &status);
  ASSERT_EQ(status, SpeechModelStatus::kOk) << to_string(status);
  EXPECT_EQ(labels_of(events), (std::vector<uint16_t>{kLow, kHigh}))
      << "the trained words are detected; unknown speech and a word never enrolled are not";
}

TEST(WordEnrollment, WithoutAScorerOrWithABrokenHeadTheModelIsNotRun) {
  SpeechNode node(speech_test::word_model_tem());
  PlayedMicrophone mic(stream(1000, {}));
  SpeechListener listener(node.platform, mic, node.engine, node.detector_ram.bytes(), detector_config());
  EXPECT_FALSE(listener.active());
  EXPECT_EQ(listener.model_status(), SpeechModelStatus::kNoEnrollment);

  // Labels that do not match the head's classes: refused by the scorer, never run.
  model::ModelMetadata meta;
  auto bad = speech_test::word_model_tem();
  SpeechNode other(bad);
  const auto region = other.engine.model().front_end();
  meta.name = "tone-words";
  meta.model_id = 16;
  meta.version = 1;
  meta.labels = {"low", "high", "extra"};
  meta.front_end.assign(region.begin(), region.end());
  const auto mislabelled = model::compile(speech_test::word_graph(speech_test::speech_front_end()), meta).tem;
  SpeechNode third(mislabelled);
  SpeechModelStatus status{};
  EXPECT_TRUE(third.hear(stream(1000, {}), &status).empty());
  EXPECT_EQ(status, SpeechModelStatus::kHeadRefused);
  EXPECT_EQ(third.scorer.last_status(), enroll::EnrollStatus::kBadHead);
}

TEST(WordEnrollment, AWordEnrolledFromARecordingIsDetectedAndUnknownSpeechIsNot) {
  SpeechNode node(speech_test::word_model_tem());
  node.recordings.by_label["mid"] = enrollment_recording(speech_test::kMidHz, 5);
  // Before: "mid" is nothing the node knows.
  const std::vector<Word> words = {
      {speech_test::kMidHz, 500, 400}, {speech_test::kUnknownHz, 2000, 400}, {speech_test::kLowHz, 3500, 400}};
  EXPECT_EQ(labels_of(node.hear(stream(5000, words))), (std::vector<uint16_t>{kLow}));

  const auto status = node.enroll("mid", 5);
  ASSERT_EQ(status.refusal, tinyedge_v1_EnrollRefusal_ENROLL_OK) << status.refusal;
  EXPECT_EQ(status.examples_used, 5u);
  EXPECT_EQ(status.enrolled_count, 1u);
  // The five utterances, one window each (the recording's words start at 0.5 s + 1.5 s x i); the
  // windows after them hold what is left of each word, quieter.
  ASSERT_GE(node.examples.starts().size(), 5u);
  std::vector<size_t> words_hit;
  for (size_t start : node.examples.starts().first(5)) {
    words_hit.push_back((start / 16 + 200) / 1500);
    const size_t word = words_hit.back();  // the utterance the window sits in
    EXPECT_GE(start / 16, 500 + 1500 * word - 220) << "window at " << start / 16 << " ms misses its word";
    EXPECT_LE(start / 16, 500 + 1500 * word + 400) << "window at " << start / 16 << " ms misses its word";
  }
  std::sort(words_hit.begin(), words_hit.end());
  EXPECT_EQ(words_hit, (std::vector<size_t>{0, 1, 2, 3, 4})) << "the five windows are not the five words";
  EXPECT_EQ(node.enroller.label(kFirstEnrolled), "mid");

  // After: "mid" is detected by its enrolled class, the unknown word still is not.
  EXPECT_EQ(labels_of(node.hear(stream(5000, words))), (std::vector<uint16_t>{kFirstEnrolled, kLow}));

  // An update of the model: the listener binds it, the enrolled word is recomputed with it and
  // still detected.
  node.install(speech_test::word_model_tem(2));
  EXPECT_EQ(labels_of(node.hear(stream(5000, words))), (std::vector<uint16_t>{kFirstEnrolled, kLow}));
  EXPECT_EQ(node.scorer.recomputed(), 1u);
  EXPECT_EQ(node.table.image().model_version, 2u);
}

TEST(WordEnrollment, BadRecordingsAreRefusedWithAReasonAndChangeNothing) {
  SpeechNode node(speech_test::word_model_tem());
  node.hear(stream(300, {}));  // binds the model
  node.recordings.by_label["quiet"] = std::vector<int16_t>(8 * 16000, 0);
  node.recordings.by_label["short"] = enrollment_recording(speech_test::kMidHz, 1);
  node.recordings.by_label["tiny"] = std::vector<int16_t>(100, 1000);
  node.recordings.by_label["mid"] = enrollment_recording(speech_test::kMidHz, 5);
  node.recordings.by_label["low"] = enrollment_recording(speech_test::kMidHz, 5);
  EXPECT_EQ(node.enroll("quiet", 5).refusal, tinyedge_v1_EnrollRefusal_ENROLL_SILENT_EXAMPLE);
  EXPECT_EQ(node.enroll("short", 5).refusal, tinyedge_v1_EnrollRefusal_ENROLL_TOO_FEW_EXAMPLES)
      << "a recording of one word gave five examples";
  EXPECT_EQ(node.enroll("tiny", 5).refusal, tinyedge_v1_EnrollRefusal_ENROLL_BAD_EXAMPLES);
  EXPECT_EQ(node.enroll("nobody", 5).refusal, tinyedge_v1_EnrollRefusal_ENROLL_BAD_EXAMPLES);
  EXPECT_EQ(node.enroll("mid", 2).refusal, tinyedge_v1_EnrollRefusal_ENROLL_TOO_FEW_EXAMPLES);
  EXPECT_EQ(node.table.image().count, 0u) << "a refused enrollment changed the table";
  EXPECT_EQ(node.enroll("mid", 5).refusal, tinyedge_v1_EnrollRefusal_ENROLL_OK);
  EXPECT_EQ(node.enroll("mid", 5).refusal, tinyedge_v1_EnrollRefusal_ENROLL_DUPLICATE_LABEL);
  EXPECT_EQ(node.enroll("low", 5).refusal, tinyedge_v1_EnrollRefusal_ENROLL_DUPLICATE_LABEL);
  EXPECT_EQ(node.table.image().count, 1u);
}

// The host node's recordings: DIR/<label>.wav, read when the command asks; a label that could
// name a file outside DIR, a missing file and a WAV of another rate are refused, nothing enrolled.
TEST(WordEnrollment, TheHostNodeEnrollsAWordFromItsWavFile) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("tinyedge_word_wav_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto mid = enrollment_recording(speech_test::kMidHz, 5);
  ASSERT_EQ(audio::write_wav_file(dir / "mid.wav", mid, 16000), "");
  ASSERT_EQ(audio::write_wav_file(dir / "fast.wav", mid, 8000), "");
  ASSERT_EQ(audio::write_wav_file(dir.parent_path() / "outside.wav", mid, 16000), "");

  SpeechNode node(speech_test::word_model_tem());
  host::WavRecordings files(dir, 16000);
  RecordingExamples examples(files, node.front_end_ram.bytes());
  EnrollService service(node.enroller, examples, node.example_buffer);
  service.set_model(&node.scorer);
  node.hear(stream(300, {}));  // binds the model
  examples.set_front_end(speech_test::speech_front_end());
  auto start = [&](const char* label) {
    tinyedge_v1_EnrollCommand cmd = tinyedge_v1_EnrollCommand_init_zero;
    cmd.action = tinyedge_v1_EnrollCommand_Action_START;
    std::strncpy(cmd.label, label, sizeof cmd.label - 1);
    cmd.examples = 5;
    tinyedge_v1_EnrollmentStatus status;
    service.handle(cmd, status);
    return status.refusal;
  };
  EXPECT_EQ(start("../outside"), tinyedge_v1_EnrollRefusal_ENROLL_BAD_EXAMPLES);
  EXPECT_NE(files.last_error().find("cannot name a recording"), std::string::npos) << files.last_error();
  EXPECT_EQ(start("absent"), tinyedge_v1_EnrollRefusal_ENROLL_BAD_EXAMPLES);
  EXPECT_NE(files.last_error().find("absent.wav"), std::string::npos) << files.last_error();
  EXPECT_EQ(start("fast"), tinyedge_v1_EnrollRefusal_ENROLL_BAD_EXAMPLES);
  EXPECT_NE(files.last_error().find("fast.wav"), std::string::npos) << files.last_error();
  EXPECT_EQ(node.table.image().count, 0u);
  EXPECT_EQ(start("mid"), tinyedge_v1_EnrollRefusal_ENROLL_OK);
  EXPECT_EQ(labels_of(node.hear(stream(2000, {{speech_test::kMidHz, 500, 400}}))),
            (std::vector<uint16_t>{kFirstEnrolled}));
  fs::remove_all(dir);
  fs::remove(dir.parent_path() / "outside.wav");
}

// The M4 image's wiring (ports/mps2_an386/main.cpp): the model runs from the slot store's active
// slot and an update is activated in place (NodeOta loads the new slot, no reboot). Enrollment must
// follow it: a node that booted a keyword model (no embedding) enrolls once an embedding model is
// activated, with that model's front-end; a shared class must name the model installed now, not the
// one booted. Bound once at boot, every answer after the update was the boot model's.
TEST(WordEnrollment, AnUpdateActivatedInPlaceRebindsEnrollmentToTheNewModel) {
  std::vector<uint8_t> flash_bytes(64 * 1024, 0xFF);
  MemoryFlash flash(flash_bytes, 4096, 4);
  SlotStore store(flash);
  const std::vector<uint8_t> keywords = speech_test::speech_model_tem();
  ASSERT_EQ(store.mount(), StoreStatus::kNoRecord);
  ASSERT_EQ(store.provision(keywords, 15, 1), StoreStatus::kOk);
  SpeechNode node(keywords);
  ASSERT_EQ(node.engine.load(store.active_model()), runtime::Status::kOk);
  node.recordings.by_label["mid"] = enrollment_recording(speech_test::kMidHz, 5);
  PlayedMicrophone mic(stream(300, {}));
  SpeechListener listener(node.platform, mic, node.engine, node.detector_ram.bytes(), detector_config());
  listener.set_scorer(&node.scorer);
  const ota::SigningKey fleet = ota::SigningKey::generate();
  const std::vector<ota::TrustedKey> keys = {ota::make_trusted_key(fleet.public_point())};
  SpeechEnrollment enrollment(node.engine, listener, node.scorer, node.examples, node.service, store, keys);
  auto enroll = [&](const char* label) {
    tinyedge_v1_Downlink down = tinyedge_v1_Downlink_init_zero;
    down.which_payload = tinyedge_v1_Downlink_enroll_tag;
    down.payload.enroll.action = tinyedge_v1_EnrollCommand_Action_START;
    std::strncpy(down.payload.enroll.label, label, sizeof down.payload.enroll.label - 1);
    down.payload.enroll.examples = 5;
    enrollment.on_downlink(down);
    return node.service.last_status();
  };
  auto share = [&](const tinyedge_v1_EnrollShare& s) {
    tinyedge_v1_Downlink down = tinyedge_v1_Downlink_init_zero;
    down.which_payload = tinyedge_v1_Downlink_enroll_share_tag;
    down.payload.enroll_share = s;
    enrollment.on_downlink(down);
    return node.service.last_status();
  };
  // An update: the new model into the other slot, made active, loaded in place.
  auto activate = [&](const std::vector<uint8_t>& tem, uint32_t version) {
    ASSERT_EQ(store.provision(tem, 16, version), StoreStatus::kOk);
    ASSERT_EQ(node.engine.load(store.active_model()), runtime::Status::kOk);
  };
  // "top" (2,800 Hz) as another node learned it with `model`: the class its report carries.
  auto top_class = [&](const std::vector<uint8_t>& model, const std::vector<uint8_t>& named_model) {
    tinyedge_v1_SharedClass c = tinyedge_v1_SharedClass_init_zero;
    std::strncpy(c.label, "top", sizeof c.label - 1);
    const std::vector<int16_t> unit = speech_test::tone_embedding(model, 2800);
    c.prototype_count = static_cast<pb_size_t>(unit.size());
    std::copy(unit.begin(), unit.end(), c.prototype);
    c.threshold_q14 = 11469;  // 0.7
    const ota::Digest sha = ota::sha256(named_model);
    std::copy(sha.begin(), sha.end(), c.model_sha256.bytes);
    c.model_sha256.size = static_cast<pb_size_t>(sha.size());
    return c;
  };

  enrollment.refresh();  // boot
  EXPECT_EQ(enroll("mid").refusal, tinyedge_v1_EnrollRefusal_ENROLL_NO_EMBEDDING_MODEL)
      << "the keyword model took an enrollment";

  const std::vector<uint8_t> v1 = speech_test::word_model_tem(1);
  activate(v1, 1);
  const tinyedge_v1_EnrollmentStatus enrolled = enroll("mid");
  ASSERT_EQ(enrolled.refusal, tinyedge_v1_EnrollRefusal_ENROLL_OK)
      << "refusal " << enrolled.refusal << ": enrollment still bound to the model booted before the update";
  EXPECT_EQ(enrolled.examples_used, 5u);
  const ota::Digest v1_sha = ota::sha256(v1);
  ASSERT_EQ(enrolled.model_sha256.size, v1_sha.size()) << "the answer names no installed model";
  EXPECT_TRUE(std::equal(v1_sha.begin(), v1_sha.end(), enrolled.model_sha256.bytes))
      << "the answer names another model than the one installed";

  // A second update to another embedding (axes rotated, as a retrain): "mid" is recomputed with
  // it; a share naming the model before is refused, one naming this one accepted and detected.
  const std::vector<uint8_t> v2 = speech_test::word_model_tem(2, true, speech_test::kModelRows, 1);
  activate(v2, 2);
  const auto stale = share(speech_test::signed_share(top_class(v1, v1), 10, fleet));
  EXPECT_EQ(stale.refusal, tinyedge_v1_EnrollRefusal_ENROLL_OTHER_EMBEDDING)
      << "a share learned with the model before the update was taken";
  const auto taken = share(speech_test::signed_share(top_class(v2, v2), 11, fleet));
  ASSERT_EQ(taken.refusal, tinyedge_v1_EnrollRefusal_ENROLL_OK)
      << "refusal " << taken.refusal << ": a share for the installed model was refused";
  ASSERT_EQ(taken.enrolled_count, 2u);
  EXPECT_STREQ(taken.enrolled[1], "top");
  EXPECT_EQ(node.scorer.recomputed(), 1u) << "\"mid\" was not recomputed with the new model";
  const std::vector<Word> words = {{speech_test::kMidHz, 300, 400}, {2800, 1600, 400}};
  EXPECT_EQ(labels_of(node.hear(stream(2500, words))), (std::vector<uint16_t>{kFirstEnrolled, kFirstEnrolled + 1}));
}

}  // namespace
}  // namespace tinyedge::app
