#include <gtest/gtest.h>

#include "deploy/rollout/rollout_render.h"
#include "gateway/rollout/rollout_json.h"
#include "tinyedge.pb.h"

namespace tinyedge::deploy {
namespace {

TEST(RolloutRender, ProgressBarShowsActivatedFailedAndInFlight) {
  EXPECT_EQ(progress_bar(0, 0, 0, 10, 10), "[..........]");
  EXPECT_EQ(progress_bar(10, 0, 0, 10, 10), "[##########]");
  EXPECT_EQ(progress_bar(5, 2, 3, 10, 10), "[#####xx~~~]");
  // One failure among many still shows.
  EXPECT_EQ(progress_bar(99, 1, 0, 100, 10), "[#########x]");
  EXPECT_EQ(progress_bar(0, 0, 0, 0, 4), "[....]");
}

TEST(RolloutRender, RendersTheApiViewOfAnEngine) {
  rollout::RolloutRecord record;
  record.id = 7;
  record.package = {3, 21, 2};
  record.previous = {2, 21, 1};
  record.target = "group:factory-a";
  record.strategy.canary = {2, false};
  record.strategy.waves = {50, 100};
  record.strategy.max_failures = {2, true};
  std::vector<rollout::TargetNode> nodes;
  for (int i = 0; i < 10; ++i) nodes.push_back({"n" + std::to_string(i), true, 21, 1});
  auto engine = rollout::RolloutEngine::create(record, nodes, 0);
  engine.tick(0);
  tinyedge_v1_OtaStatus st = tinyedge_v1_OtaStatus_init_zero;
  st.model_id = 21;
  st.version = 2;
  st.state = tinyedge_v1_OtaState_OTA_ACTIVATED;
  engine.on_status("n0", st, 1);
  st.state = tinyedge_v1_OtaState_OTA_FAILED;
  st.reason = tinyedge_v1_OtaReason_OTA_SELF_TEST_FAILED;
  engine.on_status("n1", st, 2);
  engine.tick(3);
  rollout::RolloutView view;
  view.record = engine.record();
  view.phase_name = engine.phase_name(engine.record().phase);
  view.phases = engine.phases();
  for (const auto& n : engine.nodes()) ++view.counts[n.state];
  view.target_size = 10;
  view.nodes = engine.nodes();
  std::string text = render_rollout(rollout::to_json(view), 10);
  EXPECT_NE(text.find("rollout 7  paused"), std::string::npos) << text;
  EXPECT_NE(text.find("canary  * [#####xxxxx] 2/2"), std::string::npos) << text;
  EXPECT_NE(text.find("wave 1"), std::string::npos) << text;
  EXPECT_NE(text.find("self_test_failed"), std::string::npos) << text;
  EXPECT_NE(text.find("activated 1"), std::string::npos) << text;
  EXPECT_NE(text.find("why: failure threshold"), std::string::npos) << text;
  std::string list = render_rollout_list(nlohmann::json::array({rollout::to_json(view)}));
  EXPECT_NE(list.find("group:factory-a"), std::string::npos) << list;
  EXPECT_NE(list.find("1/1/10"), std::string::npos) << list;
}

}  // namespace
}  // namespace tinyedge::deploy
