// `tinyedge train audio` end to end on a small synthesised data set (tinyedge data speech with two
// words and few voices): a reduced DS-CNN must beat chance by far on voices it never heard, its .tem
// must carry the preset's front-end record, and `model eval` must reproduce the figure from the
// WAV files through that record. Bad input is refused naming the file, with nothing written.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "deploy/train/runtime_eval.h"
#include "deploy/train/speech_features.h"
#include "node_firmware/audio/front_end_record.h"
#include "node_firmware/audio/wav_file.h"

namespace {

namespace fs = std::filesystem;
namespace tr = tinyedge::train;

struct Run {
  int status;
  std::string output;
};

Run run(const std::string& args) {
  const std::string cmd = std::string(TINYEDGE_CLI) + " " + args + " 2>&1";
  Run r{-1, {}};
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  while (fgets(buf.data(), buf.size(), p)) r.output += buf.data();
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

double percent_after(const std::string& text, const std::string& key) {
  const auto at = text.find(key);
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + key.size()));
}

class TrainAudio : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("tinyedge_train_audio_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static std::string path(const std::string& name) { return (dir_ / name).string(); }
  static fs::path dir_;
};
fs::path TrainAudio::dir_;

TEST_F(TrainAudio, ReducedModelBeatsChanceOnHeldOutVoicesAndCarriesThePreset) {
  // 2 words + _unknown_ + _silence_: chance is 25 %.
  auto r =
      run("data speech --words yes,no --voices en-us+m1,en-us+f2,en-gb+m3,en-gb+f3,en-gb-scotland+m4,en-us+m7 "
          "--test-voices 2 --speeds 140,180 --pitches 40,60 --snr 20,10 --unknown-words bed,cat,dog,tree,house,wow "
          "--jobs 2 -o " +
          path("speech"));
  ASSERT_EQ(r.status, 0) << r.output;

  r = run("train audio --data " + path("speech") +
          " --front-end mfcc49x10 --channels 16 --blocks 1 --epochs 25 "
          "--batch-size 32 --lr 5e-3 --seed 1 --eval-threads 2 -o " +
          path("kws.tem"));
  ASSERT_EQ(r.status, 0) << r.output;
  const double trained = percent_after(r.output, "int8 (runtime) ");
  EXPECT_GE(trained, 60.0) << "held-out voices, 4 classes (chance 25 %)\n" << r.output;

  // The front-end record decodes to the preset (the output scale and zero point are calibrated).
  const auto blob = tr::read_file(path("kws.tem"));
  tr::TemRunner runner(blob);
  tinyedge::audio::AudioFrontEndConfig got;
  ASSERT_EQ(tinyedge::audio::decode_front_end(runner.model().front_end(), got), tinyedge::audio::AudioStatus::kOk);
  const auto want = tr::front_end_preset("mfcc49x10").config;
  EXPECT_EQ(got.sample_rate_hz, 16000u);
  EXPECT_EQ(got.window_ms, want.window_ms);
  EXPECT_EQ(got.stride_ms, 20);
  EXPECT_EQ(got.mel_channels, 40);
  EXPECT_EQ(got.mfcc_coefficients, 10);
  EXPECT_EQ(got.lower_hz, want.lower_hz);
  EXPECT_EQ(got.upper_hz, want.upper_hz);
  EXPECT_EQ(got.noise_reduction, want.noise_reduction);
  // The model's input is the front-end's output: same scale and zero point, 49x10.
  EXPECT_FLOAT_EQ(runner.model().input_info().scale, got.output_scale);
  EXPECT_EQ(runner.model().input_info().zero_point, got.output_zero_point);
  EXPECT_EQ(runner.model().input_info().element_count, 490u);
  EXPECT_EQ(runner.model().label_count(), 4u);

  // model eval on the WAV folder, through the model's own record, gives the same figure.
  r = run("model eval " + path("kws.tem") + " --data " + path("speech") + " --plot " + path("cm.svg"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NEAR(percent_after(r.output, "clips: "), trained, 0.01) << r.output;
  EXPECT_NE(r.output.find("the model's front-end record"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("confusion matrix"), std::string::npos) << r.output;
  std::stringstream svg;
  svg << std::ifstream(path("cm.svg")).rdbuf();
  EXPECT_EQ(svg.str().rfind("<svg", 0), 0u);
  EXPECT_NE(svg.str().find("_unknown_"), std::string::npos);
}

// A copy of a small good folder with one bad file: training stops naming it and writes nothing.
void expect_refused(const std::string& name, const std::vector<std::uint8_t>& bad, const std::string& problem) {
  const fs::path root = fs::temp_directory_path() / ("tinyedge_train_audio_bad_" + std::to_string(::getpid()));
  fs::remove_all(root);
  std::vector<std::int16_t> s(16000, 0);
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<std::int16_t>((i * 37) % 2000 - 1000);
  const auto good = tinyedge::audio::wav_bytes(s, 16000);
  auto put = [&](const fs::path& p, const std::vector<std::uint8_t>& b) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary)
        .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  };
  for (int i = 0; i < 3; ++i) {
    put(root / "data" / "yes" / ("a" + std::to_string(i) + "_nohash_0.wav"), good);
    put(root / "data" / "no" / ("b" + std::to_string(i) + "_nohash_0.wav"), good);
  }
  const fs::path bad_file = root / "data" / "no" / name;
  put(bad_file, bad);
  const auto out = root / "out.tem";
  const auto r = run("train audio --data " + (root / "data").string() + " --epochs 1 -o " + out.string());
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find(bad_file.string() + ": " + problem), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out)) << "a model was written despite the bad file";
  for (const auto& e : fs::directory_iterator(root))
    EXPECT_TRUE(e.path().filename() == "data") << "left behind: " << e.path();
  fs::remove_all(root);
}

TEST(TrainAudioBadInput, EachBadWavIsRefusedByNameAndNothingIsWritten) {
  std::vector<std::int16_t> s(16000, 100);
  expect_refused("rate.wav", tinyedge::audio::wav_bytes(s, 44100), "sample rate 44100 Hz, expected 16000 Hz");
  expect_refused("stereo.wav", tinyedge::audio::wav_bytes(s, 16000, 2), "2 channels, expected mono");
  expect_refused("24bit.wav", tinyedge::audio::wav_bytes(s, 16000, 1, 24), "24-bit samples, expected 16-bit PCM");
  auto cut = tinyedge::audio::wav_bytes(s, 16000);
  cut.resize(cut.size() - 1000);
  expect_refused("cut.wav", cut, "truncated");
}

TEST(TrainAudioBadInput, EmptyFoldersAreRefusedByName) {
  const fs::path root = fs::temp_directory_path() / ("tinyedge_train_audio_empty_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "data");
  auto r = run("train audio --data " + (root / "data").string() + " -o " + (root / "out.tem").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find((root / "data").string() + ": no label folders"), std::string::npos) << r.output;
  fs::create_directories(root / "data" / "yes");
  r = run("train audio --data " + (root / "data").string() + " -o " + (root / "out.tem").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find((root / "data" / "yes").string() + ": label folder 'yes' has no .wav files"),
            std::string::npos)
      << r.output;
  r = run("model eval " + (root / "missing.tem").string() + " --data " + (root / "data").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_FALSE(fs::exists(root / "out.tem"));
  fs::remove_all(root);
}

}  // namespace
