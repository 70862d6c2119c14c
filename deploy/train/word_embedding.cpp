#include "deploy/train/word_embedding.h"

#include <algorithm>
#include <map>
#include <random>
#include <stdexcept>

#include "deploy/train/node_enrollment.h"
#include "deploy/train/runtime_eval.h"
#include "node_firmware/app/flash.h"
#include "node_firmware/app/recording_examples.h"
#include "node_firmware/audio/front_end_record.h"
#include "node_firmware/enroll/enroller.h"
#include "node_firmware/enroll/runtime_embedding_model.h"

namespace tinyedge::train {
namespace {

bool is_background(const std::string& label) { return label == "_unknown_" || label == "_silence_"; }

// The enrollment recordings by label, as the host node's files would be.
class Recordings final : public app::EnrollmentRecordings {
 public:
  std::span<const std::int16_t> recording(std::string_view label) override {
    const auto it = by_label.find(std::string(label));
    return it == by_label.end() ? std::span<const std::int16_t>{} : std::span<const std::int16_t>(it->second);
  }
  std::map<std::string, std::vector<std::int16_t>> by_label;
};

}  // namespace

std::vector<std::uint8_t> word_embedding_head(std::span<const std::uint8_t> tem, const SpeechFeatures& features,
                                              std::span<const int> labels, int classes, int per_class,
                                              double quantile) {
  TemRunner runner(tem);
  const auto dim = static_cast<std::uint16_t>(runner.model().output_info().element_count);
  if (dim == 0 || dim > enroll::kMaxPrototypeDim)
    throw std::runtime_error("embedding of " + std::to_string(dim) + " values: the node's prototypes hold at most " +
                             std::to_string(enroll::kMaxPrototypeDim));
  std::vector<std::int16_t> prototypes(static_cast<std::size_t>(classes) * dim),
      thresholds(static_cast<std::size_t>(classes));
  for (int c = 0; c < classes; ++c) {
    std::vector<std::int16_t> units;
    std::size_t taken = 0;
    for (std::size_t i = 0; i < labels.size() && taken < static_cast<std::size_t>(per_class); ++i) {
      if (labels[i] != c) continue;
      const auto u = unit_embedding(runner, features.clip(i));
      units.insert(units.end(), u.begin(), u.end());
      ++taken;
    }
    if (taken == 0) throw std::runtime_error("no training clips of class " + std::to_string(c));
    const std::span<std::int16_t> proto(prototypes.data() + static_cast<std::size_t>(c) * dim, dim);
    if (!enroll::mean_direction_q14(units, taken, proto))
      throw std::runtime_error("class " + std::to_string(c) + ": embeddings cancel out, no prototype");
    std::vector<std::int32_t> cosines;
    for (std::size_t e = 0; e < taken; ++e)
      cosines.push_back(enroll::cosine_q14(std::span<const std::int16_t>(units.data() + e * dim, dim), proto));
    std::sort(cosines.begin(), cosines.end());
    thresholds[static_cast<std::size_t>(c)] =
        static_cast<std::int16_t>(cosines[static_cast<std::size_t>(quantile * static_cast<double>(taken))]);
  }
  std::vector<std::uint8_t> head(enroll::embedding_head_bytes(dim, static_cast<std::uint16_t>(classes)));
  if (!enroll::encode_embedding_head(dim, thresholds, prototypes, head))
    throw std::runtime_error("embedding head does not encode");
  return head;
}

ConfusionMatrix nearest_prototype_confusion(std::span<const std::uint8_t> tem, const SpeechFeatures& features,
                                            std::span<const SpeechClipRef> clips, int classes) {
  TemRunner runner(tem);
  enroll::EmbeddingHead head;
  if (enroll::decode_embedding_head(enroll::find_embedding_head(runner.model().front_end()), head) !=
      enroll::EnrollStatus::kOk)
    throw std::runtime_error("model carries no embedding head");
  ConfusionMatrix m(classes);
  for (std::size_t i = 0; i < clips.size(); ++i) {
    const auto u = unit_embedding(runner, features.clip(i));
    int best = 0;
    std::int32_t best_cos = 0;
    for (int c = 0; c < head.class_count; ++c) {
      const std::int32_t cos = enroll::cosine_q14(u, head.prototype(static_cast<std::size_t>(c)));
      if (c == 0 || cos > best_cos) {
        best = c;
        best_cos = cos;
      }
    }
    m.add(clips[i].label, best);
  }
  return m;
}

WordFewShotEval evaluate_word_enrollment(std::span<const std::uint8_t> tem, const std::filesystem::path& data,
                                         int shots, std::uint64_t seed, int threads) {
  (void)threads;
  runtime::Model model;
  if (const auto s = runtime::Model::load(tem, model); s != runtime::Status::kOk)
    throw std::runtime_error(std::string("model does not load: ") + runtime::to_string(s));
  const auto region = model.front_end();
  audio::AudioFrontEndConfig front_end;
  if (region.size() < audio::kFrontEndRecordBytes ||
      audio::decode_front_end(region.first(audio::kFrontEndRecordBytes), front_end) != audio::AudioStatus::kOk ||
      enroll::find_embedding_head(region).empty())
    throw std::runtime_error(
        "not a word embedding: the model needs an audio record followed by an embedding head "
        "(`tinyedge train audio --embedding`)");
  std::vector<std::uint32_t> arena((model.arena_bytes() + 3) / 4);
  enroll::RuntimeEmbeddingModel embedding;
  if (const auto s = embedding.bind(model, std::span(reinterpret_cast<std::uint8_t*>(arena.data()), arena.size() * 4));
      s != enroll::EnrollStatus::kOk)
    throw std::runtime_error(std::string("not an embedding model: ") + enroll::to_string(s));

  const SpeechFolder folder = scan_speech_folder(data, {});
  // What each folder is: one of the model's words, background, or a new word to enroll.
  std::vector<int> trained_index(folder.labels.size(), -1);
  std::vector<bool> background(folder.labels.size(), false), is_new(folder.labels.size(), false);
  WordFewShotEval r;
  r.shots = shots;
  for (std::size_t f = 0; f < folder.labels.size(); ++f) {
    background[f] = is_background(folder.labels[f]);
    for (std::size_t t = 0; t < embedding.head().class_count; ++t)
      if (embedding.trained_label(t) == folder.labels[f] && !background[f]) trained_index[f] = static_cast<int>(t);
    is_new[f] = !background[f] && trained_index[f] < 0;
    if (is_new[f]) r.new_words.push_back(folder.labels[f]);
  }
  if (r.new_words.empty())
    throw std::runtime_error(data.string() + ": every word folder is one of the model's words; nothing to enroll");
  if (r.new_words.size() > enroll::kMaxEnrolledClasses)
    throw std::runtime_error(data.string() + ": " + std::to_string(r.new_words.size()) +
                             " new words; the node's table holds " + std::to_string(enroll::kMaxEnrolledClasses));

  // The node's table on a flash in RAM.
  const std::size_t input_bytes = model.input_info().element_count;
  RamClassTable node_table(embedding, r.new_words.size(), enroll::kMaxExamples, input_bytes);
  enroll::Enroller& enroller = node_table.enroller();

  // Each new word: `shots` clips (seeded pick) as one recording, 0.5 s of silence between, through
  // the node's recording path (loudest windows, the model's front-end) into the Enroller.
  Recordings recordings;
  std::vector<std::uint64_t> front_end_ram(audio::workspace_bytes(front_end) / 8 + 1);
  app::RecordingExamples examples(
      recordings, std::span(reinterpret_cast<std::uint8_t*>(front_end_ram.data()), front_end_ram.size() * 8));
  examples.set_front_end(front_end);
  std::mt19937_64 rng(seed);
  std::vector<bool> enrolled_clip(folder.clips.size(), false);
  std::vector<int> node_index(folder.labels.size(), -1);
  for (std::size_t f = 0; f < folder.labels.size(); ++f) node_index[f] = trained_index[f];
  std::vector<std::int8_t> buffer(static_cast<std::size_t>(shots) * input_bytes);
  for (std::size_t f = 0; f < folder.labels.size(); ++f) {
    if (!is_new[f]) continue;
    std::vector<std::size_t> of_word;
    for (std::size_t i = 0; i < folder.clips.size(); ++i)
      if (folder.clips[i].label == static_cast<int>(f)) of_word.push_back(i);
    std::shuffle(of_word.begin(), of_word.end(), rng);
    if (of_word.size() <= static_cast<std::size_t>(shots))
      throw std::runtime_error(folder.labels[f] + ": " + std::to_string(of_word.size()) + " clips; enrolling " +
                               std::to_string(shots) + " leaves none to test");
    std::vector<std::int16_t>& recording = recordings.by_label[folder.labels[f]];
    const std::vector<std::int16_t> gap(front_end.sample_rate_hz / 2, 0);
    for (int e = 0; e < shots; ++e) {
      const auto clip = read_clip(folder.clips[of_word[static_cast<std::size_t>(e)]].path, front_end);
      recording.insert(recording.end(), gap.begin(), gap.end());
      recording.insert(recording.end(), clip.begin(), clip.end());
      enrolled_clip[of_word[static_cast<std::size_t>(e)]] = true;
    }
    recording.insert(recording.end(), gap.begin(), gap.end());
    enroll::EnrollStatus s = enroll::EnrollStatus::kOk;
    for (int e = 0; e < shots && s == enroll::EnrollStatus::kOk; ++e)
      s = examples.capture(folder.labels[f], static_cast<std::uint32_t>(e),
                           std::span(buffer).subspan(static_cast<std::size_t>(e) * input_bytes, input_bytes));
    enroll::EnrollReport report;
    if (s == enroll::EnrollStatus::kOk) s = enroller.enroll(folder.labels[f], buffer, report);
    if (s != enroll::EnrollStatus::kOk)
      throw std::runtime_error(
          "enrolling " + folder.labels[f] + " refused: " + enroll::to_string(s) +
          (report.nearest_class >= 0
               ? " (nearest: " + std::string(enroller.label(static_cast<std::size_t>(report.nearest_class))) +
                     ", cosine " + std::to_string(report.nearest_q14 / 16384.0) + ")"
               : std::string()));
    node_index[f] = static_cast<int>(enroller.class_count() - 1);
  }

  // Every clip not used to enroll, classified as the node would (nearest prototype, thresholds).
  std::vector<std::size_t> tp(folder.labels.size(), 0), fp(folder.labels.size(), 0), fn(folder.labels.size(), 0);
  for (std::size_t i = 0; i < folder.clips.size(); ++i) {
    if (enrolled_clip[i]) continue;
    const auto f = static_cast<std::size_t>(folder.clips[i].label);
    const auto x = clip_features(front_end, read_clip(folder.clips[i].path, front_end));
    if (x.size() != input_bytes)
      throw std::runtime_error("the model's input is " + std::to_string(input_bytes) +
                               " values, a 1 s clip's features " + std::to_string(x.size()) + ": not a keyword model");
    std::copy(x.begin(), x.end(), embedding.input().begin());
    enroll::Match m;
    if (const auto s = enroller.classify(m);
        s != enroll::EnrollStatus::kOk && s != enroll::EnrollStatus::kSilentExample)
      throw std::runtime_error(std::string("classify: ") + enroll::to_string(s));
    // A trained _unknown_/_silence_ prototype is no word: matching it is "unknown".
    const bool accepted = m.known && m.index >= 0 &&
                          !(static_cast<std::size_t>(m.index) < embedding.head().class_count &&
                            is_background(std::string(embedding.trained_label(static_cast<std::size_t>(m.index)))));
    const bool right = accepted && m.index == node_index[f];
    if (background[f]) {
      ++r.unknown_clips;
      r.false_accepts += accepted;
    } else if (is_new[f]) {
      ++r.new_clips;
      r.new_right += right;
      r.new_unknown += !accepted;
    } else {
      ++r.trained_clips;
      r.trained_right += right;
    }
    // One-vs-rest counts for the enrolled words' F1.
    if (is_new[f]) (right ? tp[f] : fn[f]) += 1;
    if (accepted && !right)
      for (std::size_t g = 0; g < folder.labels.size(); ++g)
        if (is_new[g] && node_index[g] == m.index) ++fp[g];
  }
  double f1_sum = 0;
  for (std::size_t f = 0; f < folder.labels.size(); ++f) {
    if (!is_new[f]) continue;
    const double denom = 2.0 * static_cast<double>(tp[f]) + static_cast<double>(fp[f] + fn[f]);
    f1_sum += denom > 0 ? 2.0 * static_cast<double>(tp[f]) / denom : 0.0;
  }
  r.macro_f1 = f1_sum / static_cast<double>(r.new_words.size());
  return r;
}

}  // namespace tinyedge::train
