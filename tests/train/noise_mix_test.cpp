// Noise augmentation for `tinyedge train audio --noise-snr`: noise mixed at the SNR asked for, the
// same draws under the same seed (and others under another), the data set's own noise as the
// source, test clips and "_silence_" left clean, and bad options or a folder without noise refused.
#include "deploy/train/noise_mix.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <set>

#include "deploy/train/speech_features.h"
#include "node_firmware/audio/wav_file.h"

namespace tinyedge::train {
namespace {

namespace fs = std::filesystem;

std::vector<std::int16_t> tone(std::size_t n, double amplitude) {
  std::vector<std::int16_t> s(n);
  for (std::size_t i = 0; i < n; ++i)
    s[i] = static_cast<std::int16_t>(amplitude * std::sin(0.2 * static_cast<double>(i)));
  return s;
}

std::vector<std::int16_t> hiss(std::size_t n, std::uint32_t seed, int amplitude) {
  std::vector<std::int16_t> s(n);
  for (auto& v : s) {
    seed = seed * 1664525u + 1013904223u;
    v = static_cast<std::int16_t>(static_cast<int>(seed >> 16) % (2 * amplitude + 1) - amplitude);
  }
  return s;
}

double power(const std::vector<double>& s) {
  double p = 0;
  for (double v : s) p += v * v;
  return p / static_cast<double>(s.size());
}

TEST(NoiseMix, AddsTheNoiseAtTheAskedSnr) {
  const auto clip = tone(16000, 8000);
  const auto noise = hiss(20000, 7, 3000);
  for (const double snr : {20.0, 10.0, 0.0}) {
    const auto mixed = mix_at_snr(clip, noise, snr);
    ASSERT_EQ(mixed.size(), clip.size());
    std::vector<double> signal, added;
    for (std::size_t i = 0; i < clip.size(); ++i) {
      signal.push_back(clip[i]);
      added.push_back(static_cast<double>(mixed[i]) - clip[i]);
    }
    const double measured = 10 * std::log10(power(signal) / power(added));
    EXPECT_NEAR(measured, snr, 0.1) << "asked for " << snr << " dB";
  }
}

TEST(NoiseMix, SilentClipOrSilentNoiseIsLeftAsItIsAndLoudMixesSaturate) {
  const std::vector<std::int16_t> silent(1000, 0);
  EXPECT_EQ(mix_at_snr(silent, hiss(1000, 1, 3000), 10), silent);
  const auto clip = tone(1000, 8000);
  EXPECT_EQ(mix_at_snr(clip, silent, 10), clip);
  EXPECT_EQ(mix_at_snr(clip, {}, 10), clip);
  const std::vector<std::int16_t> loud(1000, 32000);
  const auto noise = hiss(1000, 3, 30000);
  const auto mixed = mix_at_snr(loud, noise, -10);  // far beyond int16: clipped, never wrapped
  std::size_t clipped = 0;
  for (std::size_t i = 0; i < mixed.size(); ++i) {
    if (noise[i] > 0) {
      EXPECT_GE(mixed[i], 32000) << "positive noise wrapped to " << mixed[i] << " at " << i;
    }
    clipped += mixed[i] == 32767;
  }
  EXPECT_GT(clipped, 100u);
}

TEST(NoiseMix, DrawsFollowTheSeedAndTheShareAndUseOnlyListedSnrs) {
  NoiseMixOptions a{{20, 10}, 0.5, 1};
  const std::vector<std::size_t> lengths = {16000, 48000, 16000};
  std::size_t noisy = 0, differ = 0;
  std::set<double> snrs;
  std::set<std::size_t> recordings;
  NoiseMixOptions b = a;
  b.seed = 2;
  for (std::size_t clip = 0; clip < 2000; ++clip) {
    const auto p = pick_noise(a, lengths, clip, 0, 16000);
    const auto again = pick_noise(a, lengths, clip, 0, 16000);
    EXPECT_EQ(p.noisy, again.noisy);
    EXPECT_EQ(p.recording, again.recording);
    EXPECT_EQ(p.offset, again.offset);
    EXPECT_EQ(p.snr_db, again.snr_db);
    const auto other = pick_noise(b, lengths, clip, 0, 16000);
    const auto shifted_copy = pick_noise(a, lengths, clip, 1, 16000);
    differ += other.noisy != p.noisy || other.recording != p.recording;
    differ += shifted_copy.noisy != p.noisy;
    if (!p.noisy) continue;
    ++noisy;
    snrs.insert(p.snr_db);
    recordings.insert(p.recording);
    ASSERT_LT(p.recording, lengths.size());
    EXPECT_LE(p.offset + 16000, lengths[p.recording]);
  }
  EXPECT_GT(noisy, 900u);
  EXPECT_LT(noisy, 1100u);
  EXPECT_EQ(snrs, (std::set<double>{10, 20}));
  EXPECT_EQ(recordings.size(), 3u);
  EXPECT_GT(differ, 500u) << "another seed or copy should draw differently";
  a.share = 0;
  for (std::size_t clip = 0; clip < 100; ++clip) EXPECT_FALSE(pick_noise(a, lengths, clip, 0, 16000).noisy);
  a.share = 1;
  a.snr_db.clear();
  EXPECT_FALSE(pick_noise(a, lengths, 0, 0, 16000).noisy) << "no SNR listed: noise is off";
}

TEST(NoiseMix, BadOptionsAreRefusedByName) {
  EXPECT_THROW(check_noise_options({{20, 90}, 0.5, 1}), std::runtime_error);
  EXPECT_THROW(check_noise_options({{std::nan("")}, 0.5, 1}), std::runtime_error);
  EXPECT_THROW(check_noise_options({{10}, 1.5, 1}), std::runtime_error);
  try {
    check_noise_options({{10}, -0.1, 1});
    FAIL() << "a negative share was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("--noise-share"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(check_noise_options({{20, 10, 0}, 0.5, 1}));
}

class NoiseBankTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tinyedge_noise_bank_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& rel, const std::vector<std::int16_t>& samples) {
    fs::create_directories((dir_ / rel).parent_path());
    EXPECT_EQ(audio::write_wav_file(dir_ / rel, samples, 16000), "");
    return dir_ / rel;
  }
  fs::path dir_;
};

TEST_F(NoiseBankTest, TrainingSilenceClipsAreTheNoiseWhenThereIsNoBackgroundFolder) {
  write("yes/a.wav", tone(16000, 8000));
  write("yes/t.wav", tone(16000, 8000));
  write("_silence_/n0.wav", hiss(16000, 1, 100));
  write("_silence_/n1.wav", hiss(16000, 2, 100));
  write("_silence_/held.wav", hiss(8000, 3, 100));
  std::ofstream(dir_ / "testing_list.txt") << "yes/t.wav\n_silence_/held.wav\n";
  const auto folder = scan_speech_folder(dir_, {});
  const auto bank = load_noise_bank(dir_, folder, 16000);
  ASSERT_EQ(bank.recordings.size(), 2u) << "the held-out silence clip must not be used";
  for (const auto& r : bank.recordings) EXPECT_EQ(r.size(), 16000u);
  EXPECT_NE(bank.source.find("_silence_"), std::string::npos) << bank.source;

  write("_background_noise_/long.wav", hiss(48000, 9, 1000));
  const auto background = load_noise_bank(dir_, scan_speech_folder(dir_, {}), 16000);
  ASSERT_EQ(background.recordings.size(), 1u);
  EXPECT_EQ(background.recordings[0].size(), 48000u);
  EXPECT_NE(background.source.find("_background_noise_"), std::string::npos) << background.source;
}

TEST_F(NoiseBankTest, AFolderWithoutNoiseOrWithABadNoiseFileIsRefusedByName) {
  write("yes/a.wav", tone(16000, 8000));
  write("no/a.wav", tone(16000, 4000));
  try {
    load_noise_bank(dir_, scan_speech_folder(dir_, {}), 16000);
    FAIL() << "no noise, yet a bank was made";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(dir_.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no background noise"), std::string::npos) << e.what();
  }
  fs::create_directories(dir_ / "_background_noise_");
  EXPECT_EQ(audio::write_wav_file(dir_ / "_background_noise_" / "fast.wav", hiss(8000, 1, 100), 8000), "");
  try {
    load_noise_bank(dir_, scan_speech_folder(dir_, {}), 16000);
    FAIL() << "an 8 kHz noise file was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("fast.wav"), std::string::npos) << e.what();
  }
}

TEST_F(NoiseBankTest, FeaturesOfNoisyClipsAreReproducibleAndSilenceStaysClean) {
  write("yes/a.wav", tone(16000, 8000));
  write("yes/b.wav", tone(16000, 6000));
  write("_silence_/n0.wav", hiss(16000, 1, 2000));
  const auto folder = scan_speech_folder(dir_, {});
  const auto bank = load_noise_bank(dir_, folder, 16000);
  const auto config = front_end_preset("mfcc49x10").config;
  const int silence = 0;
  ASSERT_EQ(folder.labels[silence], "_silence_");
  NoiseAugment every{&bank, {{0}, 1.0, 5}, 0, silence};
  const auto clean = compute_features(config, folder.clips, 1);
  const auto noisy = compute_features(config, folder.clips, 1, 0, &every);
  const auto again = compute_features(config, folder.clips, 2, 0, &every);
  EXPECT_EQ(noisy.values, again.values) << "same seed, other thread count: other features";
  for (std::size_t i = 0; i < folder.clips.size(); ++i) {
    const auto c = clean.clip(i), n = noisy.clip(i);
    const bool same = std::equal(c.begin(), c.end(), n.begin());
    if (folder.clips[i].label == silence) {
      EXPECT_TRUE(same) << folder.clips[i].path << ": a _silence_ clip got noise";
    } else {
      EXPECT_FALSE(same) << folder.clips[i].path << ": noise at 0 dB changed nothing";
    }
  }
}

}  // namespace
}  // namespace tinyedge::train
