#include "deploy/train/text_eval.h"

#include <algorithm>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>

#include "deploy/train/parallel.h"
#include "deploy/train/quantize.h"
#include "deploy/train/runtime_eval.h"
#include "deploy/train/tem_export.h"
#include "deploy/train/text_trainer.h"
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

model::ModelMetadata text_meta(model::ModelMetadata meta, const text::TextFrontEndConfig& fe) {
  if (meta.input_description.empty()) {
    char d[256];
    std::snprintf(d, sizeof d, "text: counts of hashed word %d..%d and character %d..%d n-grams in %u buckets",
                  fe.word_min, fe.word_max, fe.char_min, fe.char_max, fe.buckets);
    meta.input_description = d;
  }
  meta.front_end.resize(text::kTextRecordBytes);
  text::encode_text_record(fe, std::span<std::uint8_t, text::kTextRecordBytes>(meta.front_end));
  return meta;
}

TextNetChoice measure_text_net(const text::TextFrontEndConfig& front_end, int hidden,
                               const std::vector<std::string>& labels) {
  const int buckets = static_cast<int>(front_end.buckets);
  FloatNet net = text_net_skeleton(buckets, static_cast<int>(labels.size()), hidden);
  Layer soft;
  soft.kind = LayerKind::kSoftmax;
  soft.in = soft.out = net.output();
  net.layers.push_back(soft);
  // Seeded weights and counts: quantisation needs real ranges; the sizes do not depend on them.
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-0.1f, 0.1f);
  for (auto& l : net.layers)
    for (auto& w : l.weights) w = u(rng);
  std::vector<std::vector<float>> calibration(4, std::vector<float>(front_end.buckets, 0.0f));
  for (std::size_t k = 0; k < calibration.size(); ++k)
    for (std::size_t b = k; b < calibration[k].size(); b += 7) calibration[k][b] = static_cast<float>(1 + b % 3);
  model::ModelMetadata meta;
  meta.name = "text-budget";
  meta.labels = labels;
  const auto compiled = export_tem(quantize(net, calibration), text_meta(meta, front_end));
  TextNetChoice c;
  c.buckets = front_end.buckets;
  c.hidden = hidden;
  c.arena_bytes = compiled.arena_bytes;
  c.tem_bytes = compiled.tem.size();
  c.parameters = compiled.parameter_count;
  return c;
}

TextNetChoice pick_text_net(const text::TextFrontEndConfig& front_end, std::optional<std::uint32_t> buckets,
                            std::optional<int> hidden, const TextBudget& budget,
                            const std::vector<std::string>& labels) {
  std::vector<std::uint32_t> bucket_sizes;
  if (buckets)
    bucket_sizes = {*buckets};
  else
    for (std::uint32_t b = 256; b <= std::min<std::uint32_t>(4096, text::kMaxBuckets); b *= 2)
      bucket_sizes.push_back(b);
  const std::vector<int> hidden_sizes = hidden ? std::vector<int>{*hidden} : std::vector<int>{8, 16, 32, 64};
  std::optional<TextNetChoice> best, smallest;
  for (std::uint32_t b : bucket_sizes)
    for (int h : hidden_sizes) {
      // The counts (2 B a bucket) plus the int8 input in the arena, and the first layer's int8
      // weights, bound the needs from below: skip compiling what cannot fit.
      const std::uint64_t weights = std::uint64_t{b} * static_cast<std::uint64_t>(h > 0 ? h : labels.size());
      if (smallest && (3ull * b > budget.ram_bytes || weights > budget.flash_bytes)) continue;
      text::TextFrontEndConfig fe = front_end;
      fe.buckets = b;
      const TextNetChoice c = measure_text_net(fe, h, labels);
      if (!smallest || c.parameters < smallest->parameters) smallest = c;
      if (c.ram_bytes() > budget.ram_bytes || c.tem_bytes > budget.flash_bytes) continue;
      if (!best || c.parameters > best->parameters) best = c;  // ascending buckets: ties keep fewer
    }
  if (!best)
    throw std::runtime_error(
        "no text model fits RAM " + std::to_string(budget.ram_bytes) + " B and flash " +
        std::to_string(budget.flash_bytes) + " B: the smallest tried (" + std::to_string(smallest->buckets) +
        " buckets, " + std::to_string(smallest->hidden) + " hidden) needs " + std::to_string(smallest->ram_bytes()) +
        " B of RAM (arena " + std::to_string(smallest->arena_bytes) + " + counts " +
        std::to_string(smallest->count_bytes()) + ") and " + std::to_string(smallest->tem_bytes) + " B of flash");
  return *best;
}

}  // namespace tinyedge::train
