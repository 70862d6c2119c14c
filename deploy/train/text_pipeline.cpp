#include "deploy/train/text_pipeline.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <stdexcept>

#include "deploy/train/runtime_eval.h"
#include "deploy/train/tem_export.h"
#include "deploy/train/text_eval.h"
#include "deploy/train/text_trainer.h"
#include "node_firmware/text/text_record.h"

namespace tinyedge::train {

TextTrainResult train_text(const TextTrainRequest& request, const ProgressFn& progress,
                           const std::function<void(const std::string&)>& log) {
  TextTrainRequest req = request;
  if (req.calibration <= 0) throw std::runtime_error("--calibration must be positive");
  if (const auto s = req.front_end.validate(); s != text::TextStatus::kOk)
    throw std::runtime_error(std::string("text front-end: ") + text::to_string(s));
  TextTrainResult r;
  r.corpus = read_text_corpus(req.data);
  const auto& c = r.corpus;
  if (req.budget) {
    r.picked = pick_text_net(req.front_end,
                             req.fixed_buckets ? std::optional<std::uint32_t>(req.front_end.buckets) : std::nullopt,
                             req.fixed_hidden ? std::optional<int>(req.hidden) : std::nullopt, *req.budget, c.labels);
    req.front_end.buckets = r.picked->buckets;
    req.hidden = r.picked->hidden;
    if (log) {
      char line[512];
      std::snprintf(line, sizeof line,
                    "budget RAM %u B (arena + 2 B of counts a bucket), flash %u B: picked %u buckets, %d hidden "
                    "(%zu parameters; RAM %u B = arena %u + counts %u; .tem %zu B)",
                    req.budget->ram_bytes, req.budget->flash_bytes, r.picked->buckets, r.picked->hidden,
                    r.picked->parameters, r.picked->ram_bytes(), r.picked->arena_bytes, r.picked->count_bytes(),
                    r.picked->tem_bytes);
      log(line);
    }
  }
  const int buckets = static_cast<int>(req.front_end.buckets);
  const int classes = static_cast<int>(c.labels.size());

  // Every text through the node's front-end once: sparse counts for training, dense for the rest.
  std::vector<SparseCounts> sparse(c.texts.size());
  std::vector<SparseCounts> train_x;
  std::vector<int> train_y;
  std::vector<std::size_t> test_idx;
  double nonzero = 0;
  for (std::size_t i = 0; i < c.texts.size(); ++i) {
    const auto counts = text_counts(req.front_end, c.texts[i], c.where[i]);
    for (std::uint32_t b = 0; b < counts.size(); ++b)
      if (counts[b] != 0) sparse[i].emplace_back(b, static_cast<float>(counts[b]));
    if (c.test[i]) {
      test_idx.push_back(i);
    } else {
      nonzero += static_cast<double>(sparse[i].size());
      train_x.push_back(sparse[i]);
      train_y.push_back(c.label[i]);
    }
  }
  r.mean_nonzero = nonzero / static_cast<double>(train_x.size());
  const auto dense = [&](std::size_t i) {
    std::vector<float> v(static_cast<std::size_t>(buckets), 0.0f);
    for (const auto& [b, n] : sparse[i]) v[b] = n;
    return v;
  };
  if (log) {
    char line[512];
    std::snprintf(line, sizeof line,
                  "%zu texts, %d classes; %zu training / %zu test (every fifth text of each class); %d buckets, "
                  "word n-grams %d..%d, character n-grams %d..%d, %s, seed %u: %.1f buckets set per text",
                  c.texts.size(), classes, train_x.size(), test_idx.size(), buckets, req.front_end.word_min,
                  req.front_end.word_max, req.front_end.char_min, req.front_end.char_max,
                  req.front_end.lowercase ? "lower-cased" : "case kept", req.front_end.seed, r.mean_nonzero);
    log(line);
  }

  const auto t0 = std::chrono::steady_clock::now();
  r.float_net = train_text_net(train_x, train_y, buckets, classes, req.hidden, req.train, progress);
  r.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::size_t correct = 0;
  for (auto i : test_idx) correct += arg_max<float>(forward(r.float_net, dense(i))) == c.label[i];
  r.float_accuracy = static_cast<double>(correct) / static_cast<double>(test_idx.size());

  std::vector<std::vector<float>> calibration;
  std::vector<std::size_t> train_idx;
  for (std::size_t i = 0; i < c.texts.size(); ++i)
    if (!c.test[i]) train_idx.push_back(i);
  const std::size_t n_cal = std::min<std::size_t>(static_cast<std::size_t>(req.calibration), train_idx.size());
  for (std::size_t k = 0; k < n_cal; ++k) calibration.push_back(dense(train_idx[k * train_idx.size() / n_cal]));
  r.quant = quantize(r.float_net, calibration);  // the count range is calibrated too

  model::ModelMetadata meta = req.meta;
  if (meta.name.empty()) meta.name = "text-" + r.float_net.arch;
  if (meta.model_id == 0) meta.model_id = default_model_id(meta.name);
  meta.labels = c.labels;
  r.compiled = export_tem(r.quant, text_meta(meta, req.front_end));
  r.int8_confusion = evaluate_text(r.compiled.tem, c, false, true, req.threads);

  TemRunner runner(r.compiled.tem);
  const auto config = text_front_end_of(runner.model());
  r.self_test.input =
      text_input(config, runner.model().input_info(), c.texts[test_idx.front()], c.where[test_idx.front()]);
  const auto out = runner.run(r.self_test.input);
  r.self_test.output.assign(out.begin(), out.end());
  return r;
}

}  // namespace tinyedge::train
