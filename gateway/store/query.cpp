#include "gateway/store/query.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>

namespace tinyedge::gateway {

std::vector<std::pair<uint32_t, uint32_t>> parse_runners_up(const std::string& text) {
  std::vector<std::pair<uint32_t, uint32_t>> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string::npos) end = text.size();
    const std::string_view piece(text.data() + pos, end - pos);
    const size_t colon = piece.find(':');
    uint32_t label = 0, score = 0;
    if (colon != std::string_view::npos) {
      const auto a = std::from_chars(piece.data(), piece.data() + colon, label);
      const auto b = std::from_chars(piece.data() + colon + 1, piece.data() + piece.size(), score);
      if (a.ec == std::errc() && a.ptr == piece.data() + colon && b.ec == std::errc() &&
          b.ptr == piece.data() + piece.size()) {
        out.emplace_back(label, score);
      }
    }
    pos = end + 1;
  }
  return out;
}

RollupSpan rollup_span(const LabelStatsFilter& f) {
  if (f.node_id || f.group || f.bucket_ms <= 0 || f.bucket_ms % kRollupMs != 0) return {};
  return latency_rollup_span(f.from_ms, f.to_ms);
}

RollupSpan coarse_rollup_span(const LabelStatsFilter& f) {
  const RollupSpan minutes = rollup_span(f);
  if (minutes.empty() || f.bucket_ms % kCoarseRollupMs != 0) return {};
  // The minute span starts at 0 or later, so truncating division rounds the right way.
  const int64_t from = (minutes.from_ms + kCoarseRollupMs - 1) / kCoarseRollupMs * kCoarseRollupMs;
  const int64_t to = minutes.to_ms / kCoarseRollupMs * kCoarseRollupMs;
  return to > from ? RollupSpan{from, to} : RollupSpan{};
}

namespace {
int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }
}  // namespace

LabelBucketer::LabelBucketer(const LabelStatsFilter& filter)
    : origin_ms_(0), bucket_ms_(std::max<int64_t>(filter.bucket_ms, 1)) {
  origin_ms_ = floor_div(filter.from_ms, bucket_ms_) * bucket_ms_;
}

void LabelBucketer::add(int64_t at_ms, uint32_t label, uint32_t score, uint64_t count) {
  const int64_t b = floor_div(at_ms - origin_ms_, bucket_ms_);
  const uint64_t key = (static_cast<uint64_t>(b) << 32) | label;
  auto [it, fresh] = slot_.try_emplace(key, out_.size());
  if (fresh) out_.push_back({origin_ms_ + b * bucket_ms_, label, 0, {}});
  auto& row = out_[it->second];
  const auto bin = static_cast<size_t>(std::clamp<int64_t>(score / 32, 0, kScoreBins - 1));
  row.score_histogram[bin] += count;
  row.count += count;
}

std::vector<LabelBucket> LabelBucketer::take() {
  std::sort(out_.begin(), out_.end(), [](const LabelBucket& a, const LabelBucket& b) {
    return a.bucket_start_ms != b.bucket_start_ms ? a.bucket_start_ms < b.bucket_start_ms : a.label < b.label;
  });
  slot_.clear();
  return std::move(out_);
}

uint32_t latency_bucket(uint32_t latency_us) {
  const int bits = std::bit_width(latency_us);
  if (bits <= 5) return latency_us;
  const int drop = bits - 5;
  return latency_us >> drop << drop;
}

RollupSpan latency_rollup_span(int64_t from_ms, int64_t to_ms) {
  if (from_ms < 0) from_ms = 0;
  const int64_t from = (from_ms + kRollupMs - 1) / kRollupMs * kRollupMs;
  const int64_t to = to_ms / kRollupMs * kRollupMs;
  return to > from ? RollupSpan{from, to} : RollupSpan{};
}

void LatencyHistograms::add(uint32_t model_id, uint32_t model_version, uint32_t bucket_us, uint64_t count) {
  counts_[{model_id, model_version, bucket_us}] += count;
}

std::vector<LatencyStats> LatencyHistograms::take() {
  std::vector<LatencyStats> out;
  std::vector<std::pair<uint32_t, uint64_t>> histogram;
  for (auto it = counts_.begin(); it != counts_.end(); ++it) {
    const auto [model, version, bucket] = it->first;
    histogram.emplace_back(bucket, it->second);
    const auto next = std::next(it);
    if (next == counts_.end() || std::get<0>(next->first) != model || std::get<1>(next->first) != version) {
      out.push_back(latency_stats(model, version, histogram));
      histogram.clear();
    }
  }
  counts_.clear();
  return out;
}

LatencyStats latency_stats(uint32_t model_id, uint32_t model_version,
                           const std::vector<std::pair<uint32_t, uint64_t>>& histogram) {
  LatencyStats st{model_id, model_version, 0, 0, 0, 0, 0};
  for (const auto& [latency, n] : histogram) st.count += n;
  if (histogram.empty()) return st;
  const auto at = [&](double p) {
    // Nearest-rank percentile.
    const auto rank = static_cast<uint64_t>(std::max(1.0, std::ceil(p * static_cast<double>(st.count))));
    uint64_t seen = 0;
    for (const auto& [latency, n] : histogram) {
      seen += n;
      if (seen >= rank) return latency;
    }
    return histogram.back().first;
  };
  st.p50_us = at(0.50);
  st.p90_us = at(0.90);
  st.p99_us = at(0.99);
  st.max_us = histogram.back().first;
  return st;
}

}  // namespace tinyedge::gateway
