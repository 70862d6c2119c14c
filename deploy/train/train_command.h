// What `tinyedge --help` says of `train`, shared by the command itself (tinyedge-train, which links
// libtorch) and the forwarder in `tinyedge` that execs it, so the two never disagree.
#pragma once

namespace tinyedge::deploy {

inline constexpr const char* kTrainOrder = "50-train";
inline constexpr const char* kTrainDescription =
    "Train a model with libtorch and quantise it to a deployable int8 .tem";

}  // namespace tinyedge::deploy
