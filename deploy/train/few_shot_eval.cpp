// `tinyedge model eval --enroll K`: the held-out classes enrolled through the node's own code.
#include <algorithm>
#include <random>
#include <stdexcept>

#include "deploy/train/embedding_pipeline.h"
#include "deploy/train/node_enrollment.h"
#include "deploy/train/runtime_eval.h"
#include "node_firmware/app/flash.h"
#include "node_firmware/enroll/enroller.h"
#include "node_firmware/enroll/runtime_embedding_model.h"

namespace tinyedge::train {

FewShotEval evaluate_few_shot(std::span<const std::uint8_t> tem, const ImageSet& train, const ImageSet& test, int shots,
                              std::uint64_t seed) {
  runtime::Model model;
  if (const auto s = runtime::Model::load(tem, model); s != runtime::Status::kOk)
    throw std::runtime_error(std::string("model does not load: ") + runtime::to_string(s));
  std::vector<std::uint32_t> arena((model.arena_bytes() + 3) / 4);
  enroll::RuntimeEmbeddingModel embedding;
  if (const auto s = embedding.bind(model, std::span(reinterpret_cast<std::uint8_t*>(arena.data()), arena.size() * 4));
      s != enroll::EnrollStatus::kOk)
    throw std::runtime_error(std::string("not an embedding model: ") + enroll::to_string(s));

  // The node's table on a flash in RAM, large enough for the classes at this many shots.
  const auto& names = fashion_mnist_labels();
  RamClassTable node_table(embedding, names.size(), 10, 784);
  enroll::Enroller& enroller = node_table.enroller();

  // Which Fashion-MNIST class each of the model's classes is; the rest are new.
  std::vector<int> node_index(names.size(), -1);
  for (std::size_t c = 0; c < names.size(); ++c)
    for (std::size_t t = 0; t < embedding.head().class_count; ++t)
      if (embedding.trained_label(t) == node_label(names[c])) node_index[c] = static_cast<int>(t);

  FewShotEval r;
  r.shots = shots;
  std::mt19937_64 rng(seed);
  const auto info = model.input_info();
  for (std::size_t c = 0; c < names.size(); ++c) {
    if (node_index[c] >= 0) continue;
    std::vector<std::size_t> of_class;
    for (std::size_t i = 0; i < train.count(); ++i)
      if (train.labels[i] == c) of_class.push_back(i);
    std::shuffle(of_class.begin(), of_class.end(), rng);
    if (of_class.size() < static_cast<std::size_t>(shots))
      throw std::runtime_error("only " + std::to_string(of_class.size()) + " training images of " + names[c]);
    std::vector<std::int8_t> examples;
    for (int e = 0; e < shots; ++e) {
      const auto q = quantize_image(info, train.image(of_class[static_cast<std::size_t>(e)]));
      examples.insert(examples.end(), q.begin(), q.end());
    }
    enroll::EnrollReport report;
    const std::string label = node_label(names[c]);
    if (const auto s = enroller.enroll(label, examples, report); s != enroll::EnrollStatus::kOk)
      throw std::runtime_error(
          "enrolling " + label + " refused: " + enroll::to_string(s) +
          (report.nearest_class >= 0
               ? " (nearest: " + std::string(enroller.label(static_cast<std::size_t>(report.nearest_class))) +
                     ", cosine " + std::to_string(report.nearest_q14 / 16384.0) + ")"
               : std::string()));
    node_index[c] = static_cast<int>(enroller.class_count() - 1);
    r.new_labels.push_back(label);
  }

  std::size_t right = 0, new_right = 0, trained_right = 0;
  for (std::size_t i = 0; i < test.count(); ++i) {
    const auto q = quantize_image(info, test.image(i));
    std::copy(q.begin(), q.end(), embedding.input().begin());
    enroll::Match m;
    if (const auto s = enroller.classify(m); s != enroll::EnrollStatus::kOk)
      throw std::runtime_error(std::string("classify: ") + enroll::to_string(s));
    const bool is_new = node_index[test.labels[i]] >= static_cast<int>(embedding.head().class_count);
    const bool ok = m.known && m.index == node_index[test.labels[i]];
    r.unknown += !m.known;
    right += ok;
    (is_new ? new_right : trained_right) += ok;
    r.new_images += is_new;
  }
  r.test_images = test.count();
  r.all_accuracy = static_cast<double>(right) / static_cast<double>(std::max<std::size_t>(1, r.test_images));
  r.new_accuracy = static_cast<double>(new_right) / static_cast<double>(std::max<std::size_t>(1, r.new_images));
  r.trained_accuracy =
      static_cast<double>(trained_right) / static_cast<double>(std::max<std::size_t>(1, r.test_images - r.new_images));
  return r;
}

}  // namespace tinyedge::train
