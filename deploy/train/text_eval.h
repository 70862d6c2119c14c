// Texts through a text model exactly as a node runs them: the model's own front-end record
// (node_firmware/text) hashes each text's n-grams, the counts are quantised with the model's input
// scale and zero point, and the runtime classifies them. The trainer, `model eval` and the tests
// all go through here.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

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

}  // namespace tinyedge::train
