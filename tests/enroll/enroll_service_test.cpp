// EnrollCommand -> Enroller -> EnrollmentStatus on the node, and the messages through the codec.
#include "node_firmware/app/enroll_service.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "protocol/codec.h"
#include "tests/node/fault_flash.h"
#include "tests/enroll/projection_model.h"

namespace tinyedge::app {
namespace {

using enroll::testing::examples_of;
using enroll::testing::kInputBytes;
using enroll::testing::ProjectionModel;

// Examples by label, as the host node reads them from files.
class MapSource final : public ExampleSource {
 public:
  enroll::EnrollStatus capture(std::string_view label, uint32_t index, std::span<int8_t> out) override {
    const auto it = examples.find(std::string(label));
    if (it == examples.end() || (index + 1) * out.size() > it->second.size()) return enroll::EnrollStatus::kBadExamples;
    std::copy_n(it->second.begin() + index * out.size(), out.size(), out.begin());
    return enroll::EnrollStatus::kOk;
  }
  std::map<std::string, std::vector<int8_t>> examples;
};

struct Rig {
  std::vector<uint8_t> storage = std::vector<uint8_t>(8 * 1024, 0xFF);
  MemoryFlash flash{storage, 1024, 8};
  enroll::ClassTable table{flash, 0, storage.size()};
  ProjectionModel model{1, 7, {1.0f / 64, 0}, 4};
  enroll::Enroller enroller{table, enroll::EnrollConfig{}};
  MapSource source;
  std::vector<int8_t> buffer = std::vector<int8_t>(enroll::kMaxExamples * kInputBytes);
  EnrollService service{enroller, source, buffer};

