// The camera node's classifier (app::PrototypeClassifier): an image embedding model run by
// nearest prototype on the node's interval inferences, a class enrolled through the
// EnrollService named by its enrolled index, and after an update activated in place (the engine
// reloaded, no reboot) the new head bound and the enrolled class recomputed from its kept examples.
#include "node_firmware/app/prototype_classifier.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <list>

#include "node_firmware/app/enroll_service.h"
#include "node_firmware/app/flash.h"
#include "tests/enroll/pattern_model.h"

namespace tinyedge::app {
namespace {

using enroll::testing::kBlocks;
using enroll::testing::kHalves;
using enroll::testing::kStripes;

void to_input(const std::vector<uint8_t>& pixels, std::span<int8_t> out) {
  for (size_t i = 0; i < pixels.size() && i < out.size(); ++i) out[i] = static_cast<int8_t>(pixels[i] - 128);
}

// Frames of blocks, as the host node reads them from DIR/blocks/*.png.
class BlockFrames final : public ExampleSource {
 public:
  enroll::EnrollStatus capture(std::string_view, uint32_t index, std::span<int8_t> out) override {
    to_input(enroll::testing::pattern_frame(kBlocks, 100 + index, 20), out);
    return enroll::EnrollStatus::kOk;
  }
};

struct CameraNode {
  std::vector<uint64_t> arena = std::vector<uint64_t>(2048);
  RuntimeEngine engine{std::span(reinterpret_cast<uint8_t*>(arena.data()), arena.size() * 8)};
  std::vector<uint8_t> flash_bytes = std::vector<uint8_t>(16 * 1024, 0xFF);
  MemoryFlash flash{flash_bytes, 1024, 8};
  enroll::ClassTable table{flash, 0, flash_bytes.size()};
  enroll::EnrollConfig config{};
  enroll::Enroller enroller{table, config};
  PrototypeScorer scorer{enroller, config.max_classes};
  PrototypeClassifier classifier{engine, scorer};
  BlockFrames frames;
  std::vector<int8_t> buffer = std::vector<int8_t>(enroll::kMaxExamples * 64);
  EnrollService service{enroller, frames, buffer};
  std::list<std::vector<uint8_t>> slots;  // the engine runs each model in place, as from a flash slot

  void install(std::vector<uint8_t> tem) {
    slots.push_back(std::move(tem));
    ASSERT_EQ(engine.load(slots.back()), runtime::Status::kOk);
  }
  // The winning score slot for a frame of `pattern`, as the node's top-1 (-1: no inference).
  int classify(size_t pattern, uint32_t seed) {
    const std::span<int8_t> in = classifier.input();
    if (in.size() != 64 || !classifier.ready()) return -1;
    to_input(enroll::testing::pattern_frame(pattern, seed, 20), in);
    if (!classifier.invoke()) return -1;
    const auto out = classifier.output();
    return static_cast<int>(std::max_element(out.begin(), out.end()) - out.begin());
  }
};

TEST(PrototypeClassifier, AnEnrolledImageClassIsNamedAndSurvivesAnUpdateActivatedInPlace) {
  CameraNode node;
  ASSERT_EQ(node.table.mount(), enroll::EnrollStatus::kOk);
  node.install(enroll::testing::pattern_model_tem(1));
  node.classifier.refresh();
  ASSERT_TRUE(node.classifier.by_prototype()) << enroll::to_string(node.classifier.head_status());
  node.service.set_model(&node.scorer);
  const int unknown = 2 + node.config.max_classes;  // trained, enrolled, then "unknown"
  EXPECT_EQ(node.classify(kStripes, 1), 0);
  EXPECT_EQ(node.classify(kBlocks, 1), unknown) << "a class the embedding never saw";

  tinyedge_v1_EnrollCommand cmd = tinyedge_v1_EnrollCommand_init_zero;
  cmd.action = tinyedge_v1_EnrollCommand_Action_START;
  std::strcpy(cmd.label, "blocks");
  cmd.examples = 5;
  tinyedge_v1_EnrollmentStatus status;
  node.service.handle(cmd, status);
  ASSERT_EQ(status.refusal, tinyedge_v1_EnrollRefusal_ENROLL_OK) << status.refusal;
  EXPECT_EQ(node.classify(kBlocks, 2), 2) << "blocks is the first enrolled class";
  EXPECT_EQ(node.classify(kHalves, 2), unknown);

  // v2 embeds the patterns on other axes: blocks' v1 prototype is wrong in it. The update is
  // activated in place; the next inference binds v2 and recomputes blocks from its examples.
  node.install(enroll::testing::pattern_model_tem(2, 3));
  EXPECT_EQ(node.classify(kBlocks, 3), 2) << "the enrolled class is lost after the update";
  EXPECT_EQ(node.scorer.recomputed(), 1u);
  EXPECT_EQ(node.table.image().model_version, 2u);
  EXPECT_EQ(node.classify(kStripes, 3), 0);
  EXPECT_EQ(node.classify(kHalves, 3), unknown);
}

// A model without an embedding head runs as it is: its output is the result's class scores.
TEST(PrototypeClassifier, AModelWithoutAHeadRunsAsItIs) {
  CameraNode node;
  ASSERT_EQ(node.table.mount(), enroll::EnrollStatus::kOk);
  model::ModelMetadata meta;
  meta.name = "plain";
  meta.model_id = 18;
  node.install(model::compile(enroll::testing::pattern_graph(), meta).tem);
  node.classifier.refresh();
  EXPECT_FALSE(node.classifier.by_prototype());
  EXPECT_EQ(node.classify(kHalves, 1), 5) << "the raw embedding's largest axis: halves'";
  EXPECT_EQ(node.classifier.output().size(), 8u);
}

}  // namespace
}  // namespace tinyedge::app
