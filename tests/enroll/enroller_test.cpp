// Enrollment on the node's code path over a stand-in embedding: classification, every refusal,
// and the recomputation of enrolled prototypes when the model changes (an OTA update).
#include "node_firmware/enroll/enroller.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/node/fault_flash.h"
#include "tests/enroll/projection_model.h"

namespace tinyedge::enroll {
namespace {

using testing::examples_of;
using app::testing::FaultFlash;
using testing::kInputBytes;
using testing::ProjectionModel;

constexpr size_t kPage = 1024;

// The RAM figures README states per enrolled class and for the whole table.
static_assert(sizeof(EnrolledClass) == 168, "README: 168 B of RAM per enrolled class");
static_assert(sizeof(TableImage) == 1368, "README: 1,368 B for the table of 8 classes");
constexpr InputQuantization kQuantV1{1.0f / 64, 0};

struct Rig {
  std::vector<uint8_t> storage = std::vector<uint8_t>(16 * kPage, 0xFF);
  FaultFlash flash{storage, kPage, 8};
  ClassTable table{flash, 0, storage.size()};
  ProjectionModel model{1, 7, kQuantV1, 4};
  Enroller enroller{table, EnrollConfig{}};

  Rig() {
    size_t recomputed = 0;
    EXPECT_EQ(table.mount(), EnrollStatus::kOk);
    EXPECT_EQ(enroller.attach(model, recomputed), EnrollStatus::kOk);
  }
  Match classify(const std::vector<int8_t>& one) {
    std::copy(one.begin(), one.end(), model.input().begin());
    Match m;
    EXPECT_EQ(enroller.classify(m), EnrollStatus::kOk);
    return m;
  }
};

TEST(Enroller, EnrolledClassIsRecognisedAndOthersStayTheirs) {
  Rig rig;
  EnrollReport report;
  ASSERT_EQ(rig.enroller.enroll("marvin", examples_of(rig.model, 10, 5, 1), report), EnrollStatus::kOk);
  EXPECT_EQ(report.examples_used, 5);
  EXPECT_LT(report.nearest_q14, EnrollConfig{}.collision_q14);
  ASSERT_EQ(rig.enroller.class_count(), 5u);
  EXPECT_EQ(rig.enroller.label(4), "marvin");

  int right = 0;
  for (uint32_t s = 0; s < 20; ++s) {
    const Match m = rig.classify(examples_of(rig.model, 10, 1, 100 + s));
    right += m.index == 4 && m.known;
  }
  EXPECT_GE(right, 18) << "fresh examples of the enrolled class must be recognised as it";
  const Match trained = rig.classify(examples_of(rig.model, 2, 1, 555));
  EXPECT_EQ(trained.index, 2);
  EXPECT_TRUE(trained.known);
}

TEST(Enroller, UnseenInputIsUnknownNotTheNearestClass) {
  Rig rig;
  EnrollReport report;
  ASSERT_EQ(rig.enroller.enroll("marvin", examples_of(rig.model, 10, 5, 1), report), EnrollStatus::kOk);
  int unknown = 0;
  for (int k = 20; k < 40; ++k) unknown += !rig.classify(examples_of(rig.model, k, 1, 7)).known;
  EXPECT_GE(unknown, 16) << "inputs of classes nobody trained or enrolled must mostly be 'unknown'";
}

TEST(Enroller, RefusalsNameTheReasonAndChangeNothing) {
  Rig rig;
  EnrollReport report;
  ASSERT_EQ(rig.enroller.enroll("marvin", examples_of(rig.model, 10, 5, 1), report), EnrollStatus::kOk);
  const uint32_t sequence = rig.table.sequence();
  const size_t writes = rig.flash.writes();

  EXPECT_EQ(rig.enroller.enroll("sheila", examples_of(rig.model, 11, 2, 1), report), EnrollStatus::kTooFewExamples);
  EXPECT_EQ(rig.enroller.enroll("sheila", examples_of(rig.model, 11, 11, 1), report), EnrollStatus::kTooManyExamples);
  auto blank = examples_of(rig.model, 11, 5, 1);
  std::fill(blank.begin() + 2 * kInputBytes, blank.begin() + 3 * kInputBytes, int8_t{3});
  EXPECT_EQ(rig.enroller.enroll("sheila", blank, report), EnrollStatus::kSilentExample);
  EXPECT_EQ(rig.enroller.enroll("marvin", examples_of(rig.model, 11, 5, 1), report), EnrollStatus::kDuplicateLabel);
  EXPECT_EQ(rig.enroller.enroll("t1", examples_of(rig.model, 11, 5, 1), report), EnrollStatus::kDuplicateLabel)
      << "a trained class's label";
  EXPECT_EQ(rig.enroller.enroll("", examples_of(rig.model, 11, 5, 1), report), EnrollStatus::kBadLabel);
  EXPECT_EQ(rig.enroller.enroll("two words", examples_of(rig.model, 11, 5, 1), report), EnrollStatus::kBadLabel);
  EXPECT_EQ(rig.enroller.enroll("seventeen-chars-x", examples_of(rig.model, 11, 5, 1), report),
            EnrollStatus::kBadLabel);
  auto odd = examples_of(rig.model, 11, 5, 1);
  odd.pop_back();
  EXPECT_EQ(rig.enroller.enroll("sheila", odd, report), EnrollStatus::kBadExamples);
  // The same class again under another name: its prototype collides with marvin's.
  EXPECT_EQ(rig.enroller.enroll("sheila", examples_of(rig.model, 10, 5, 9), report), EnrollStatus::kCollides);
  EXPECT_EQ(report.nearest_class, 4) << "the report names the class it collides with";
  EXPECT_GE(report.nearest_q14, EnrollConfig{}.collision_q14);
  EXPECT_EQ(rig.enroller.enroll("tee-two", examples_of(rig.model, 2, 5, 9), report), EnrollStatus::kCollides)
      << "a trained class enrolled again";
  EXPECT_EQ(rig.enroller.remove("nobody"), EnrollStatus::kUnknownLabel);

  EXPECT_EQ(rig.table.sequence(), sequence);
  EXPECT_EQ(rig.flash.writes(), writes) << "a refusal must not touch flash";
  EXPECT_EQ(rig.enroller.class_count(), 5u);
}

TEST(Enroller, FullTableIsRefused) {
  Rig rig;
  EnrollReport report;
  for (int k = 0; k < EnrollConfig{}.max_classes; ++k)
    ASSERT_EQ(rig.enroller.enroll("new" + std::to_string(k), examples_of(rig.model, 10 + k, 3, 1), report),
              EnrollStatus::kOk);
  EXPECT_EQ(rig.enroller.enroll("onemore", examples_of(rig.model, 30, 3, 1), report), EnrollStatus::kTableFull);
  ASSERT_EQ(rig.enroller.remove("new1"), EnrollStatus::kOk);
  EXPECT_EQ(rig.enroller.enroll("onemore", examples_of(rig.model, 30, 3, 1), report), EnrollStatus::kOk)
      << "removing a class frees its place";
}

TEST(Enroller, TableSurvivesReboot) {
  Rig rig;
  EnrollReport report;
  ASSERT_EQ(rig.enroller.enroll("marvin", examples_of(rig.model, 10, 5, 1), report), EnrollStatus::kOk);
  ASSERT_EQ(rig.enroller.enroll("sheila", examples_of(rig.model, 11, 4, 1), report), EnrollStatus::kOk);
  ASSERT_EQ(rig.enroller.remove("marvin"), EnrollStatus::kOk);

  app::MemoryFlash again(rig.storage, kPage, 8);
  ClassTable table(again, 0, rig.storage.size());
  ASSERT_EQ(table.mount(), EnrollStatus::kOk);
  ASSERT_EQ(table.image().count, 1u);
  const EnrolledClass& c = table.image().classes[0];
  EXPECT_EQ(c.name(), "sheila");
  EXPECT_EQ(c.example_count, 4);
  EXPECT_EQ(
      std::vector<int16_t>(c.prototype, c.prototype + c.dim),
      std::vector<int16_t>(rig.table.image().classes[0].prototype, rig.table.image().classes[0].prototype + c.dim));
  std::vector<int8_t> example(kInputBytes);
  ASSERT_EQ(table.read_example(0, 3, example), EnrollStatus::kOk);
  const auto given = examples_of(rig.model, 11, 4, 1);
  EXPECT_EQ(example, std::vector<int8_t>(given.begin() + 3 * kInputBytes, given.end()));
}

TEST(Enroller, ModelUpdateRecomputesEnrolledPrototypes) {
  Rig rig;
  EnrollReport report;
  ASSERT_EQ(rig.enroller.enroll("marvin", examples_of(rig.model, 10, 5, 1), report), EnrollStatus::kOk);
  ASSERT_EQ(rig.enroller.enroll("sheila", examples_of(rig.model, 11, 5, 1), report), EnrollStatus::kOk);

  // Version 2: another embedding and another input quantisation; the node reboots with it.
  ProjectionModel v2(2, 99, InputQuantization{1.0f / 40, -5}, 4);
  app::MemoryFlash again(rig.storage, kPage, 8);
  ClassTable table(again, 0, rig.storage.size());
  ASSERT_EQ(table.mount(), EnrollStatus::kOk);
  Enroller enroller(table, EnrollConfig{});
  size_t recomputed = 0;
  ASSERT_EQ(enroller.attach(v2, recomputed), EnrollStatus::kOk);
  EXPECT_EQ(recomputed, 2u);
  EXPECT_EQ(table.image().model_version, 2u);

  int right = 0;
  for (uint32_t s = 0; s < 20; ++s) {
    const auto one = examples_of(v2, s % 2 ? 11 : 10, 1, 300 + s);
    std::copy(one.begin(), one.end(), v2.input().begin());
    Match m;
    ASSERT_EQ(enroller.classify(m), EnrollStatus::kOk);
    right += m.known && m.index == (s % 2 ? 5 : 4);
  }
  EXPECT_GE(right, 18) << "enrolled classes must still be recognised after the model update";

  // Attaching the same model again recomputes nothing.
  ASSERT_EQ(enroller.attach(v2, recomputed), EnrollStatus::kOk);
  EXPECT_EQ(recomputed, 0u);
}

TEST(Enroller, ClassesTheNewModelCannotTakeGoStaleButKeepTheirExamples) {
  Rig rig;
  EnrollReport report;
  ASSERT_EQ(rig.enroller.enroll("marvin", examples_of(rig.model, 10, 5, 1), report), EnrollStatus::kOk);
  ProjectionModel v2(2, 99, kQuantV1, 4);
  v2.input_override = kInputBytes / 2;  // a model with another input size
  size_t recomputed = 0;
  ASSERT_EQ(rig.enroller.attach(v2, recomputed), EnrollStatus::kOk);
  EXPECT_EQ(recomputed, 0u);
  ASSERT_EQ(rig.table.image().count, 1u);
  EXPECT_EQ(rig.table.image().classes[0].state, ClassState::kStale);
  EXPECT_EQ(rig.table.image().classes[0].example_count, 5);
}

}  // namespace
}  // namespace tinyedge::enroll
