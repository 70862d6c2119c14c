// `tinyedge model eval --stream`'s scoring: clips laid end to end through the node's detector, each
// detection matched against what was played. The tone model stands in for a trained spotter, so
// what was played is known exactly.
#include "deploy/train/keyword_stream.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/speech_node/speech_model.h"
#include "tests/speech_node/speech_signal.h"

namespace tinyedge::speech_test {
namespace {

constexpr int kSilence = 0, kUnknown = 1;

// One second of hiss with a 400 ms tone at 300 ms (hz 0: hiss only).
train::StreamClip clip(uint32_t hz, int label) {
  train::StreamClip c{std::vector<int16_t>(16000), label};
  std::vector<Word> words;
  if (hz != 0) words.push_back({hz, 300, 400});
  make_speech_stream(c.samples, words, 64, static_cast<uint32_t>(hz + 1));
  return c;
}

train::KeywordStreamOptions options() {
  train::KeywordStreamOptions o;
  o.detector.smoothing_ms = 100;
  o.detector.refractory_ms = 1000;
  o.detector.threshold = 200;
  o.gap_ms = 1000;
  return o;
}

std::vector<std::string> labels() { return {"_silence_", "_unknown_", "low", "high"}; }

train::KeywordStreamResult play(const std::vector<train::StreamClip>& clips) {
  return train::run_keyword_stream(speech_model_tem(), speech_front_end(), labels(), clips, options());
}

TEST(KeywordStream, EveryKeywordAtItsTimeIsDetectedAndTheRestAcceptsNothing) {
  std::vector<train::StreamClip> keywords;
  for (int i = 0; i < 6; ++i) keywords.push_back(i % 2 ? clip(kHighHz, kLabelHigh) : clip(kLowHz, kLabelLow));
  const auto k = play(keywords);
  EXPECT_EQ(k.spoken, 6u);
  EXPECT_EQ(k.detected, 6u) << "every tone should be detected as its own word in its window";
  EXPECT_EQ(k.wrong_word, 0u);
  EXPECT_EQ(k.false_accepts, 0u);
  EXPECT_EQ(k.detected_per_label[kLabelLow], 3u);
  EXPECT_EQ(k.detected_per_label[kLabelHigh], 3u);
  EXPECT_NEAR(k.seconds, 12.0, 0.01) << "six 1 s clips, each followed by a 1 s gap";

  const auto o = play({clip(kUnknownHz, kUnknown), clip(0, kSilence), clip(kUnknownHz, kUnknown), clip(0, kSilence)});
  EXPECT_EQ(o.spoken, 0u) << "_unknown_ and _silence_ are never keywords";
  EXPECT_EQ(o.false_accepts + o.wrong_word, 0u);
  EXPECT_GT(o.inferences, 0u);
}

TEST(KeywordStream, AnotherWordInAKeywordsWindowIsAWrongWordNotADetection) {
  const auto r = play({clip(kHighHz, kLabelLow)});  // played "high", said to be "low"
  EXPECT_EQ(r.spoken, 1u);
  EXPECT_EQ(r.detected, 0u);
  EXPECT_EQ(r.wrong_word, 1u);
}

TEST(KeywordStream, AWordOutsideEveryKeywordWindowIsAFalseAccept) {
  const auto r = play({clip(kLowHz, kSilence), clip(0, kSilence)});  // a tone in what should be silence
  EXPECT_EQ(r.spoken, 0u);
  EXPECT_EQ(r.false_accepts, 1u);
}

TEST(KeywordStream, AModelTheDetectorRefusesIsAnError) {
  audio::AudioFrontEndConfig other = speech_front_end();
  other.mel_channels = 24;  // the model's 160 inputs are no whole number of 24-wide rows
  EXPECT_THROW(train::run_keyword_stream(speech_model_tem(), other, labels(), {}, options()), std::runtime_error);
  const std::vector<std::string> two = {"low", "high"};
  EXPECT_THROW(train::run_keyword_stream(speech_model_tem(), speech_front_end(), two, {}, options()),
               std::runtime_error)
      << "two labels for four outputs";
}

}  // namespace
}  // namespace tinyedge::speech_test
