#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "deploy/train/fashion_mnist.h"
#include "deploy/train/metrics.h"
#include "deploy/train/vibration.h"

namespace tinyedge::train {
namespace {

std::filesystem::path temp_file(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("tinyedge_train_" + std::to_string(::getpid()) + "_" + name);
}

TEST(FashionMnist, LoadsDebiansPackage) {
  if (!std::filesystem::exists(kFashionMnistDir)) {
    if (std::getenv("CI")) FAIL() << kFashionMnistDir << " missing under CI: scripts/setup installs dataset-fashion-mnist";
    GTEST_SKIP() << kFashionMnistDir << " missing (install dataset-fashion-mnist)";
  }
  const auto test = load_fashion_mnist(resolve_fashion_mnist("fashion-mnist"), false);
  EXPECT_EQ(test.count(), 10000u);
  EXPECT_EQ(test.rows, 28);
  EXPECT_EQ(test.cols, 28);
  std::vector<int> per_class(10, 0);
  for (auto l : test.labels) ++per_class[l];
  for (int c : per_class) EXPECT_EQ(c, 1000);  // the test set is balanced
  EXPECT_EQ(test.head(5).count(), 5u);
  EXPECT_EQ(fashion_mnist_labels().size(), 10u);
}

TEST(FashionMnist, MissingDirectorySaysWhatToInstall) {
  try {
    load_fashion_mnist("/nonexistent/dir", true);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("dataset-fashion-mnist"), std::string::npos) << e.what();
  }
}

TEST(FashionMnist, CorruptFileIsNamed) {
  const auto dir = temp_file("idx");
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "t10k-images-idx3-ubyte.gz") << "not gzip and not idx";
  try {
    load_fashion_mnist(dir, false);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("t10k-images"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

TEST(Vibration, SameSeedSameDataAndRequestedFaultFraction) {
  VibrationOptions o;
  o.machines = 10;
  o.windows_per_machine = 4;
  o.faulty_fraction = 0.3;
  o.seed = 5;
  const auto a = synthesize_vibration(o), b = synthesize_vibration(o);
  EXPECT_EQ(a.samples, b.samples);
  EXPECT_EQ(a.count(), 40u);
  std::size_t faulty = 0;
  for (auto l : a.label) faulty += l;
  EXPECT_EQ(faulty, 12u);  // 3 machines x 4 windows
  o.seed = 6;
  EXPECT_NE(synthesize_vibration(o).samples, a.samples);
}

TEST(Vibration, CsvRoundTripsAndBadRowsAreNamed) {
  VibrationOptions o;
  o.machines = 3;
  o.windows_per_machine = 2;
  const auto set = synthesize_vibration(o);
  const auto path = temp_file("vib.csv");
  write_vibration_csv(set, path);
  const auto back = read_vibration_csv(path);
  EXPECT_EQ(back.machine, set.machine);
  EXPECT_EQ(back.label, set.label);
  ASSERT_EQ(back.samples.size(), set.samples.size());
  for (std::size_t i = 0; i < set.samples.size(); ++i) EXPECT_NEAR(back.samples[i], set.samples[i], 1e-5);

  std::ofstream(path) << "machine,label,s0\n1,2,0.5\n";
  try {
    read_vibration_csv(path);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("line 2: label must be 0 or 1"), std::string::npos) << e.what();
  }
  std::ofstream(path) << "machine,label,s0\n1,0,0.5,0.25\n";
  EXPECT_THROW(read_vibration_csv(path), std::runtime_error);
  std::ofstream(path) << "a,b,c\n";
  EXPECT_THROW(read_vibration_csv(path), std::runtime_error);
  std::filesystem::remove(path);
}

TEST(Vibration, FeaturesPeakAtTheToneFrequency) {
  std::vector<float> w(kVibrationWindow);
  for (int n = 0; n < kVibrationWindow; ++n) w[n] = std::sin(2 * M_PI * 200.0 * n / kVibrationSampleRate);
  const auto f = vibration_features(w);
  ASSERT_EQ(f.size(), static_cast<std::size_t>(kVibrationFeatures));
  EXPECT_EQ(arg_max<float>(f), 200 / 8 - 1);  // bin 25 (200 Hz / 8 Hz) is feature 24
  EXPECT_NEAR(f[24], (std::log10(1.0 + 0.01) + 2) / 2, 0.01);  // unit amplitude
  EXPECT_THROW(vibration_features(std::vector<float>(10)), std::runtime_error);
}

TEST(Vibration, FaultyMachinesCarryMoreHighBandEnergy) {
  VibrationOptions o;
  o.machines = 20;
  o.windows_per_machine = 5;
  o.faulty_fraction = 0.5;
  const auto set = synthesize_vibration(o);
  double band[2] = {0, 0};
  int n[2] = {0, 0};
  for (std::size_t i = 0; i < set.count(); ++i) {
    const auto f = vibration_features(set.window(i));
    for (int k = 60; k < 100; ++k) band[set.label[i]] += f[k];  // 488-800 Hz, where the resonance rings
    ++n[set.label[i]];
  }
  EXPECT_GT(band[1] / n[1], band[0] / n[0]);
}

}  // namespace
}  // namespace tinyedge::train
