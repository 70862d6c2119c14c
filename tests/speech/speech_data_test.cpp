// tinyedge data speech on a tiny set (2 words, 2 voices): the Speech Commands layout, the split by
// voice, determinism for a seed, and refusals that leave nothing behind. Runs the real espeak-ng.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "deploy/speech/speech_dataset.h"
#include "node_firmware/audio/wav_file.h"

namespace tinyedge::speech {
namespace {

namespace fs = std::filesystem;

bool have_espeak() { return std::system("command -v espeak-ng > /dev/null") == 0; }

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class SpeechData : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_espeak()) {
      const char* ci = std::getenv("CI");
      if (ci != nullptr && std::string(ci) == "true") FAIL() << "espeak-ng missing under CI";
      GTEST_SKIP() << "espeak-ng not installed (scripts/packages.d/speech.txt)";
    }
    dir_ = fs::temp_directory_path() / ("tinyedge_speech_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    o_.words = {"yes", "no"};
    o_.unknown_words = {"cat", "dog"};
    o_.voices = {"en-us+m1", "en-gb+f3"};
    o_.test_voices = 1;
    o_.speeds = {160};
    o_.pitches = {50};
    o_.snrs_db = {10, 5};
    o_.silence_clips = 4;
    o_.seed = 7;
    o_.jobs = 2;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Nothing but `keep` may exist in dir_: no staging folder, no partial output.
  void expect_nothing_written(const std::set<std::string>& keep = {}) {
    for (const auto& e : fs::directory_iterator(dir_)) {
      EXPECT_TRUE(keep.count(e.path().filename().string())) << "left behind: " << e.path();
    }
  }

  fs::path dir_;
  SpeechDataOptions o_;
};

TEST_F(SpeechData, TinySetHasTheSpeechCommandsLayoutAndSplitsByVoice) {
  const fs::path out = dir_ / "speech";
  const SpeechDataSummary s = make_speech_data(o_, out);
  ASSERT_EQ(s.test_voices.size(), 1u);
  ASSERT_EQ(s.train_voices.size(), 1u);
  EXPECT_NE(s.test_voices[0], s.train_voices[0]);
  const std::string test_voice = s.test_voices[0];
  auto safe = [](std::string v) {
    for (char& c : v) c = c == '+' ? '-' : c;
    return v;
  };

  // Per label: 2 voices x 1 speed x 1 pitch x 2 SNRs keyword clips; unknown: 2 words x 2 voices.
  std::map<std::string, size_t> count;
  std::set<std::string> on_disk_test;
  for (const auto& label : {"yes", "no", "_unknown_", "_silence_"}) {
    ASSERT_TRUE(fs::is_directory(out / label)) << label;
    for (const auto& f : fs::directory_iterator(out / label)) {
      ++count[label];
      const audio::WavClip clip = audio::read_wav_file(f.path());
      ASSERT_TRUE(clip.ok()) << clip.error;
      ASSERT_EQ(clip.samples.size(), 16000u) << f.path() << ": every clip is one second at 16 kHz";
      double power = 0;
      for (int16_t v : clip.samples) power += double(v) * v;
      const double rms = std::sqrt(power / 16000);
      if (std::string(label) != "_silence_") {
        EXPECT_GT(rms, 100) << f.path() << " should hold a spoken word";
      }
      const std::string rel = std::string(label) + "/" + f.path().filename().string();
      if (rel.find(safe(test_voice)) != std::string::npos) on_disk_test.insert(rel);
    }
  }
  EXPECT_EQ(count["yes"], 4u);
  EXPECT_EQ(count["no"], 4u);
  EXPECT_EQ(count["_unknown_"], 4u);
  EXPECT_EQ(count["_silence_"], 4u);

  // testing_list.txt: exactly the files spoken by the test voice (plus the test share of silence).
  std::set<std::string> listed;
  std::istringstream lines(read_text(out / "testing_list.txt"));
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("_silence_/", 0) == 0) continue;
    listed.insert(line);
    EXPECT_NE(line.find(safe(test_voice)), std::string::npos)
        << line << " is in the test list but not by " << test_voice;
  }
  EXPECT_EQ(listed, on_disk_test) << "every file by the test voice is in the test list";
  EXPECT_EQ(on_disk_test.size(), 6u);  // 2 words x 2 SNRs + 2 unknown words

  const auto manifest = nlohmann::json::parse(read_text(out / "manifest.json"));
  EXPECT_EQ(manifest["voices"]["test"], nlohmann::json::array({test_voice}));
  EXPECT_EQ(manifest["voices"]["train"], nlohmann::json::array({s.train_voices[0]}));
  EXPECT_EQ(manifest["seed"], 7);
  EXPECT_EQ(manifest["files"]["yes"]["train"], 2);
  EXPECT_EQ(manifest["files"]["yes"]["test"], 2);
  expect_nothing_written({"speech"});
}

