#include "gateway/drift/drift_detector.h"

#include <algorithm>

#include "gateway/rollout/quality_gate.h"

namespace tinyedge::drift {

const char* to_string(DriftKind kind) {
  switch (kind) {
    case DriftKind::kLabelMix:
      return "label_mix";
    case DriftKind::kScore:
      return "score";
    case DriftKind::kInputMean:
      return "input_mean";
    case DriftKind::kInputStddev:
      return "input_stddev";
  }
  return "?";
}

const char* to_string(DriftReading::State state) {
  switch (state) {
    case DriftReading::State::kLearning:
      return "learning";
    case DriftReading::State::kSteady:
      return "steady";
    case DriftReading::State::kDrifting:
      return "drifting";
  }
  return "?";
}

DriftDetector::DriftDetector(const DriftOptions& options) : options_(options) {
  options_.baseline = std::max<uint32_t>(options_.baseline, 1);
  options_.window = std::max<uint32_t>(options_.window, 1);
  if (options_.evaluate_every == 0) options_.evaluate_every = std::max<uint32_t>(options_.window / 4, 1);
  options_.confirm = std::max<uint32_t>(options_.confirm, 1);
  ring_.reserve(options_.window);
}

uint32_t DriftDetector::bounded_label(const std::map<uint32_t, uint64_t>& histogram, uint32_t label) const {
  return histogram.count(label) || histogram.size() < kMaxLabels ? label : kOverflowLabel;
}

std::vector<DriftChange> DriftDetector::add(uint32_t label, uint32_t score) {
  ++results_;
  const uint8_t bin = static_cast<uint8_t>(std::min<uint32_t>(score, 255) / (256 / kScoreBins));
  if (base_n_ < options_.baseline) {
    ++base_labels_[bounded_label(base_labels_, label)];
    ++base_bins_[bin];
    ++base_n_;
    return {};
  }
  const Entry entry{bounded_label(win_labels_, label), bin};
  if (ring_.size() < options_.window) {
    ring_.push_back(entry);
  } else {
    Entry& old = ring_[next_];
    if (--win_labels_[old.label] == 0) win_labels_.erase(old.label);
    if (--win_bins_[old.bin] == 0) win_bins_.erase(old.bin);
    old = entry;
    next_ = (next_ + 1) % ring_.size();
  }
  ++win_labels_[entry.label];
  ++win_bins_[entry.bin];
  if (ring_.size() < options_.window || ++since_verdict_ < options_.evaluate_every) return {};
  since_verdict_ = 0;

  last_label_ = judge(base_labels_, win_labels_, options_.max_label_jsd);
  last_score_ = judge(base_bins_, win_bins_, options_.max_score_jsd);
  std::vector<DriftChange> changes;
  const Divergence* divergences[2] = {&last_label_, &last_score_};
  for (int k = 0; k < 2; ++k) {
    const bool over = divergences[k]->over();
    streak_[k] = over != alarm_[k] ? streak_[k] + 1 : 0;
    if (streak_[k] < options_.confirm) continue;
    alarm_[k] = over;
    streak_[k] = 0;
    changes.push_back({static_cast<DriftKind>(k), over, *divergences[k]});
  }
  return changes;
}

Divergence DriftDetector::judge(const std::map<uint32_t, uint64_t>& base, const std::map<uint32_t, uint64_t>& window,
                                double max_jsd) const {
  std::map<uint32_t, uint64_t> seen = base;
  for (const auto& [k, n] : window) seen[k] += n;
  Divergence d;
  d.jsd = rollout::jensen_shannon_bits(base, window);
  d.floor = rollout::jsd_noise_floor_bits(base_n_, ring_.size(), seen.size(), options_.quantile);
  d.bound = max_jsd + d.floor;
  return d;
}

void DriftDetector::rebaseline() {
  base_labels_.clear();
  base_bins_.clear();
  base_n_ = 0;
  ring_.clear();
  next_ = 0;
  win_labels_.clear();
  win_bins_.clear();
  since_verdict_ = 0;
  last_label_ = last_score_ = {};
  alarm_[0] = alarm_[1] = false;
  streak_[0] = streak_[1] = 0;
}

void DriftDetector::restore(const ResultBaseline& baseline) {
  base_labels_ = baseline.labels;
  base_bins_ = baseline.score_bins;
  base_n_ = baseline.results;
  ring_.clear();
  next_ = 0;
  win_labels_.clear();
  win_bins_.clear();
  since_verdict_ = 0;
}

DriftReading DriftDetector::reading() const {
  DriftReading r;
  r.baseline_results = base_n_;
  r.window_results = ring_.size();
  r.results = results_;
  r.label = last_label_;
  r.score = last_score_;
  r.state = base_n_ < options_.baseline || ring_.size() < options_.window ? DriftReading::State::kLearning
            : alarm_[0] || alarm_[1]                                      ? DriftReading::State::kDrifting
                                                                          : DriftReading::State::kSteady;
  r.baseline_labels = base_labels_;
  r.window_labels = win_labels_;
  r.baseline_scores.assign(kScoreBins, 0);
  r.window_scores.assign(kScoreBins, 0);
  for (const auto& [bin, n] : base_bins_) r.baseline_scores[bin] = n;
  for (const auto& [bin, n] : win_bins_) r.window_scores[bin] = n;
  return r;
}

}  // namespace tinyedge::drift
