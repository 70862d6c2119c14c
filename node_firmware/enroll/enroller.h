// Few-shot enrollment on the node: a new class from N examples, no retraining. The prototype is
// the mean direction of the examples' embeddings; its threshold is the least similar example's
// cosine minus a margin. Classification is the nearest prototype (trained or enrolled) by cosine,
// "unknown" when it is below that class's threshold. Binding a new model (after an OTA update)
// recomputes every enrolled prototype from the examples kept in flash, in one table commit.
// A class shared from another node (accept_shared) comes without examples: it cannot be
// recomputed, so a new model drops it (counted in dropped_shared()); the operator shares it again
// from a node that learned it under the new model. Shipping the examples instead would cost each
// share up to 10 model inputs on the wire and in flash, and another node's microphone or camera.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "node_firmware/enroll/class_table.h"
#include "node_firmware/enroll/embedding_model.h"

namespace tinyedge::enroll {

struct EnrollConfig {
  uint8_t max_classes = 4;   // enrolled classes allowed (<= kMaxEnrolledClasses)
  uint8_t min_examples = 3;  // the N = 3..10
  uint8_t max_examples = 10;
  int16_t collision_q14 = 15565;        // 0.95: a prototype this close to another class is refused
  int16_t threshold_margin_q14 = 2458;  // 0.15 below the least similar example
  int16_t min_threshold_q14 = 4915;     // 0.30: never accept anything less similar
  uint8_t min_input_range = 8;          // int8 steps; an example spanning fewer is blank/silent
};

struct EnrollReport {
  uint8_t examples_used = 0;
  int16_t threshold_q14 = 0;
  int16_t nearest_q14 = 0;  // cosine to the nearest existing prototype (-16384 if none)
  int nearest_class = -1;   // its class index (see Match::index), -1 if none
};

struct Match {
  int index = -1;  // trained classes 0..T-1, then enrolled classes T..T+E-1; -1: nothing to match
  int32_t cosine_q14 = 0;
  bool known = false;  // cosine reached the class's threshold
};

class Enroller {
 public:
  Enroller(ClassTable& table, const EnrollConfig& config) : table_(table), config_(config) {}

  // Binds the model. If the table's prototypes were computed with another model (id or version),
  // recomputes them all from their stored examples and commits the result; classes the new model
  // cannot take (another input size, a wider embedding) are kept as stale. `recomputed` counts
  // the classes recomputed.
  [[nodiscard]] EnrollStatus attach(EmbeddingModel& model, size_t& recomputed);

  // Enrolls `label` from `examples`: whole model inputs back to back, in the model's input
  // quantisation. Refusals change nothing.
  [[nodiscard]] EnrollStatus enroll(std::string_view label, std::span<const int8_t> examples, EnrollReport& report);
  [[nodiscard]] EnrollStatus remove(std::string_view label);

  // Stores a class learned on another node: `prototype` is a Q14 unit vector of this model's
  // embedding, `sequence` the share's (already authenticated by the caller, who also checked the
  // embedding model's identity). Refused: a sequence not above the last accepted (kReplayed), another
  // width (kOtherEmbedding), a bad or taken label, a full table, a collision. Refusals change nothing.
  [[nodiscard]] EnrollStatus accept_shared(std::string_view label, std::span<const int16_t> prototype,
                                           int16_t threshold_q14, uint64_t sequence, EnrollReport& report);
  // Shared classes the last attach() dropped because the model changed, and their labels (kept in
  // RAM until forget_dropped(): the node reports them once its link is up).
  size_t dropped_shared() const { return dropped_shared_; }
  std::string_view dropped_label(size_t i) const;
  void forget_dropped() { dropped_shared_ = 0; }

  // Nearest prototype to a Q14 unit embedding; classify() runs the model on input() first.
  Match nearest(std::span<const int16_t> unit_q14) const;
  [[nodiscard]] EnrollStatus classify(Match& out);

  size_t class_count() const;  // trained + enrolled
  std::string_view label(size_t index) const;
  const TableImage& table() const { return table_.image(); }

 private:
  // Runs the model on input() after checking the example is not blank.
  EnrollStatus embed_example(std::span<int16_t> unit_q14);
  // Embeds `count` examples (given in `source` or, if empty, read from enrolled class `stored`)
  // and derives prototype and threshold into `out`.
  EnrollStatus derive(std::span<const int8_t> source, int stored, size_t count, EnrolledClass& out);
  bool label_taken(std::string_view label) const;
  // What every new class (enrolled or shared) must pass: a good, free label and room in the table.
  EnrollStatus check_new_class(std::string_view label) const;
  // The new class's entry in `next` (a copy of the table, bound to the model), labelled.
  EnrolledClass& new_class(TableImage& next, std::string_view label) const;
  // Refuses `added` if it is too close to an existing class (figures in `report`), otherwise
  // commits `next` with it appended (and its `examples`, if any).
  EnrollStatus commit_new_class(TableImage& next, EnrolledClass& added, EnrollReport& report,
                                std::span<const int8_t> examples);

  ClassTable& table_;
  EnrollConfig config_;
  EmbeddingModel* model_ = nullptr;
  size_t dropped_shared_ = 0;
  char dropped_[kMaxEnrolledClasses][kLabelBytes] = {};  // NUL-padded, as EnrolledClass::label
};

}  // namespace tinyedge::enroll
