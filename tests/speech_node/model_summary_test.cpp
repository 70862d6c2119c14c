// `tinyedge model inspect` shows the front-end a model carries, so a user can see what the node
// will compute from the microphone before a rollout sends it there, and names a record this build
// cannot run instead of hiding it.
#include "deploy/model/model_summary.h"

#include <gtest/gtest.h>

#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "node_firmware/enroll/embedding_head.h"
#include "tests/speech_node/speech_model.h"

namespace tinyedge::speech_test {
namespace {

std::string summary_of(const std::vector<uint8_t>& tem, std::vector<uint32_t>& storage) {
  storage.assign((tem.size() + 3) / 4, 0);
  std::memcpy(storage.data(), tem.data(), tem.size());
  runtime::Model m;
  EXPECT_EQ(runtime::Model::load({reinterpret_cast<const uint8_t*>(storage.data()), tem.size()}, m),
            runtime::Status::kOk);
  std::ostringstream os;
  model::print_model_summary(m, os);
  return os.str();
}

TEST(ModelSummary, PrintsTheAudioFrontEndTheModelCarries) {
  std::vector<uint32_t> storage;
  const std::string text = summary_of(speech_model_tem(), storage);
  EXPECT_NE(text.find("front-end: audio 16000 Hz, window 30 ms, stride 20 ms, 16 mel channels 20-4000 Hz, log-mel, "
                      "noise reduction off, output scale 0.25 zero_point -128\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("labels: _silence_, _unknown_, low, high"), std::string::npos) << text;
}

TEST(ModelSummary, NamesARecordThisBuildCannotRun) {
  std::vector<uint32_t> storage;
  std::vector<uint8_t> foreign(audio::kFrontEndRecordBytes, 0x5a);  // another sensor's magic
  const std::string text = summary_of(speech_model_tem(speech_front_end(), 1, foreign), storage);
  EXPECT_NE(text.find("front-end: 28-byte record this build cannot run ("), std::string::npos) << text;
}

TEST(ModelSummary, PrintsTheAudioRecordAndTheEmbeddingHeadThatFollowsIt) {
  std::vector<uint8_t> region(audio::kFrontEndRecordBytes);
  audio::encode_front_end(speech_front_end(),
                          std::span<uint8_t, audio::kFrontEndRecordBytes>(region.data(), region.size()));
  const std::vector<int16_t> thresholds(4, 8192);
  std::vector<int16_t> prototypes(4 * 2, 0);
  for (size_t c = 0; c < 4; ++c) prototypes[c * 2 + c % 2] = 16384;  // unit vectors in Q14
  std::vector<uint8_t> head(enroll::embedding_head_bytes(2, 4));
  ASSERT_TRUE(enroll::encode_embedding_head(2, thresholds, prototypes, head));
  region.insert(region.end(), head.begin(), head.end());
  std::vector<uint32_t> storage;
  const std::string text = summary_of(speech_model_tem(speech_front_end(), 1, region), storage);
  EXPECT_NE(text.find("embedding head: 4 trained prototypes of 2 dimensions"), std::string::npos) << text;
  EXPECT_NE(text.find("front-end: audio 16000 Hz"), std::string::npos)
      << "the audio record before the head must still be read:\n"
      << text;
}

}  // namespace
}  // namespace tinyedge::speech_test
