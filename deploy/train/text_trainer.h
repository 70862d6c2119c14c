// Training the text classifier: hashed n-gram counts (a sparse vector of `buckets` values) -> a
// dense ReLU layer -> a dense layer over the classes -> softmax. The first layer is an embedding
// bag (each n-gram adds its column), which the runtime runs as an ordinary int8 fully-connected
// op; trained in plain C++ over the sparse counts (a few hundred non-zeros of thousands), so no
// torch translation unit and seconds per run.
#pragma once
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "deploy/train/float_net.h"
#include "deploy/train/torch_trainer.h"

namespace tinyedge::train {

// One text's non-zero counts: (bucket, count).
using SparseCounts = std::vector<std::pair<std::uint32_t, float>>;

// The layers train_text_net trains, with zero weights: counts -> dense(hidden, ReLU) -> dense(classes),
// or counts -> dense(classes) when hidden = 0 (the trained net appends a softmax).
FloatNet text_net_skeleton(int buckets, int classes, int hidden);

// hidden = 0: no hidden layer (a linear classifier over the counts). Adam, seeded shuffling,
// cosine learning-rate decay; the same inputs, options and seed give the same weights.
FloatNet train_text_net(std::span<const SparseCounts> texts, std::span<const int> labels, int buckets, int classes,
                        int hidden, const TrainOptions& options, const ProgressFn& progress);

}  // namespace tinyedge::train
