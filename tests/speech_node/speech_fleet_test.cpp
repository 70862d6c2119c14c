// A speech node in the fleet: the real tinyedge-node with a compiled speech model (front-end
// record inside) and a WAV file as its microphone, a real mosquitto and the real tinyedge-gateway.
// The words said at known times arrive as detections in the gateway's SQLite file, spaced as they
// were said; a WAV the node cannot play is a clear error that names the file.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "node_firmware/audio/wav_file.h"
#include "tests/gateway/support/gateway_process.h"
#include "tests/gateway/support/mosquitto.h"
#include "tests/node/process.h"
#include "tests/speech_node/speech_model.h"

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

}  // namespace
}  // namespace tinyedge::test
