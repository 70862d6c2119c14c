// A speech node in the fleet: the real tinyedge-node with a compiled speech model (front-end
// record inside) and a WAV file as its microphone, a real mosquitto and the real tinyedge-gateway.
// The words said at known times arrive as detections in the gateway's SQLite file, spaced as they
// were said; a WAV the node cannot play is a clear error that names the file. A word enrolled
// over the fleet (`tinyedge enroll start`, the node's --enroll-from recording) is detected by
// name in the gateway's /events, by another node it is shared with, and still after a signed
// model update rolled out to the node.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "node_firmware/audio/wav_file.h"
#include "tests/gateway/support/enrollment_fleet.h"
#include "tests/gateway/support/gateway_process.h"
#include "tests/speech_node/speech_model.h"
#include "tests/speech_node/word_model.h"

namespace tinyedge::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using speech_test::Word;

struct Event {
  int64_t label, score, at_ms, sample_id, model_id;
};

std::vector<Event> stored_events(const std::string& db_path) {
  std::vector<Event> out;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return out;
  }
  sqlite3_busy_timeout(db, 2000);
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT label, score, at_ms, sample_id, model_id FROM events ORDER BY at_ms", -1, &s,
                         nullptr) == SQLITE_OK) {
    while (sqlite3_step(s) == SQLITE_ROW) {
      out.push_back({sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2),
                     sqlite3_column_int64(s, 3), sqlite3_column_int64(s, 4)});
    }
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

