// Text rendering of a rollout as the REST API returns it (gateway/rollout/rollout_json.h): one
// progress bar per phase and the count of nodes per state. Pure, so it is unit-tested.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace tinyedge::deploy {

// `width`: characters of each progress bar.
std::string render_rollout(const nlohmann::json& rollout, int width = 30);
// One line per rollout, for `rollout status` without an id.
std::string render_rollout_list(const nlohmann::json& rollouts);
// "[#####~~....]": activated '#', failed 'x', in flight '~', waiting '.'.
std::string progress_bar(uint32_t activated, uint32_t failed, uint32_t in_flight, uint32_t size, int width);

}  // namespace tinyedge::deploy
