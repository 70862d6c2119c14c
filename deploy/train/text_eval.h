// Texts through a text model exactly as a node runs them: the model's own front-end record
// (node_firmware/text) hashes each text's n-grams, the counts are quantised with the model's input
// scale and zero point, and the runtime classifies them. The trainer, `model eval` and the tests
// all go through here.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "deploy/model/compile.h"
#include "deploy/train/metrics.h"
#include "deploy/train/text_corpus.h"
#include "node_firmware/runtime/model.h"
#include "node_firmware/text/text_front_end.h"

namespace tinyedge::train {

// The model's text front-end; throws std::runtime_error when it has none or one this build cannot
// run, and when its bucket count is not the model's input size.
text::TextFrontEndConfig text_front_end_of(const runtime::Model& model);

// One text's n-gram counts (throws on bytes that are not UTF-8, naming `where`).
std::vector<std::uint16_t> text_counts(const text::TextFrontEndConfig& config, std::string_view text,
                                       const std::string& where);
// ... quantised as the model's input.
std::vector<std::int8_t> text_input(const text::TextFrontEndConfig& config, const runtime::TensorInfo& input,
                                    std::string_view text, const std::string& where);

// The int8 confusion matrix over the corpus's `test_split` texts (all when `all`); the corpus's
// labels must be the model's, in its order.
ConfusionMatrix evaluate_text(std::span<const std::uint8_t> blob, const TextCorpus& corpus, bool all, bool test_split,
                              int threads);

// A node's RAM for text is the arena plus the front-end's counts (2 bytes a bucket); flash the .tem.
struct TextBudget {
  std::uint32_t ram_bytes = 64 * 1024;
  std::uint32_t flash_bytes = 256 * 1024;
};

struct TextNetChoice {
  std::uint32_t buckets = 0;
  int hidden = 0;
  std::uint32_t arena_bytes = 0;
  std::size_t tem_bytes = 0, parameters = 0;
  std::uint32_t count_bytes() const { return 2 * buckets; }
  std::uint32_t ram_bytes() const { return arena_bytes + count_bytes(); }
};

// The model metadata with the text front-end record and a default input description.
model::ModelMetadata text_meta(model::ModelMetadata meta, const text::TextFrontEndConfig& front_end);

// Compiles the n-gram MLP of this size (seeded weights, the front-end record, the labels) and measures it.
TextNetChoice measure_text_net(const text::TextFrontEndConfig& front_end, int hidden,
                               const std::vector<std::string>& labels);

// The candidate with the most parameters whose arena + counts fit ram_bytes and whose .tem fits
// flash_bytes: buckets 256..4096 (powers of two) unless `buckets` is given, hidden 8..64 unless
// `hidden` is (>= 0). Ties go to fewer buckets. Throws when none fits, saying the smallest's needs.
TextNetChoice pick_text_net(const text::TextFrontEndConfig& front_end, std::optional<std::uint32_t> buckets,
                            std::optional<int> hidden, const TextBudget& budget,
                            const std::vector<std::string>& labels);

}  // namespace tinyedge::train
