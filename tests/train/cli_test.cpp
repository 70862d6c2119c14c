// The CLI end to end: data synth-vibration -> train anomaly -> model eval --plot, and bad arguments.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

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

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("tinyedge_train_cli_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::filesystem::path dir_;
};

TEST_F(Cli, AnomalyFromSyntheticDataToEvalAndPlot) {
  auto r = run("data synth-vibration --seed 1 -o " + path("train.csv"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("2000 windows from 40 machines"), std::string::npos) << r.output;
  r = run("data synth-vibration --machines 20 --seed 2 -o " + path("test.csv"));
  ASSERT_EQ(r.status, 0) << r.output;

  r = run("train anomaly --data " + path("train.csv") + " --epochs 40 --seed 1 -o " + path("ae.tem") +
          " --self-test-out " + path("golden"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("epoch 40/40"), std::string::npos) << r.output;  // the progress bar
  EXPECT_TRUE(std::filesystem::exists(path("ae.tem")));
  EXPECT_TRUE(std::filesystem::exists(path("ae.train.json")));
  EXPECT_EQ(std::filesystem::file_size(path("golden.in.bin")), 128u);
  EXPECT_EQ(std::filesystem::file_size(path("golden.out.bin")), 128u);

  r = run("model eval " + path("ae.tem") + " --data " + path("test.csv") + " --plot " + path("roc.svg"));
  ASSERT_EQ(r.status, 0) << r.output;
  const auto at = r.output.find("ROC AUC");
  ASSERT_NE(at, std::string::npos) << r.output;
  const double auc = std::stod(r.output.substr(r.output.find(": ", at) + 2));
  EXPECT_GE(auc, 0.95) << r.output;
  std::ifstream svg(path("roc.svg"));
  std::stringstream s;
  s << svg.rdbuf();
  EXPECT_EQ(s.str().rfind("<svg", 0), 0u);
  EXPECT_NE(s.str().find("<polyline"), std::string::npos);
}

TEST_F(Cli, BadInputsGetClearErrors) {
  auto r = run("model eval " + path("missing.tem"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("cannot open"), std::string::npos) << r.output;

  std::ofstream(path("junk.tem")) << "definitely not a model";
  r = run("model eval " + path("junk.tem"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("not a valid .tem model"), std::string::npos) << r.output;

  std::ofstream(path("bad.csv")) << "machine,label,s0\n0,7,1\n";
  r = run("train anomaly --data " + path("bad.csv") + " -o " + path("x.tem"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("line 2"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(path("x.tem")));

  r = run("train image --arch transformer -o " + path("y.tem"));
  EXPECT_NE(r.status, 0);
  EXPECT_FALSE(std::filesystem::exists(path("y.tem")));
  r = run("data synth-vibration --faulty-fraction 2 -o " + path("z.csv"));
  EXPECT_NE(r.status, 0);
  EXPECT_FALSE(std::filesystem::exists(path("z.csv")));
}

}  // namespace
