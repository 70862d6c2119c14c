// Words for enrollment: the embedding head of a keyword embedding (`train audio --embedding`) and
// the few-shot measurement of `model eval --enroll K` on a speech folder. Torch-free: the head is
// computed from the int8 model with the node's arithmetic, and enrollment runs the node's own
// code (app::RecordingExamples picks the loudest windows of an enrollment recording, the Enroller
// derives the prototype and threshold, a flash table in RAM stores them).
#pragma once
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "deploy/train/metrics.h"
#include "deploy/train/speech_features.h"
#include "deploy/train/speech_folder.h"

namespace tinyedge::train {

// The "EHD1" head for an int8 embedding model (a .tem whose output is the embedding): each class's
// prototype is the mean direction of up to `per_class` of its clips' embeddings, its threshold the
// `quantile` of those clips' cosines to it.
std::vector<std::uint8_t> word_embedding_head(std::span<const std::uint8_t> tem, const SpeechFeatures& features,
                                              std::span<const int> labels, int classes, int per_class, double quantile);

// Nearest prototype (cosine, thresholds ignored) of each clip, against its label.
ConfusionMatrix nearest_prototype_confusion(std::span<const std::uint8_t> tem, const SpeechFeatures& features,
                                            std::span<const SpeechClipRef> clips, int classes);

struct WordFewShotEval {
  int shots = 0;
  std::vector<std::string> new_words;                // enrolled
  std::size_t new_clips = 0, new_right = 0;          // clips of enrolled words (not used to enroll)
  std::size_t trained_clips = 0, trained_right = 0;  // clips of the model's own words
  std::size_t unknown_clips = 0, false_accepts = 0;  // other speech and silence; accepted as any word
  std::size_t new_unknown = 0;                       // enrolled words' clips found near no class
  double new_accuracy() const {
    return new_clips ? static_cast<double>(new_right) / static_cast<double>(new_clips) : 0;
  }
  double trained_accuracy() const {
    return trained_clips ? static_cast<double>(trained_right) / static_cast<double>(trained_clips) : 0;
  }
  double false_accept_rate() const {
    return unknown_clips ? static_cast<double>(false_accepts) / static_cast<double>(unknown_clips) : 0;
  }
  // Over the enrolled words (one-vs-rest, averaged): the measure of Mazumder et al. 2021.
  double macro_f1 = 0;
};

// `data`: DIR/<label>/*.wav. Every label folder that is not one of the model's words nor
// _unknown_/_silence_ is a new word: `shots` of its clips (seeded pick) are laid end to end with
// 0.5 s of silence between as its enrollment recording, enrolled through the node's code; its other
// clips, the model's own words' clips and _unknown_/_silence_ clips are then classified by the
// node's nearest prototype with thresholds. Throws naming the problem (no new word, too few clips,
// a refused enrollment with its reason).
WordFewShotEval evaluate_word_enrollment(std::span<const std::uint8_t> tem, const std::filesystem::path& data,
                                         int shots, std::uint64_t seed, int threads);

}  // namespace tinyedge::train