  Rig() {
    size_t recomputed;
    EXPECT_EQ(table.mount(), enroll::EnrollStatus::kOk);
    EXPECT_EQ(enroller.attach(model, recomputed), enroll::EnrollStatus::kOk);
    service.set_model(&model);
    source.examples["marvin"] = examples_of(model, 10, 10, 1);
    source.examples["again"] = examples_of(model, 10, 10, 2);
    auto silent = examples_of(model, 11, 5, 1);
    std::fill(silent.begin(), silent.begin() + kInputBytes, int8_t{0});
    source.examples["quiet"] = silent;
  }
  tinyedge_v1_EnrollmentStatus run(tinyedge_v1_EnrollCommand_Action action, const char* label, uint32_t examples) {
    tinyedge_v1_EnrollCommand cmd = tinyedge_v1_EnrollCommand_init_zero;
    cmd.action = action;
    std::strncpy(cmd.label, label, sizeof cmd.label - 1);
    cmd.examples = examples;
    tinyedge_v1_EnrollmentStatus status;
    service.handle(cmd, status);
    return status;
  }
};

TEST(EnrollService, StartListRemove) {
  Rig rig;
  auto s = rig.run(tinyedge_v1_EnrollCommand_Action_START, "marvin", 5);
  EXPECT_EQ(s.refusal, tinyedge_v1_EnrollRefusal_ENROLL_OK);
  EXPECT_EQ(s.examples_used, 5u);
  EXPECT_GT(s.distance_q14, 0u);
  EXPECT_STRNE(s.nearest_label, "") << "quality names the nearest class";
  ASSERT_EQ(s.enrolled_count, 1u);
  EXPECT_STREQ(s.enrolled[0], "marvin");
  EXPECT_EQ(s.model_version, 1u);

  s = rig.run(tinyedge_v1_EnrollCommand_Action_LIST, "", 0);
  EXPECT_EQ(s.refusal, tinyedge_v1_EnrollRefusal_ENROLL_OK);
  ASSERT_EQ(s.enrolled_count, 1u);

  s = rig.run(tinyedge_v1_EnrollCommand_Action_REMOVE, "marvin", 0);
  EXPECT_EQ(s.refusal, tinyedge_v1_EnrollRefusal_ENROLL_OK);
  EXPECT_EQ(s.enrolled_count, 0u);
}

TEST(EnrollService, RefusalsTravelAsReasons) {
  Rig rig;
  EXPECT_EQ(rig.run(tinyedge_v1_EnrollCommand_Action_START, "marvin", 2).refusal,
            tinyedge_v1_EnrollRefusal_ENROLL_TOO_FEW_EXAMPLES);
  EXPECT_EQ(rig.run(tinyedge_v1_EnrollCommand_Action_START, "marvin", 11).refusal,
            tinyedge_v1_EnrollRefusal_ENROLL_TOO_MANY_EXAMPLES);
  EXPECT_EQ(rig.run(tinyedge_v1_EnrollCommand_Action_START, "quiet", 5).refusal,
            tinyedge_v1_EnrollRefusal_ENROLL_SILENT_EXAMPLE);
  EXPECT_EQ(rig.run(tinyedge_v1_EnrollCommand_Action_START, "nofiles", 5).refusal,
            tinyedge_v1_EnrollRefusal_ENROLL_BAD_EXAMPLES);
  ASSERT_EQ(rig.run(tinyedge_v1_EnrollCommand_Action_START, "marvin", 5).refusal, tinyedge_v1_EnrollRefusal_ENROLL_OK);
  EXPECT_EQ(rig.run(tinyedge_v1_EnrollCommand_Action_START, "marvin", 5).refusal,
            tinyedge_v1_EnrollRefusal_ENROLL_DUPLICATE_LABEL);
  const auto collide = rig.run(tinyedge_v1_EnrollCommand_Action_START, "again", 5);
  EXPECT_EQ(collide.refusal, tinyedge_v1_EnrollRefusal_ENROLL_COLLIDES);
  EXPECT_STREQ(collide.nearest_label, "marvin");
  EXPECT_EQ(rig.run(tinyedge_v1_EnrollCommand_Action_REMOVE, "nobody", 0).refusal,
            tinyedge_v1_EnrollRefusal_ENROLL_UNKNOWN_LABEL);
  rig.service.set_model(nullptr);
  EXPECT_EQ(rig.run(tinyedge_v1_EnrollCommand_Action_START, "sheila", 5).refusal,
            tinyedge_v1_EnrollRefusal_ENROLL_NO_EMBEDDING_MODEL);
}

TEST(EnrollService, MessagesFitTheCodec) {
  Rig rig;
  for (int k = 0; k < 4; ++k)
    rig.source.examples["sixteen-chars-" + std::to_string(k) + "x"] = examples_of(rig.model, 20 + k, 5, 1);
  tinyedge_v1_EnrollmentStatus status{};
  for (int k = 0; k < 4; ++k) {
    status = rig.run(tinyedge_v1_EnrollCommand_Action_START, ("sixteen-chars-" + std::to_string(k) + "x").c_str(), 5);
    ASSERT_EQ(status.refusal, tinyedge_v1_EnrollRefusal_ENROLL_OK) << k;
  }
  tinyedge_v1_Uplink up = tinyedge_v1_Uplink_init_zero;
  up.which_payload = tinyedge_v1_Uplink_enrollment_status_tag;
  up.payload.enrollment_status = status;
  std::vector<uint8_t> buf(protocol::kMaxUplinkBytes);
  const auto encoded = protocol::encode_uplink(up, buf);
  ASSERT_TRUE(encoded.ok);
  tinyedge_v1_Uplink back = tinyedge_v1_Uplink_init_zero;
  ASSERT_TRUE(protocol::decode_uplink(std::span(buf).first(encoded.size), back).ok);
  ASSERT_EQ(back.payload.enrollment_status.enrolled_count, 4u);
  EXPECT_STREQ(back.payload.enrollment_status.enrolled[3], "sixteen-chars-3x");
}

}  // namespace
}  // namespace tinyedge::app
