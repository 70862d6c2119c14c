// Evaluation figures: classifier confusion matrix, ROC curve and its area for anomaly scores.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace tinyedge::train {

struct ConfusionMatrix {
  explicit ConfusionMatrix(int classes) : classes(classes), counts(static_cast<std::size_t>(classes * classes), 0) {}
  int classes;
  std::vector<std::int64_t> counts;  // [truth][predicted]
  void add(int truth, int predicted) { ++counts[static_cast<std::size_t>(truth * classes + predicted)]; }
  std::int64_t at(int truth, int predicted) const { return counts[static_cast<std::size_t>(truth * classes + predicted)]; }
  std::int64_t total() const;
  double accuracy() const;
};

struct RocPoint {
  double false_positive_rate, true_positive_rate, threshold;
};

// Higher score = more anomalous; labels 1 = anomalous. Ties share their rank (Mann-Whitney U).
double roc_auc(std::span<const double> scores, std::span<const std::uint8_t> labels);
std::vector<RocPoint> roc_curve(std::span<const double> scores, std::span<const std::uint8_t> labels);

// Index of the largest value; the first one on a tie (as TFLite Micro's examples do).
template <typename T>
int arg_max(std::span<const T> v) {
  int best = 0;
  for (std::size_t i = 1; i < v.size(); ++i)
    if (v[i] > v[static_cast<std::size_t>(best)]) best = static_cast<int>(i);
  return best;
}

}  // namespace tinyedge::train
