#include "node_firmware/enroll/enroller.h"

#include <cstring>

namespace tinyedge::enroll {
namespace {

bool label_chars_ok(std::string_view label) {
  if (label.empty() || label.size() > kLabelBytes) return false;
  for (char c : label)
    if (c <= ' ' || c > '~') return false;
  return true;
}

int8_t requantize(int8_t q, const InputQuantization& from, const InputQuantization& to) {
  const float real = static_cast<float>(q - from.zero_point) * from.scale;
  const float scaled = real / to.scale;
  const int32_t rounded = static_cast<int32_t>(scaled >= 0 ? scaled + 0.5f : scaled - 0.5f) + to.zero_point;
  return static_cast<int8_t>(rounded < -128 ? -128 : (rounded > 127 ? 127 : rounded));
}

}  // namespace

size_t Enroller::class_count() const { return (model_ ? model_->head().class_count : 0) + table_.image().count; }

std::string_view Enroller::label(size_t index) const {
  const size_t trained = model_ ? model_->head().class_count : 0;
  if (index < trained) return model_->trained_label(index);
  if (index - trained < table_.image().count) return table_.image().classes[index - trained].name();
  return {};
}

std::string_view Enroller::dropped_label(size_t i) const {
  if (i >= dropped_shared_) return {};
  size_t n = 0;
  while (n < kLabelBytes && dropped_[i][n] != 0) ++n;
  return {dropped_[i], n};
}

bool Enroller::label_taken(std::string_view label) const {
  for (size_t i = 0; i < class_count(); ++i)
    if (this->label(i) == label) return true;
  return false;
}

EnrollStatus Enroller::embed_example(std::span<int16_t> unit_q14) {
  // A blank frame or a silent window has (almost) one value throughout: refuse it before it
  // becomes part of a prototype.
  const std::span<const int8_t> in = model_->input();
  int8_t lo = 127, hi = -128;
  for (int8_t v : in) {
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  if (in.empty() || hi - lo < config_.min_input_range) return EnrollStatus::kSilentExample;
  return model_->embed(unit_q14);
}

EnrollStatus Enroller::derive(std::span<const int8_t> source, int stored, size_t count, EnrolledClass& out) {
  const size_t dim = model_->head().dim;
  const size_t input_bytes = model_->input().size();
  const InputQuantization now = model_->input_quantization();
  int16_t embeddings[kMaxExamples * kMaxPrototypeDim];
  for (size_t e = 0; e < count; ++e) {
    const std::span<int8_t> input = model_->input();
    if (stored < 0) {
      std::memcpy(input.data(), source.data() + e * input_bytes, input_bytes);
    } else {
      const EnrolledClass& old = table_.image().classes[stored];
      if (const EnrollStatus s = table_.read_example(static_cast<size_t>(stored), e, input); s != EnrollStatus::kOk)
        return s;
      const InputQuantization then{old.input_scale, old.input_zero_point};
      if (then.scale != now.scale || then.zero_point != now.zero_point)
        for (int8_t& v : input) v = requantize(v, then, now);
    }
    if (const EnrollStatus s = embed_example(std::span(embeddings + e * dim, dim)); s != EnrollStatus::kOk) return s;
  }
  if (!mean_direction_q14(std::span<const int16_t>(embeddings, count * dim), count, std::span(out.prototype, dim)))
    return EnrollStatus::kSilentExample;
  int32_t least = kQ14One;
  for (size_t e = 0; e < count; ++e) {
    const int32_t c = cosine_q14(std::span<const int16_t>(embeddings + e * dim, dim), std::span(out.prototype, dim));
    least = c < least ? c : least;
  }
  const int32_t threshold = least - config_.threshold_margin_q14;
  out.threshold_q14 =
      static_cast<int16_t>(threshold > config_.min_threshold_q14 ? threshold : config_.min_threshold_q14);
  out.dim = static_cast<uint16_t>(dim);
  out.example_count = static_cast<uint8_t>(count);
  out.example_bytes = static_cast<uint32_t>(input_bytes);
  out.input_scale = now.scale;
  out.input_zero_point = now.zero_point;
  out.state = ClassState::kActive;
  return EnrollStatus::kOk;
}

EnrollStatus Enroller::attach(EmbeddingModel& model, size_t& recomputed) {
  recomputed = 0;
  dropped_shared_ = 0;
  const EmbeddingHead& head = model.head();
  if (head.dim == 0 || head.dim > kMaxEmbeddingDim || head.class_count == 0) return EnrollStatus::kBadHead;
  model_ = &model;
  const TableImage& now = table_.image();
  if (now.count == 0 || (now.model_id == model.model_id() && now.model_version == model.model_version()))
    return EnrollStatus::kOk;

  TableImage next = now;
  next.model_id = model.model_id();
  next.model_version = model.model_version();
  // Shared classes have no examples to recompute from: they go (see the header).
  int kept_from[kMaxEnrolledClasses] = {};  // next's class i is the current table's kept_from[i]
  next.count = 0;
  for (uint32_t i = 0; i < now.count; ++i) {
    if (now.classes[i].shared()) {
      std::memcpy(dropped_[dropped_shared_++], now.classes[i].label, kLabelBytes);
      continue;
    }
    kept_from[next.count] = static_cast<int>(i);
    next.classes[next.count++] = now.classes[i];
  }
  for (uint32_t i = next.count; i < now.count; ++i) next.classes[i] = EnrolledClass{};
  for (uint32_t i = 0; i < next.count; ++i) {
    EnrolledClass& c = next.classes[i];
    if (c.example_bytes != model.input().size() || head.dim > kMaxPrototypeDim) {
      c.state = ClassState::kStale;  // examples kept: a later model may take them again
      continue;
    }
    if (const EnrollStatus s = derive({}, kept_from[i], c.example_count, c); s != EnrollStatus::kOk) {
      if (s == EnrollStatus::kFlashError || s == EnrollStatus::kModelFailed) return s;
      c.state = ClassState::kStale;
      continue;
    }
    ++recomputed;
  }
  return table_.commit(next, -1, {});
}

EnrollStatus Enroller::enroll(std::string_view label, std::span<const int8_t> examples, EnrollReport& report) {
  report = EnrollReport{};
  if (!model_) return EnrollStatus::kBadHead;
  if (const EnrollStatus s = check_new_class(label); s != EnrollStatus::kOk) return s;
  const size_t input_bytes = model_->input().size();
  if (input_bytes == 0 || examples.size() % input_bytes != 0) return EnrollStatus::kBadExamples;
  const size_t count = examples.size() / input_bytes;
  if (count < config_.min_examples) return EnrollStatus::kTooFewExamples;
  if (count > config_.max_examples || count > kMaxExamples) return EnrollStatus::kTooManyExamples;
  if (model_->head().dim > kMaxPrototypeDim) return EnrollStatus::kBadHead;

  TableImage next = table_.image();
  EnrolledClass& added = new_class(next, label);
  if (const EnrollStatus s = derive(examples, -1, count, added); s != EnrollStatus::kOk) return s;
  report.examples_used = static_cast<uint8_t>(count);
  return commit_new_class(next, added, report, examples);
}

EnrollStatus Enroller::check_new_class(std::string_view label) const {
  if (!label_chars_ok(label)) return EnrollStatus::kBadLabel;
  if (label_taken(label)) return EnrollStatus::kDuplicateLabel;
  const TableImage& now = table_.image();
  if (now.count >= config_.max_classes || now.count >= kMaxEnrolledClasses) return EnrollStatus::kTableFull;
  return EnrollStatus::kOk;
}

EnrolledClass& Enroller::new_class(TableImage& next, std::string_view label) const {
  next.model_id = model_->model_id();
  next.model_version = model_->model_version();
  EnrolledClass& added = next.classes[next.count];
  added = EnrolledClass{};
  std::memcpy(added.label, label.data(), label.size());
  return added;
}

EnrollStatus Enroller::commit_new_class(TableImage& next, EnrolledClass& added, EnrollReport& report,
                                        std::span<const int8_t> examples) {
  const Match near = nearest(added.unit_prototype());
  report.threshold_q14 = added.threshold_q14;
  report.nearest_q14 = static_cast<int16_t>(near.index >= 0 ? near.cosine_q14 : -kQ14One);
  report.nearest_class = near.index;
  added.nearest_q14 = report.nearest_q14;
  if (near.index >= 0 && near.cosine_q14 >= config_.collision_q14) return EnrollStatus::kCollides;
  // A class with examples keeps them beside it in flash (to recompute it under a new model).
  const int with_examples = examples.empty() ? -1 : static_cast<int>(next.count);
  ++next.count;
  return table_.commit(next, with_examples, examples);
}

EnrollStatus Enroller::accept_shared(std::string_view label, std::span<const int16_t> prototype, int16_t threshold_q14,
                                     uint64_t sequence, EnrollReport& report) {
  report = EnrollReport{};
  if (!model_) return EnrollStatus::kBadHead;
  const TableImage& now = table_.image();
  if (sequence <= now.share_sequence) return EnrollStatus::kReplayed;
  if (prototype.size() != model_->head().dim || prototype.size() > kMaxPrototypeDim)
    return EnrollStatus::kOtherEmbedding;
  if (const EnrollStatus s = check_new_class(label); s != EnrollStatus::kOk) return s;

  TableImage next = now;
  next.share_sequence = sequence;
  EnrolledClass& added = new_class(next, label);
  std::memcpy(added.prototype, prototype.data(), prototype.size_bytes());
  added.dim = static_cast<uint16_t>(prototype.size());
  // Never below the node's own floor: a share cannot make a class accept anything.
  added.threshold_q14 = threshold_q14 > config_.min_threshold_q14 ? threshold_q14 : config_.min_threshold_q14;
  added.state = ClassState::kActive;
  return commit_new_class(next, added, report, {});
}

EnrollStatus Enroller::remove(std::string_view label) {
  const TableImage& now = table_.image();
  for (uint32_t i = 0; i < now.count; ++i) {
    if (now.classes[i].name() != label) continue;
    TableImage next = now;
    for (uint32_t j = i; j + 1 < now.count; ++j) next.classes[j] = now.classes[j + 1];
    next.classes[now.count - 1] = EnrolledClass{};
    next.count = now.count - 1;
    return table_.commit(next, -1, {});
  }
  return EnrollStatus::kUnknownLabel;
}

Match Enroller::nearest(std::span<const int16_t> unit_q14) const {
  Match best;
  if (!model_) return best;
  const EmbeddingHead& head = model_->head();
  auto consider = [&](int index, std::span<const int16_t> prototype, int16_t threshold) {
    const int32_t c = cosine_q14(unit_q14, prototype);
    if (best.index < 0 || c > best.cosine_q14) {
      best.index = index;
      best.cosine_q14 = c;
      best.known = c >= threshold;
    }
  };
  for (uint16_t i = 0; i < head.class_count; ++i) consider(i, head.prototype(i), head.thresholds[i]);
  const TableImage& table = table_.image();
  for (uint32_t i = 0; i < table.count; ++i)
    if (table.classes[i].state == ClassState::kActive && table.classes[i].dim == head.dim)
      consider(static_cast<int>(head.class_count + i), table.classes[i].unit_prototype(),
               table.classes[i].threshold_q14);
  return best;
}

EnrollStatus Enroller::classify(Match& out) {
  if (!model_) return EnrollStatus::kBadHead;
  int16_t embedding[kMaxEmbeddingDim];
  const std::span<int16_t> unit(embedding, model_->head().dim);
  if (const EnrollStatus s = model_->embed(unit); s != EnrollStatus::kOk) return s;
  out = nearest(unit);
  return EnrollStatus::kOk;
}

}  // namespace tinyedge::enroll
