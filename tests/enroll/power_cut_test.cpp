// The enrolled-class table under power cuts: for every erase and program an enrollment, a removal
// and a post-update recomputation perform, cut the power there, reboot, and require the old table
// or the new one, whole, and a node that can enroll again.
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "node_firmware/enroll/enroller.h"
#include "tests/node/fault_flash.h"
#include "tests/enroll/projection_model.h"

namespace tinyedge::enroll {
namespace {

using testing::examples_of;
using app::testing::FaultFlash;
using testing::ProjectionModel;

constexpr size_t kPage = 256;  // small pages: an enrollment spans several, so cuts land mid-bank
constexpr InputQuantization kQuant{1.0f / 64, 0};

// What a mounted table holds, comparable as a whole.
struct Snapshot {
  uint32_t model_version = 0;
  std::vector<std::string> labels;
  std::vector<std::vector<int16_t>> prototypes;
  std::vector<int16_t> thresholds;
  bool operator==(const Snapshot&) const = default;
};

Snapshot snapshot(const TableImage& t) {
  Snapshot s;
  s.model_version = t.model_version;
  for (uint32_t i = 0; i < t.count; ++i) {
    s.labels.emplace_back(t.classes[i].name());
    s.prototypes.emplace_back(t.classes[i].prototype, t.classes[i].prototype + t.classes[i].dim);
    s.thresholds.push_back(t.classes[i].threshold_q14);
  }
  return s;
}

std::string describe(const Snapshot& s) {
  std::string out = "v" + std::to_string(s.model_version) + " {";
  for (const auto& l : s.labels) out += l + " ";
  return out + "}";
}

// The starting flash: one class ("marvin") enrolled under model v1.
std::vector<uint8_t> starting_flash(ProjectionModel& v1) {
  std::vector<uint8_t> storage(24 * kPage, 0xFF);
  app::MemoryFlash flash(storage, kPage, 8);
  ClassTable table(flash, 0, storage.size());
  Enroller enroller(table, EnrollConfig{});
  size_t recomputed;
  EnrollReport report;
  EXPECT_EQ(table.mount(), EnrollStatus::kOk);
  EXPECT_EQ(enroller.attach(v1, recomputed), EnrollStatus::kOk);
  EXPECT_EQ(enroller.enroll("marvin", examples_of(v1, 10, 5, 1), report), EnrollStatus::kOk);
  return storage;
}

// Runs `change` on a node booted from `start` with the power cut at write `cut` (none: no cut),
// then reboots with `model` and returns what the table holds and whether enrolling still works.
struct Outcome {
  Snapshot table;
  EnrollStatus change = EnrollStatus::kOk;
  size_t writes = 0;
  bool cut_happened = false;
};
using Change = std::function<EnrollStatus(Enroller&, ProjectionModel&)>;

Outcome run(const std::vector<uint8_t>& start, ProjectionModel& model, const Change& change,
            std::optional<size_t> cut) {
  std::vector<uint8_t> storage = start;
  Outcome out;
  {
    FaultFlash flash(storage, kPage, 8);
    ClassTable table(flash, 0, storage.size());
    Enroller enroller(table, EnrollConfig{});
    EXPECT_EQ(table.mount(), EnrollStatus::kOk);
    flash.cut_at(cut);
    out.change = change(enroller, model);
    out.writes = flash.writes();
    out.cut_happened = flash.power_lost();
  }
  // Reboot on healthy flash: mount, bind the model (which recomputes if the table is older), and
  // prove the node still works by enrolling another class and reading the table back.
  app::MemoryFlash flash(storage, kPage, 8);
  ClassTable table(flash, 0, storage.size());
  Enroller enroller(table, EnrollConfig{});
  EXPECT_EQ(table.mount(), EnrollStatus::kOk);
  out.table = snapshot(table.image());
  size_t recomputed;
  EnrollReport report;
  EXPECT_EQ(enroller.attach(model, recomputed), EnrollStatus::kOk);
  EXPECT_EQ(enroller.enroll("after", examples_of(model, 20, 3, 5), report), EnrollStatus::kOk)
      << "after a cut at write " << (cut ? std::to_string(*cut) : "none") << ": the rebooted node cannot enroll";
  ClassTable reread(flash, 0, storage.size());
  EXPECT_EQ(reread.mount(), EnrollStatus::kOk);
  EXPECT_EQ(reread.image().count, table.image().count);
  return out;
}

void cut_everywhere(const char* what, ProjectionModel& model, const Change& change) {
  ProjectionModel v1(1, 7, kQuant, 3);
  const auto start = starting_flash(v1);
  app::MemoryFlash view(const_cast<std::vector<uint8_t>&>(start), kPage, 8);
  ClassTable before_table(view, 0, start.size());
  ASSERT_EQ(before_table.mount(), EnrollStatus::kOk);
  const Snapshot before = snapshot(before_table.image());

  const Outcome clean = run(start, model, change, std::nullopt);
  ASSERT_EQ(clean.change, EnrollStatus::kOk) << what;
  ASSERT_NE(clean.table, before) << what << " must change the table";
  ASSERT_GE(clean.writes, 2u) << what << ": expected at least an erase and the header";

  size_t old_seen = 0, new_seen = 0;
  for (size_t cut = 0; cut < clean.writes; ++cut) {
    const Outcome o = run(start, model, change, cut);
    ASSERT_TRUE(o.cut_happened) << what << ": cut " << cut;
    EXPECT_NE(o.change, EnrollStatus::kOk) << what << ": a change whose write was cut must not report success";
    const bool is_old = o.table == before;
    const bool is_new = o.table == clean.table;
    EXPECT_TRUE(is_old || is_new) << what << ": cut at write " << cut << " of " << clean.writes
                                  << " booted a table that is neither: " << describe(o.table) << " (old "
                                  << describe(before) << ", new " << describe(clean.table) << ")";
    old_seen += is_old;
    new_seen += is_new;
  }
  EXPECT_GT(old_seen, 0u) << what;
  std::printf("%s: %zu writes, every cut booted the old table (%zu) or the new (%zu)\n", what, clean.writes, old_seen,
              new_seen);
}

TEST(EnrollPowerCut, EnrollmentLeavesOldOrNewTable) {
  ProjectionModel v1(1, 7, kQuant, 3);
  cut_everywhere("enroll", v1, [](Enroller& e, ProjectionModel& m) {
    size_t recomputed;
    EnrollReport report;
    if (const auto s = e.attach(m, recomputed); s != EnrollStatus::kOk) return s;
    return e.enroll("sheila", examples_of(m, 11, 5, 2), report);
  });
}

TEST(EnrollPowerCut, RemovalLeavesOldOrNewTable) {
  ProjectionModel v1(1, 7, kQuant, 3);
  cut_everywhere("remove", v1, [](Enroller& e, ProjectionModel& m) {
    size_t recomputed;
    if (const auto s = e.attach(m, recomputed); s != EnrollStatus::kOk) return s;
    return e.remove("marvin");
  });
}

TEST(EnrollPowerCut, RecomputationAfterModelUpdateLeavesOldOrNewTable) {
  ProjectionModel v2(2, 99, InputQuantization{1.0f / 40, -5}, 3);
  cut_everywhere("recompute", v2, [](Enroller& e, ProjectionModel& m) {
    size_t recomputed;
    return e.attach(m, recomputed);
  });
}

}  // namespace
}  // namespace tinyedge::enroll
