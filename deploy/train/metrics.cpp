#include "deploy/train/metrics.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace tinyedge::train {

std::int64_t ConfusionMatrix::total() const { return std::accumulate(counts.begin(), counts.end(), std::int64_t{0}); }

double ConfusionMatrix::accuracy() const {
  std::int64_t correct = 0;
  for (int i = 0; i < classes; ++i) correct += at(i, i);
  const auto n = total();
  return n ? static_cast<double>(correct) / static_cast<double>(n) : 0.0;
}

double roc_auc(std::span<const double> scores, std::span<const std::uint8_t> labels) {
  if (scores.size() != labels.size()) throw std::runtime_error("roc_auc: scores and labels differ in length");
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return scores[a] < scores[b]; });
  double rank_sum = 0;
  std::size_t positives = 0;
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j < order.size() && scores[order[j]] == scores[order[i]]) ++j;
    const double mid_rank = (static_cast<double>(i) + static_cast<double>(j - 1)) / 2.0 + 1.0;
    for (std::size_t k = i; k < j; ++k)
      if (labels[order[k]]) {
        rank_sum += mid_rank;
        ++positives;
      }
    i = j;
  }
  const std::size_t negatives = scores.size() - positives;
  if (positives == 0 || negatives == 0) throw std::runtime_error("ROC AUC needs both normal and anomalous samples");
  const double p = static_cast<double>(positives), n = static_cast<double>(negatives);
  return (rank_sum - p * (p + 1) / 2.0) / (p * n);
}

std::vector<RocPoint> roc_curve(std::span<const double> scores, std::span<const std::uint8_t> labels) {
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return scores[a] > scores[b]; });
  const double p = static_cast<double>(std::count(labels.begin(), labels.end(), 1));
  const double n = static_cast<double>(labels.size()) - p;
  std::vector<RocPoint> curve{{0.0, 0.0, scores.empty() ? 0.0 : scores[order.front()] + 1}};
  double tp = 0, fp = 0;
  for (std::size_t i = 0; i < order.size(); ++i) {
    (labels[order[i]] ? tp : fp) += 1;
    if (i + 1 == order.size() || scores[order[i + 1]] != scores[order[i]])
      curve.push_back({n > 0 ? fp / n : 0.0, p > 0 ? tp / p : 0.0, scores[order[i]]});
  }
  return curve;
}

}  // namespace tinyedge::train
