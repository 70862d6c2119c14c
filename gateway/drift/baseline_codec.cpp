#include "gateway/drift/baseline_codec.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace tinyedge::drift {
namespace {

using json = nlohmann::json;

std::nullopt_t refuse(std::string& error, std::string why) {
  error = std::move(why);
  return std::nullopt;
}

bool is_count(const json& v) { return v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0); }

}  // namespace

std::string encode(const ResultBaseline& baseline) {
  json labels = json::array();
  for (const auto& [label, n] : baseline.labels) labels.push_back({label, n});
  json scores = json::array();
  for (uint32_t bin = 0; bin < kScoreBins; ++bin) {
    auto it = baseline.score_bins.find(bin);
    scores.push_back(it == baseline.score_bins.end() ? 0 : it->second);
  }
  return json{{"labels", labels}, {"scores", scores}}.dump();
}

std::string encode(const InputBaseline& baseline) {
  return json{{"mean", {baseline.mean_sum, baseline.mean_squares}},
              {"stddev", {baseline.stddev_sum, baseline.stddev_squares}}}
      .dump();
}

std::optional<ResultBaseline> decode_result_baseline(const std::string& text, uint64_t results, std::string& error) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return refuse(error, "result baseline is not a JSON object");
  const auto labels = j.find("labels");
  const auto scores = j.find("scores");
  if (labels == j.end() || !labels->is_array() || scores == j.end() || !scores->is_array())
    return refuse(error, "result baseline lacks its labels or scores array");
  if (labels->size() > DriftDetector::kMaxLabels + 1)
    return refuse(error, "result baseline has " + std::to_string(labels->size()) + " labels (at most " +
                             std::to_string(DriftDetector::kMaxLabels + 1) + ")");
  if (scores->size() != kScoreBins)
    return refuse(error, "result baseline has " + std::to_string(scores->size()) + " score bins, not " +
                             std::to_string(kScoreBins));
  ResultBaseline b;
  b.results = results;
  uint64_t label_total = 0, score_total = 0;
  for (const auto& entry : *labels) {
    if (!entry.is_array() || entry.size() != 2 || !is_count(entry[0]) || !is_count(entry[1]) ||
        entry[0].get<uint64_t>() > 0xFFFFFFFFu || entry[1].get<uint64_t>() == 0)
      return refuse(error, "result baseline has a label entry that is not [label, results > 0]");
    if (!b.labels.emplace(entry[0].get<uint32_t>(), entry[1].get<uint64_t>()).second)
      return refuse(error, "result baseline names label " + entry[0].dump() + " twice");
    label_total += entry[1].get<uint64_t>();
  }
  for (uint32_t bin = 0; bin < kScoreBins; ++bin) {
    if (!is_count((*scores)[bin])) return refuse(error, "result baseline has a score bin that is not a count");
    const uint64_t n = (*scores)[bin].get<uint64_t>();
    if (n) b.score_bins[bin] = n;
    score_total += n;
  }
  if (label_total != results || score_total != results)
    return refuse(error, "result baseline counts " + std::to_string(label_total) + " labels and " +
                             std::to_string(score_total) + " scores for " + std::to_string(results) + " results");
  return b;
}

std::optional<InputBaseline> decode_input_baseline(const std::string& text, uint64_t periods, std::string& error) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return refuse(error, "input baseline is not a JSON object");
  double v[4];
  const char* names[2] = {"mean", "stddev"};
  for (int k = 0; k < 2; ++k) {
    const auto pair = j.find(names[k]);
    if (pair == j.end() || !pair->is_array() || pair->size() != 2 || !(*pair)[0].is_number() || !(*pair)[1].is_number())
      return refuse(error, std::string("input baseline lacks its ") + names[k] + " [sum, squares]");
    v[2 * k] = (*pair)[0].get<double>();
    v[2 * k + 1] = (*pair)[1].get<double>();
  }
  const double n = static_cast<double>(periods);
  for (int k = 0; k < 2; ++k) {
    const double sum = v[2 * k], squares = v[2 * k + 1];
    // int8 statistics: a period's mean lies in [-128, 127], its standard deviation in [0, 128].
    const bool ok = std::isfinite(sum) && std::isfinite(squares) && std::fabs(sum) <= 128 * n && squares >= 0 &&
                    squares <= 128.0 * 128.0 * n && (k == 0 || sum >= 0);
    if (!ok)
      return refuse(error, std::string("input baseline's ") + names[k] + " sums are not those of " +
                               std::to_string(periods) + " int8 periods");
  }
  return InputBaseline{periods, v[0], v[1], v[2], v[3]};
}

}  // namespace tinyedge::drift
