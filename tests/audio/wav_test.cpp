// WAV input: a good file reads back; every kind of bad file is refused with an error that names
// the file and the problem.
#include "node_firmware/audio/wav.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "node_firmware/audio/wav_file.h"

namespace tinyedge::audio {
namespace {

namespace fs = std::filesystem;

class WavFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tinyedge_wav_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    for (int i = 0; i < 1600; ++i) samples_.push_back(static_cast<int16_t>(i * 37 - 30000));
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path put(const std::string& name, const std::vector<uint8_t>& bytes) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return p;
  }
  // The error must name the file and contain `what`.
  void expect_refused(const fs::path& p, const std::string& what) {
    const WavClip clip = read_wav_file(p);
    ASSERT_FALSE(clip.ok()) << p << " was accepted";
    EXPECT_TRUE(clip.samples.empty());
    EXPECT_NE(clip.error.find(p.string()), std::string::npos) << clip.error;
    EXPECT_NE(clip.error.find(what), std::string::npos) << clip.error;
  }

  fs::path dir_;
  std::vector<int16_t> samples_;
};

TEST_F(WavFiles, AWrittenFileReadsBackSampleForSample) {
  const fs::path p = dir_ / "good.wav";
  ASSERT_EQ(write_wav_file(p, samples_), "");
  const WavClip clip = read_wav_file(p);
  ASSERT_TRUE(clip.ok()) << clip.error;
  EXPECT_EQ(clip.samples, samples_);
  EXPECT_FALSE(fs::exists(dir_ / "good.wav.tmp")) << "the temporary file is renamed into place";
}

TEST_F(WavFiles, ChunksBeforeTheDataAndExtensiblePcmAreRead) {
  std::vector<uint8_t> bytes = wav_bytes(samples_, 16000);
  // A LIST chunk (odd length, padded) between fmt and data, as recorders write.
  const std::vector<uint8_t> list = {'L', 'I', 'S', 'T', 3, 0, 0, 0, 'a', 'b', 'c', 0};
  bytes.insert(bytes.begin() + 36, list.begin(), list.end());
  const WavClip clip = read_wav_file(put("list.wav", bytes));
  ASSERT_TRUE(clip.ok()) << clip.error;
  EXPECT_EQ(clip.samples, samples_);
}

TEST_F(WavFiles, WrongSampleRateNamesTheRate) {
  expect_refused(put("cd.wav", wav_bytes(samples_, 44100)), "sample rate 44100 Hz, expected 16000 Hz");
}

TEST_F(WavFiles, StereoIsRefused) {
  expect_refused(put("stereo.wav", wav_bytes(samples_, 16000, 2)), "2 channels, expected mono");
}

TEST_F(WavFiles, EightAndThirtyTwoBitSamplesAreRefused) {
  expect_refused(put("8bit.wav", wav_bytes(samples_, 16000, 1, 8)), "8-bit samples, expected 16-bit PCM");
  expect_refused(put("32bit.wav", wav_bytes(samples_, 16000, 1, 32)), "32-bit samples");
}

TEST_F(WavFiles, FloatSamplesAreRefusedAsNotPcm) {
  expect_refused(put("float.wav", wav_bytes(samples_, 16000, 1, 32, 3)), "format tag 3 is not PCM");
}

TEST_F(WavFiles, TruncatedDataIsRefused) {
  std::vector<uint8_t> bytes = wav_bytes(samples_, 16000);
  bytes.resize(bytes.size() - 100);
  expect_refused(put("cut.wav", bytes), "truncated");
  bytes.resize(30);  // inside the fmt chunk
  expect_refused(put("cut_header.wav", bytes), "truncated");
  // An odd data length: half a sample.
  std::vector<uint8_t> odd = wav_bytes(samples_, 16000);
  odd[40] = 1;  // data size 1... then the rest looks like trailing bytes
  expect_refused(put("odd.wav", odd), "truncated");
}

TEST_F(WavFiles, NotAWavIsRefused) {
  expect_refused(put("notes.txt", {'h', 'e', 'l', 'l', 'o', '\n'}), "not a WAV file");
  expect_refused(put("empty.wav", {}), "not a WAV file");
  std::vector<uint8_t> riff = wav_bytes(samples_, 16000);
  riff[8] = 'A';  // RIFF but not WAVE (e.g. an AVI)
  expect_refused(put("avi.wav", riff), "not a WAV file");
}

TEST_F(WavFiles, MissingChunksAreRefused) {
  std::vector<uint8_t> no_data = wav_bytes({}, 16000);
  no_data.resize(36);  // header and fmt only
  expect_refused(put("nodata.wav", no_data), "no data chunk");
  std::vector<uint8_t> data_first = {'R', 'I', 'F', 'F', 12,  0,   0, 0, 'W', 'A',
                                     'V', 'E', 'd', 'a', 't', 'a', 0, 0, 0,   0};
  expect_refused(put("datafirst.wav", data_first), "no fmt chunk");
}

TEST_F(WavFiles, AMissingFileIsNamed) { expect_refused(dir_ / "absent.wav", "cannot open"); }

TEST_F(WavFiles, AHostileChunkSizeCannotReadOutOfBounds) {
  std::vector<uint8_t> bytes = wav_bytes(samples_, 16000);
  bytes[40] = bytes[41] = bytes[42] = bytes[43] = 0xFF;  // data size 4 GB
  expect_refused(put("huge.wav", bytes), "truncated");
  std::vector<uint8_t> list = wav_bytes(samples_, 16000);
  list[12] = 'J';  // the fmt chunk becomes an unknown chunk of 16 bytes; then data without fmt
  expect_refused(put("nofmt.wav", list), "no fmt chunk");
}

}  // namespace
}  // namespace tinyedge::audio