std::string file_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_bytes(const fs::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::string write_model(const std::string& dir) {
  const std::string path = dir + "/tones.tem";
  write_bytes(path, speech_test::speech_model_tem());
  return path;
}

TEST(SpeechFleet, WordsAtKnownTimesLandInSqliteAsDetections) {
  const std::string dir = make_temp_dir("speech-fleet");
  const std::string model = write_model(dir);
  // 7 s: "low" said at 1.5 s, "high" at 4.5 s, and an unknown word at 3 s that must not appear.
  std::vector<int16_t> samples(7000 * 16);
  const std::vector<Word> words = {
      {speech_test::kLowHz, 1500, 500}, {speech_test::kUnknownHz, 3000, 500}, {speech_test::kHighHz, 4500, 500}};
  speech_test::make_speech_stream(samples, words);
  const std::string wav = dir + "/words.wav";
  ASSERT_EQ(audio::write_wav_file(wav, samples), "");

  Mosquitto broker(dir);
  broker.start();
  const std::string log = dir + "/gateway.log";
  GatewayProcess gateway(TINYEDGE_GATEWAY_EXE, write_gateway_config(dir, broker.url()), log);
  ASSERT_NO_THROW(gateway.start());

  // clang-format off
  testing::ChildProcess node({TINYEDGE_NODE_EXE, "--model", model, "--audio", wav, "--audio-once",
                              "--id", "speaker1", "--broker", broker.url(), "--report-interval-ms", "100",
                              "--detect-smoothing-ms", "100", "--detect-threshold", "200"},
                             dir + "/node.log");
  // clang-format on
  const std::string db = dir + "/data/tinyedge.db";
  std::vector<Event> events;
  const auto deadline = std::chrono::steady_clock::now() + 40s;
  while (std::chrono::steady_clock::now() < deadline) {
    events = stored_events(db);
    if (events.size() >= 2) break;
    std::this_thread::sleep_for(200ms);
  }
  std::this_thread::sleep_for(2s);  // the rest of the stream: nothing more may arrive
  events = stored_events(db);
  ASSERT_EQ(events.size(), 2u) << "detections stored; node log:\n" << file_text(dir + "/node.log");
  EXPECT_EQ(events[0].label, speech_test::kLabelLow);
  EXPECT_EQ(events[1].label, speech_test::kLabelHigh);
  for (const auto& e : events) {
    EXPECT_GE(e.score, 200);
    EXPECT_EQ(e.sample_id, 1) << "the clip id of words.wav";
    EXPECT_EQ(e.model_id, 15);
  }
  // Stored at the times they were said: 3 s apart, within a stride's jitter of the node's loop.
  const int64_t gap = events[1].at_ms - events[0].at_ms;
  EXPECT_GE(gap, 3000 - 100) << "detections not spaced as the words were said";
  EXPECT_LE(gap, 3000 + 100) << "detections not spaced as the words were said";
  node.signal(SIGTERM);
  EXPECT_TRUE(node.wait_for(20s));
  EXPECT_EQ(node.exit_code(), 0) << file_text(dir + "/node.log");
  fs::remove_all(dir);
}

// The node refuses to start on audio it cannot play, and says which file and why.
TEST(SpeechFleet, BadAudioIsAClearErrorNamingTheFile) {
  const std::string dir = make_temp_dir("speech-bad-audio");
  const std::string model = write_model(dir);
  std::vector<int16_t> second(16000);
  speech_test::make_speech_stream(second, {});
  const std::vector<uint8_t> good = audio::wav_bytes(second, 16000);
  std::vector<uint8_t> truncated = good;
  truncated.resize(good.size() - 1001);
  fs::create_directories(dir + "/empty");
  fs::create_directories(dir + "/mixed/yes");
  write_bytes(dir + "/mixed/yes/a.wav", good);
  write_bytes(dir + "/mixed/yes/b.wav", audio::wav_bytes(second, 16000, 2));
  struct Case {
    std::string path;
    std::vector<uint8_t> bytes;  // empty: the path is prepared above
    std::string named;           // what the error must name
    std::string reason;          // and a word of why
  };
  const std::vector<Case> cases = {
      {dir + "/8khz.wav", audio::wav_bytes(second, 8000), "8khz.wav", "rate"},
      {dir + "/stereo.wav", audio::wav_bytes(second, 16000, 2), "stereo.wav", "mono"},
      {dir + "/8bit.wav", audio::wav_bytes(second, 16000, 1, 8), "8bit.wav", "16-bit"},
      {dir + "/float.wav", audio::wav_bytes(second, 16000, 1, 16, 3), "float.wav", "PCM"},
      {dir + "/truncated.wav", truncated, "truncated.wav", "truncated"},
      {dir + "/empty", {}, "empty", "no .wav file"},
      {dir + "/mixed", {}, "b.wav", "mono"},
      {dir + "/missing.wav", {}, "missing.wav", "no such file"},
  };
  for (const auto& c : cases) {
    if (!c.bytes.empty()) write_bytes(c.path, c.bytes);
    const std::string log = dir + "/node-" + fs::path(c.path).filename().string() + ".log";
    testing::ChildProcess node(
        {TINYEDGE_NODE_EXE, "--model", model, "--audio", c.path, "--id", "speaker2", "--broker", "tcp://127.0.0.1:1"},
        log);
    ASSERT_TRUE(node.wait_for(20s)) << c.path << ": the node did not refuse it";
    EXPECT_EQ(node.exit_code(), 1) << c.path;
    const std::string text = file_text(log);
    EXPECT_NE(text.find(c.named), std::string::npos) << c.path << ": error does not name the file: " << text;
    EXPECT_NE(text.find(c.reason), std::string::npos) << c.path << ": error does not say why: " << text;
  }
  fs::remove_all(dir);
}

// At start-up the node refuses a model it cannot run, with the reason, before it runs anything.
TEST(SpeechFleet, ModelsTheNodeCannotRunAreRefusedAtStart) {
  const std::string dir = make_temp_dir("speech-bad-model");
  const std::string speech = write_model(dir);
  std::vector<int16_t> second(16000);
  speech_test::make_speech_stream(second, {});
  const std::string wav = dir + "/a.wav";
  ASSERT_EQ(audio::write_wav_file(wav, second), "");
  // A record this build cannot compute (a 200 ms window needs an FFT it does not have).
  auto config = speech_test::speech_front_end();
  config.window_ms = 200;
  std::vector<uint8_t> record(audio::kFrontEndRecordBytes);
  audio::encode_front_end(config, std::span<uint8_t, audio::kFrontEndRecordBytes>(record.data(), record.size()));
  const std::string unrunnable = dir + "/unrunnable.tem";
  write_bytes(unrunnable, speech_test::speech_model_tem(speech_test::speech_front_end(), 1, record));
  // A model without a front-end record.
  model::ModelMetadata meta;
  meta.name = "plain";
  meta.model_id = 16;
  const std::string plain = dir + "/plain.tem";
  write_bytes(plain, model::compile(speech_test::speech_graph(speech_test::speech_front_end()), meta).tem);
  struct Case {
    std::vector<std::string> args;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {{"--model", unrunnable, "--audio", wav}, "front-end record is not one this node runs"},
      {{"--model", speech}, "needs a microphone"},
      {{"--model", plain, "--audio", wav}, "has no audio front-end record"},
  };
  int n = 0;
  for (const auto& c : cases) {
    std::vector<std::string> argv = {TINYEDGE_NODE_EXE, "--id", "speaker3", "--broker", "tcp://127.0.0.1:1"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    const std::string log = dir + "/node-" + std::to_string(++n) + ".log";
    testing::ChildProcess node(argv, log);
    ASSERT_TRUE(node.wait_for(20s)) << c.reason << ": the node did not refuse the model";
    EXPECT_EQ(node.exit_code(), 1) << c.reason;
    const std::string text = file_text(log);
    EXPECT_NE(text.find(c.reason), std::string::npos) << "expected '" << c.reason << "' in: " << text;
  }
  fs::remove_all(dir);
}

// Enrollment on the real tinyedge-node: the operator's CLI asks the gateway, the node reads
// DIR/mid.wav (the word said five times), enrolls it and from then on reports "mid" when the
// word plays; the gateway names it from the node's class table. The operator shares "mid" to the
// node's group: speaker8 (same embedding model, never heard the recording) accepts it, signed by
// the fleet key, and its own microphone's "mid" is then named "mid" in /events and `tinyedge logs`.
// A signed v2 of the embedding model rolled out to both makes speaker9 recompute the prototype from
// the examples it kept ("mid" still detected, under v2).
// A recording the node cannot use is refused with the reason.
TEST(SpeechFleet, AWordEnrolledOverTheFleetIsDetectedByNameSharedAndSurvivesAModelUpdate) {
  const std::string dir = make_temp_dir("speech-enroll");
  EnrollmentFleet fleet(dir, TINYEDGE_GATEWAY_EXE, TINYEDGE_CLI_EXE);
  for (uint32_t v : {1u, 2u}) {
    const std::string tem = dir + "/words_v" + std::to_string(v) + ".tem";
    // v2 embeds the words along other axes (a retrained model): v1's prototype of "mid" is wrong
    // in it, so the node must recompute it from the examples it kept.
    write_bytes(tem, speech_test::word_model_tem(v, true, speech_test::kModelRows, v == 1 ? 0 : 3));
    fleet.package(tem, v);
  }
  // The microphone: "mid" (never trained) at 0.5 s, "low" (trained) at 2 s, over and over.
  std::vector<int16_t> loop(3500 * 16);
  const std::vector<Word> played = {{speech_test::kMidHz, 500, 400}, {speech_test::kLowHz, 2000, 400}};
  speech_test::make_speech_stream(loop, played);
  ASSERT_EQ(audio::write_wav_file(dir + "/mic.wav", loop), "");
  // The enrollment recording: "mid" said five times, 1.5 s apart.
  fs::create_directories(dir + "/rec");
  std::vector<Word> said;
  for (uint32_t i = 0; i < 5; ++i) said.push_back({speech_test::kMidHz, 500 + 1500 * i, 400});
  std::vector<int16_t> recording(8500 * 16);
  speech_test::make_speech_stream(recording, said);
  ASSERT_EQ(audio::write_wav_file(dir + "/rec/mid.wav", recording), "");
  write_bytes(dir + "/rec/broken.wav", {'R', 'I', 'F', 'F', 1, 2});

  const std::string op = fleet.op();
  // v1 in the registry, so the gateway knows the trained labels the enrolled ones follow.
  fleet.register_model(dir + "/words_v1.tep");

  // speaker9 enrolls from its recordings; speaker8 has none and only ever learns by a share.
  const auto start_node = [&](const std::string& id, const std::vector<std::string>& extra) {
    // clang-format off
    std::vector<std::string> argv = {TINYEDGE_NODE_EXE, "--model", dir + "/words_v1.tem", "--audio", dir + "/mic.wav",
                                     "--id", id, "--broker", fleet.broker_url(), "--trust-key", fleet.public_key(),
                                     "--report-interval-ms", "100", "--detect-smoothing-ms", "100",
                                     "--detect-threshold", "200"};
    // clang-format on
    argv.insert(argv.end(), extra.begin(), extra.end());
    return testing::ChildProcess(argv, dir + "/" + id + ".log");
  };
  testing::ChildProcess node = start_node("speaker9", {"--enroll-from", dir + "/rec"});
  testing::ChildProcess peer = start_node("speaker8", {});
  const auto detections = [&](const std::string& id) { return ::testing::PrintToString(fleet.named_results(id)); };
  ASSERT_TRUE(fleet.wait_for_result("speaker9", "low@1", 20s))
      << "no trained word detected: " << detections("speaker9") << "; node log:\n"
      << file_text(dir + "/speaker9.log");
  for (const auto& d : fleet.named_results("speaker9")) EXPECT_EQ(d, "low@1") << "before enrolling 'mid'";

  // Recordings the node cannot use: refused with the reason, printed by the CLI, nothing enrolled.
  train::testing::Run run = fleet.cli("enroll start --node speaker9 --label absent --examples 5 --wait 20" + op);
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_NE(run.output.find("refused to start 'absent': examples missing or not model inputs"), std::string::npos)
      << run.output;
  run = fleet.cli("enroll start --node speaker9 --label broken --examples 5 --wait 20" + op);
  EXPECT_EQ(run.status, 1) << run.output;
  const std::string node_log = file_text(dir + "/speaker9.log");
  EXPECT_NE(node_log.find("absent.wav"), std::string::npos) << "the node's log does not name the file: " << node_log;
  EXPECT_NE(node_log.find("broken.wav"), std::string::npos) << "the node's log does not name the file: " << node_log;

  run = fleet.cli("enroll start --node speaker9 --label mid --examples 5 --wait 20" + op);
  ASSERT_EQ(run.status, 0) << run.output << "\n" << file_text(dir + "/speaker9.log");
  EXPECT_NE(run.output.find("enrolled now: mid"), std::string::npos) << run.output;
  ASSERT_TRUE(fleet.wait_for_result("speaker9", "mid@1", 20s))
      << "the enrolled word is not detected by name: " << detections("speaker9");

  // The share, to the group both nodes are in: speaker9 learned it (the gateway does not send it
  // back), speaker8 accepts it and names its own "mid" by it.
  ASSERT_TRUE(fleet.wait_for_result("speaker8", "low@1", 10s))
      << "speaker8 detects nothing: " << detections("speaker8");
  for (const auto& d : fleet.named_results("speaker8")) EXPECT_EQ(d, "low@1") << "speaker8 before the share";
  for (const char* id : {"speaker9", "speaker8"}) {
    const auto r = fleet.api().request("PUT", std::string("/api/v1/nodes/") + id + "/groups", R"({"groups":["hall"]})");
    ASSERT_EQ(r.status, 200) << r.body;
  }
  run = fleet.cli("enroll share --from speaker9 --label mid --group hall --key " + fleet.key() + " --wait 20" + op);
  ASSERT_EQ(run.status, 0) << run.output << "\n" << fleet.gateway_log();
  EXPECT_NE(run.output.find("node speaker8: accepted 'mid' from speaker9"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("node speaker9:"), std::string::npos)
      << "the share went back to its source: " << run.output;
  EXPECT_TRUE(fleet.wait_for_result("speaker8", "mid@1", 20s))
      << "speaker8's 'mid' is not named by the shared class: " << detections("speaker8") << "\nspeaker8 log:\n"
      << file_text(dir + "/speaker8.log");
  run = fleet.cli("logs --node speaker8 --format csv --limit 200" + op);
  EXPECT_EQ(run.status, 0) << run.output;
  bool named = false;
  for (std::istringstream lines(run.output); !named;) {
    std::string line;
    if (!std::getline(lines, line)) break;
    named = line.find(",speaker8,") != std::string::npos && line.find(",mid,") != std::string::npos;
  }
  EXPECT_TRUE(named) << "tinyedge logs does not name speaker8's detection by the shared class: " << run.output;

  // The update: v2 of the embedding model, signed, rolled out to both nodes.
  run = fleet.cli("rollout start --package " + dir +
                  "/words_v2.tep --target nodes:speaker9,speaker8 --canary 1 --waves 100 --soak 0s --no-gate" + op);
  ASSERT_EQ(run.status, 0) << run.output;
  ASSERT_TRUE(fleet.wait_for_result("speaker9", "low@2", 60s)) << "v2 never ran; node log:\n"
                                                               << file_text(dir + "/speaker9.log");
  EXPECT_TRUE(fleet.wait_for_result("speaker9", "mid@2", 20s))
      << "the enrolled word is lost after the update: " << detections("speaker9");
  run = fleet.cli("enroll list --node speaker9" + op);
  EXPECT_NE(run.output.find("mid"), std::string::npos) << run.output;
  // speaker8 has no examples of "mid" to recompute it from: it drops the shared class and says so
  // by itself (no downlink asks it), the gateway logs it and `enroll list` prints it.
  ASSERT_TRUE(fleet.wait_for_result("speaker8", "low@2", 60s)) << "v2 never ran on speaker8; node log:\n"
                                                               << file_text(dir + "/speaker8.log");
  bool reported = false;
  for (const auto until = std::chrono::steady_clock::now() + 15s;
       !reported && std::chrono::steady_clock::now() < until;) {
    run = fleet.cli("enroll list --node speaker8" + op);
    reported = run.output.find("dropped: 'mid'") != std::string::npos;
    if (!reported) std::this_thread::sleep_for(200ms);
  }
  EXPECT_TRUE(reported) << "speaker8 never reported dropping the shared 'mid': " << run.output;
  EXPECT_NE(fleet.gateway_log().find("enrolled class dropped by the node"), std::string::npos)
      << "the gateway did not log the drop:\n"
      << fleet.gateway_log();
  node.signal(SIGTERM);
  EXPECT_TRUE(node.wait_for(20s));
  peer.signal(SIGTERM);
  EXPECT_TRUE(peer.wait_for(20s));
  EXPECT_TRUE(fleet.stop_gateway());
  if (!HasFailure()) fs::remove_all(dir);
}

}  // namespace
}  // namespace tinyedge::test