TEST_F(SpeechData, TheSameSeedGivesTheSameFilesAndAnotherSeedOthers) {
  o_.snrs_db = {10};
  make_speech_data(o_, dir_ / "a");
  make_speech_data(o_, dir_ / "b");
  o_.seed = 8;
  make_speech_data(o_, dir_ / "c");
  size_t files = 0, differ = 0;
  for (const auto& f : fs::recursive_directory_iterator(dir_ / "a")) {
    if (!f.is_regular_file()) continue;
    const fs::path rel = fs::relative(f.path(), dir_ / "a");
    ++files;
    if (rel.filename() == "manifest.json" || rel.filename() == "testing_list.txt") continue;
    EXPECT_EQ(read_text(f.path()), read_text(dir_ / "b" / rel)) << rel << " differs between two runs with seed 7";
    if (!fs::exists(dir_ / "c" / rel) || read_text(f.path()) != read_text(dir_ / "c" / rel)) ++differ;
  }
  EXPECT_EQ(read_text(dir_ / "a" / "manifest.json"), read_text(dir_ / "b" / "manifest.json"));
  EXPECT_GT(files, 10u);
  EXPECT_GT(differ, files / 2) << "seed 8 should place and mix the words differently";
}

TEST_F(SpeechData, BadRequestsAreRefusedWithTheReasonAndWriteNothing) {
  auto refused = [&](SpeechDataOptions o, const std::string& want) {
    try {
      make_speech_data(o, dir_ / "out");
      ADD_FAILURE() << "accepted; wanted: " << want;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
    }
    expect_nothing_written({"exists"});
  };
  SpeechDataOptions o = o_;
  o.words = {"Yes"};
  refused(o, "'Yes' is not a word");
  o = o_;
  o.words = {"yes", "cat"};
  refused(o, "'cat' is also an unknown word");
  o = o_;
  o.test_voices = 2;
  refused(o, "--test-voices");
  o = o_;
  o.voices = {"en-us+m1"};
  refused(o, "at least two voices");
  o = o_;
  o.voices = {"en-us+m1", "xx-nosuchvoice"};
  refused(o, "espeak-ng failed for voice 'xx-nosuchvoice'");
  o = o_;
  o.snrs_db = {100};
  refused(o, "--snr");
  fs::create_directories(dir_ / "exists");
  try {
    make_speech_data(o_, dir_ / "exists");
    ADD_FAILURE() << "an existing folder was overwritten";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("already exists"), std::string::npos) << e.what();
  }
  expect_nothing_written({"exists"});
}

TEST_F(SpeechData, TheCliWritesTheSetAndRefusesBadWords) {
  const fs::path out = dir_ / "cli";
  const std::string base = std::string(TINYEDGE_CLI) +
                           " data speech --voices en-us+m1,en-gb+f3 --test-voices 1 "
                           "--speeds 160 --pitches 50 --snr 10 --unknown-words cat "
                           "--silence 2 --seed 3 -o " +
                           out.string();
  FILE* p = ::popen((base + " --words yes,no 2>&1").c_str(), "r");
  char buf[512];
  std::string text;
  while (std::fgets(buf, sizeof(buf), p) != nullptr) text += buf;
  EXPECT_EQ(::pclose(p), 0) << text;
  EXPECT_NE(text.find("wrote " + out.string()), std::string::npos) << text;
  EXPECT_TRUE(fs::exists(out / "yes") && fs::exists(out / "no") && fs::exists(out / "manifest.json"));

  p = ::popen((base + "2 --words yes,No 2>&1").c_str(), "r");
  text.clear();
  while (std::fgets(buf, sizeof(buf), p) != nullptr) text += buf;
  EXPECT_NE(::pclose(p), 0);
  EXPECT_NE(text.find("'No' is not a word"), std::string::npos) << text;
  EXPECT_FALSE(fs::exists(dir_ / "cli2"));
}

}  // namespace
}  // namespace tinyedge::speech
