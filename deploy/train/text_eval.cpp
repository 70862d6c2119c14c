#include "deploy/train/text_eval.h"

#include <stdexcept>
#include <string>

#include "deploy/train/parallel.h"
#include "deploy/train/runtime_eval.h"
#include "node_firmware/text/text_record.h"

namespace tinyedge::train {

text::TextFrontEndConfig text_front_end_of(const runtime::Model& model) {
  if (model.front_end().empty())
    throw std::runtime_error("the model has no text front-end record (it does not take text)");
  text::TextFrontEndConfig config;
  if (const auto s = text::decode_text_record(model.front_end(), config); s != text::TextStatus::kOk)
    throw std::runtime_error(std::string("the model's front-end record is not one this build runs: ") +
                             text::to_string(s));
  if (model.input_info().element_count != config.buckets)
    throw std::runtime_error("the model's input has " + std::to_string(model.input_info().element_count) +
                             " values, its text front-end " + std::to_string(config.buckets) + " buckets");
  return config;
}

std::vector<std::uint16_t> text_counts(const text::TextFrontEndConfig& config, std::string_view line,
                                       const std::string& where) {
  std::vector<std::uint16_t> counts(config.buckets);
  std::size_t bad = 0;
  const auto s =
      text::count_ngrams(config, {reinterpret_cast<const std::uint8_t*>(line.data()), line.size()}, counts, &bad);
  if (s == text::TextStatus::kBadUtf8)
    throw std::runtime_error(where + ": byte " + std::to_string(bad + 1) + " is not UTF-8");
  if (s != text::TextStatus::kOk) throw std::runtime_error(where + ": " + text::to_string(s));
  return counts;
}

std::vector<std::int8_t> text_input(const text::TextFrontEndConfig& config, const runtime::TensorInfo& input,
                                    std::string_view line, const std::string& where) {
  const auto counts = text_counts(config, line, where);
  std::vector<std::int8_t> q(counts.size());
  if (text::quantize_counts(counts, input.scale, input.zero_point, q) != text::TextStatus::kOk)
    throw std::runtime_error(where + ": the model's input is smaller than its bucket count");
  return q;
}

ConfusionMatrix evaluate_text(std::span<const std::uint8_t> blob, const TextCorpus& corpus, bool all, bool test_split,
                              int threads) {
  text::TextFrontEndConfig config;
  {
    TemRunner probe(blob);
    config = text_front_end_of(probe.model());
  }
  std::vector<std::size_t> idx;
  for (std::size_t i = 0; i < corpus.texts.size(); ++i)
    if (all || corpus.test[i] == test_split) idx.push_back(i);
  std::vector<int> predicted(idx.size());
  parallel_chunks(idx.size(), threads, [&](std::size_t lo, std::size_t hi) {
    TemRunner runner(blob);
    const auto info = runner.model().input_info();
    for (std::size_t k = lo; k < hi; ++k)
      predicted[k] = arg_max(runner.run(text_input(config, info, corpus.texts[idx[k]], corpus.where[idx[k]])));
  });
  ConfusionMatrix cm(static_cast<int>(corpus.labels.size()));
  for (std::size_t k = 0; k < idx.size(); ++k) cm.add(corpus.label[idx[k]], predicted[k]);
  return cm;
}

}  // namespace tinyedge::train
