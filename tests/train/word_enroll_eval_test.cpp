// `model eval --enroll K` for words (deploy/train/word_embedding): the measurement itself on a
// small folder of tone "words" and the tone embedding of tests/speech_node/word_model.h (trained
// on low and high only): five words it never saw enrolled from five clips each through the node's
// recording path, then the rest classified. Torch-free and cheap; the speech figures come from the
// CLI on synthesised speech (README).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <stdexcept>

#include "deploy/train/word_embedding.h"
#include "node_firmware/audio/wav_file.h"
#include "tests/speech_node/word_model.h"

namespace {

namespace fs = std::filesystem;
namespace tr = tinyedge::train;
namespace st = tinyedge::speech_test;

// One clip: a tone "word" of 300-600 ms somewhere in the second (0 Hz: hiss only), hiss of varying level.
void write_clip(const fs::path& path, uint32_t hz, std::mt19937& rng) {
  std::vector<int16_t> s(16000);
  const uint32_t duration = 300 + rng() % 300;
  const uint32_t start = 50 + rng() % (900 - duration);
  std::vector<st::Word> words;
  if (hz != 0) words.push_back({hz, start, duration});
  st::make_speech_stream(s, words, 32 + static_cast<int32_t>(rng() % 96), rng());
  fs::create_directories(path.parent_path());
  if (!tinyedge::audio::write_wav_file(path, s, 16000).empty())
    throw std::runtime_error("cannot write " + path.string());
}

class WordEnrollEval : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tinyedge_word_eval_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    std::mt19937 rng(5);
    auto words = [&](const fs::path& root, const std::string& label, uint32_t hz, int n) {
      for (int i = 0; i < n; ++i) write_clip(root / label / ("c" + std::to_string(i) + ".wav"), hz, rng);
    };
    // Five words the model never saw, its two own, unknown speech (1 kHz) and silence.
    const std::pair<const char*, uint32_t> fresh[] = {
        {"w300", 300}, {"w700", 700}, {"w1400", 1400}, {"w2800", 2800}, {"w3500", 3500}};
    for (auto [label, hz] : fresh) words(dir_ / "all", label, hz, 10);
    words(dir_ / "all", "low", st::kLowHz, 6);
    words(dir_ / "all", "high", st::kHighHz, 6);
    words(dir_ / "all", "_unknown_", st::kUnknownHz, 10);
    words(dir_ / "all", "_silence_", 0, 10);
    words(dir_ / "own", "low", st::kLowHz, 3);
    words(dir_ / "own", "high", st::kHighHz, 3);
    words(dir_ / "few", "w700", 700, 5);
    words(dir_ / "few", "_silence_", 0, 3);
    tem_ = st::word_model_tem(1, true, 49);  // 49 rows: a 1 s clip, as keyword models take
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  std::vector<uint8_t> tem_;
};

TEST_F(WordEnrollEval, NewWordsFromFiveClipsAreRecognisedAndUnknownSpeechIsRefused) {
  const tr::WordFewShotEval e = tr::evaluate_word_enrollment(tem_, dir_ / "all", 5, 1, 1);
  EXPECT_EQ(e.new_words, (std::vector<std::string>{"w1400", "w2800", "w300", "w3500", "w700"}));
  EXPECT_EQ(e.new_clips, 25u);      // 5 words x (10 - 5 enrolled)
  EXPECT_EQ(e.trained_clips, 12u);  // low and high
  EXPECT_EQ(e.unknown_clips, 20u);  // _unknown_ and _silence_
  // Chance among the 7 words is 14 %; every figure must be far above it.
  EXPECT_GE(e.new_accuracy(), 0.9) << e.new_right << " of " << e.new_clips << ", " << e.new_unknown << " unknown";
  EXPECT_GE(e.macro_f1, 0.9);
  EXPECT_GE(e.trained_accuracy(), 0.9) << e.trained_right << " of " << e.trained_clips;
  EXPECT_LE(e.false_accept_rate(), 0.1) << e.false_accepts << " of " << e.unknown_clips;
}

TEST_F(WordEnrollEval, RefusesWhatItCannotMeasureNamingWhy) {
  auto message = [&](const fs::path& data, const std::vector<uint8_t>& tem) {
    try {
      (void)tr::evaluate_word_enrollment(tem, data, 5, 1, 1);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(dir_ / "own", tem_).find("nothing to enroll"), std::string::npos) << message(dir_ / "own", tem_);
  EXPECT_NE(message(dir_ / "few", tem_).find("w700: 5 clips; enrolling 5 leaves none to test"), std::string::npos)
      << message(dir_ / "few", tem_);
  const auto bare = st::word_model_tem(1, false, 49);
  EXPECT_NE(message(dir_ / "all", bare).find("not a word embedding"), std::string::npos) << message(dir_ / "all", bare);
  const auto short_window = st::word_model_tem(1, true);  // 210 ms input: not a keyword model
  EXPECT_NE(message(dir_ / "all", short_window).find("not a keyword model"), std::string::npos)
      << message(dir_ / "all", short_window);
}

}  // namespace
