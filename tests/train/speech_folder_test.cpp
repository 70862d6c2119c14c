// The keyword trainer's input: label folders, the split it records or the speaker-hash split, and
// every bad file or folder refused with an error that names it.
#include "deploy/train/speech_folder.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <map>

#include "deploy/train/speech_features.h"
#include "node_firmware/audio/wav_file.h"

namespace tinyedge::train {
namespace {

namespace fs = std::filesystem;

class SpeechFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tinyedge_speech_folder_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::vector<std::int16_t> tone(std::size_t n = 16000) const {
    std::vector<std::int16_t> s(n);
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<std::int16_t>(8000 * std::sin(0.2 * static_cast<double>(i)));
    return s;
  }
  fs::path wav(const std::string& rel, std::vector<std::uint8_t> bytes) const {
    fs::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return dir_ / rel;
  }
  fs::path good(const std::string& rel) const { return wav(rel, audio::wav_bytes(tone(), 16000)); }
  // The error compute_features gives for one file, "" if it reads.
  std::string feature_error(const fs::path& file) const {
    try {
      const SpeechClipRef ref{file, 0, false};
      compute_features(front_end_preset("mfcc49x10").config, std::span(&ref, 1), 1);
      return "";
    } catch (const std::runtime_error& e) {
      return e.what();
    }
  }
  std::string scan_error(const SpeechFolderOptions& o = {}) const {
    try {
      scan_speech_folder(dir_, o);
      return "";
    } catch (const std::runtime_error& e) {
      return e.what();
    }
  }
  fs::path dir_;
};

TEST_F(SpeechFolderTest, LabelsAreTheFoldersAndTheTestingListIsTheSplit) {
  good("yes/a.wav");
  good("yes/b.wav");
  good("no/a.wav");
  good("no/c.wav");
  good("_silence_/n.wav");
  good("_background_noise_/long.wav");  // Speech Commands' noise folder: not a class
  std::ofstream(dir_ / "testing_list.txt") << "yes/b.wav\nno/c.wav\n";
  const auto f = scan_speech_folder(dir_, {});
  EXPECT_EQ(f.labels, (std::vector<std::string>{"_silence_", "no", "yes"}));
  ASSERT_EQ(f.clips.size(), 5u);
  EXPECT_EQ(f.count(true), 2u);
  for (const auto& c : f.clips) {
    const auto name = c.path.parent_path().filename().string() + "/" + c.path.filename().string();
    EXPECT_EQ(c.test, name == "yes/b.wav" || name == "no/c.wav") << name;
    EXPECT_EQ(f.labels[static_cast<std::size_t>(c.label)], c.path.parent_path().filename().string());
  }
  EXPECT_NE(f.split.find("testing_list.txt"), std::string::npos) << f.split;
}

TEST_F(SpeechFolderTest, WordsPickClassesAndTheOtherFoldersBecomeUnknown) {
  good("yes/a.wav");
  good("no/a.wav");
  good("cat/a.wav");
  good("dog/a.wav");
  good("_silence_/a.wav");
  SpeechFolderOptions o;
  o.words = {"yes", "no"};
  const auto f = scan_speech_folder(dir_, o);
  EXPECT_EQ(f.labels, (std::vector<std::string>{"yes", "no", "_silence_", "_unknown_"}));
  for (const auto& c : f.clips) {
    const auto folder = c.path.parent_path().filename().string();
    if (folder == "cat" || folder == "dog") {
      EXPECT_EQ(c.label, 3) << folder;
    }
  }
  o.words = {"yes", "maybe"};
  EXPECT_NE(scan_error(o).find("no folder for the word 'maybe'"), std::string::npos) << scan_error(o);
}

TEST_F(SpeechFolderTest, WithoutAListSpeakersAreSplitByHashNeverAcrossSplits) {
  // Speech Commands naming: every file of one speaker lands in the same split.
  for (int s = 0; s < 40; ++s)
    for (int n = 0; n < 2; ++n) good("yes/spk" + std::to_string(s) + "_nohash_" + std::to_string(n) + ".wav");
  for (int s = 0; s < 40; ++s) good("no/spk" + std::to_string(s) + "_nohash_0.wav");
  const auto f = scan_speech_folder(dir_, {});
  std::map<std::string, bool> speaker_test;
  for (const auto& c : f.clips) {
    const auto name = c.path.filename().string();
    const auto speaker = name.substr(0, name.find("_nohash_"));
    const auto [it, fresh] = speaker_test.emplace(speaker, c.test);
    EXPECT_EQ(it->second, c.test) << speaker << " is in both splits";
    EXPECT_EQ(c.test, hash_split_is_test(name, 20));
  }
  EXPECT_GT(f.count(true), 0u);
  EXPECT_GT(f.count(false), f.count(true));
  EXPECT_NE(f.split.find("_nohash_"), std::string::npos) << f.split;
}

TEST_F(SpeechFolderTest, AnEmptyFolderIsRefusedByName) {
  const auto e = scan_error();
  EXPECT_NE(e.find(dir_.string() + ": no label folders"), std::string::npos) << e;
}

TEST_F(SpeechFolderTest, ALabelFolderWithNoFilesIsRefusedByName) {
  good("yes/a.wav");
  fs::create_directories(dir_ / "no");
  std::ofstream(dir_ / "no" / "notes.txt") << "not audio";
  const auto e = scan_error();
  EXPECT_NE(e.find((dir_ / "no").string() + ": label folder 'no' has no .wav files"), std::string::npos) << e;
}

TEST_F(SpeechFolderTest, AMissingFolderIsRefusedByName) {
  fs::remove_all(dir_);
  const auto e = scan_error();
  EXPECT_NE(e.find(dir_.string() + ": not a folder"), std::string::npos) << e;
}

TEST_F(SpeechFolderTest, BadWavFilesAreRefusedNamingTheFileAndTheProblem) {
  const auto s = tone();
  EXPECT_EQ(feature_error(good("yes/ok.wav")), "");
  const auto rate = wav("yes/rate.wav", audio::wav_bytes(s, 8000));
  EXPECT_EQ(feature_error(rate), rate.string() + ": sample rate 8000 Hz, expected 16000 Hz");
  const auto stereo = wav("yes/stereo.wav", audio::wav_bytes(s, 16000, 2));
  EXPECT_EQ(feature_error(stereo), stereo.string() + ": 2 channels, expected mono");
  const auto eight = wav("yes/8bit.wav", audio::wav_bytes(s, 16000, 1, 8));
  EXPECT_EQ(feature_error(eight), eight.string() + ": 8-bit samples, expected 16-bit PCM");
  auto bytes = audio::wav_bytes(s, 16000);
  bytes.resize(bytes.size() / 2);
  const auto cut = wav("yes/truncated.wav", bytes);
  const auto e = feature_error(cut);
  EXPECT_EQ(e.rfind(cut.string() + ": ", 0), 0u) << e;
  EXPECT_NE(e.find("truncated"), std::string::npos) << e;
  const auto junk = wav("yes/junk.wav", {'n', 'o', 't', ' ', 'a', ' ', 'w', 'a', 'v'});
  EXPECT_EQ(feature_error(junk).rfind(junk.string() + ": ", 0), 0u) << feature_error(junk);
}

TEST_F(SpeechFolderTest, ShortClipsArePaddedToOneSecondAndGiveFullFeatures) {
  const auto config = front_end_preset("mfcc49x10").config;
  const auto shape = feature_shape(config);
  EXPECT_EQ(shape.h, 49);
  EXPECT_EQ(shape.w, 10);
  const auto f = wav("yes/short.wav", audio::wav_bytes(tone(9000), 16000));
  EXPECT_EQ(read_clip(f, config).size(), 16000u);
  EXPECT_EQ(feature_error(f), "");
}

TEST_F(SpeechFolderTest, CalibrationFillsTheInt8Range) {
  const auto preset = front_end_preset("mfcc49x10").config;
  std::vector<std::vector<std::int16_t>> clips{tone(), std::vector<std::int16_t>(16000, 0)};
  for (auto& v : clips[0]) v = static_cast<std::int16_t>(v / 3);
  const auto config = calibrate_output(preset, clips);
  EXPECT_EQ(config.validate(), audio::AudioStatus::kOk);
  EXPECT_GT(config.output_scale, 0.0f);
  const auto q = clip_features(config, clips[0]);
  const auto [lo, hi] = std::minmax_element(q.begin(), q.end());
  EXPECT_LT(*lo, -64) << "calibrated features use little of the int8 range";
  EXPECT_GT(*hi, 64) << "calibrated features use little of the int8 range";
}

}  // namespace
}  // namespace tinyedge::train

// Time-shift augmentation moves the samples within the clip's second, silence filling the gap,
// and never reads outside the clip.
TEST(TimeShift, MovesSamplesLaterOrEarlierWithSilenceFillingTheGap) {
  const std::vector<std::int16_t> clip = {1, 2, 3, 4, 5};
  EXPECT_EQ(tinyedge::train::shifted(clip, 2), (std::vector<std::int16_t>{0, 0, 1, 2, 3}));
  EXPECT_EQ(tinyedge::train::shifted(clip, -2), (std::vector<std::int16_t>{3, 4, 5, 0, 0}));
  EXPECT_EQ(tinyedge::train::shifted(clip, 0), clip);
  EXPECT_EQ(tinyedge::train::shifted(clip, 7), (std::vector<std::int16_t>(5, 0)));
  EXPECT_EQ(tinyedge::train::shifted(clip, -7), (std::vector<std::int16_t>(5, 0)));
}
