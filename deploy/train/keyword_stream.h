// Keyword spotting as the node does it, over long streams instead of single clips: the node's own
// KeywordDetector and RuntimeEngine hear clips laid end to end with gaps between them, and every
// detection is matched against what was played. Two figures come out of it, the ones a wake-word
// product is judged by: the share of spoken keywords detected (with the right word) on a stream of
// keywords at known times, and false accepts per hour on a stream of everything else (unknown
// words, silence, background noise).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "node_firmware/app/keyword_detector.h"
#include "node_firmware/audio/audio_config.h"

namespace tinyedge::train {

struct StreamClip {
  std::vector<std::int16_t> samples;
  int label = -1;  // the model's class; -1 for audio that is no class (generated noise)
};

struct KeywordStreamOptions {
  app::DetectorConfig detector;  // ignored_labels is taken from the model (_silence_, _unknown_)
  std::uint32_t gap_ms = 1000;   // quiet between clips
  std::uint32_t late_ms = 750;   // a detection up to this long after a keyword's end still counts
};

struct KeywordStreamResult {
  double seconds = 0;             // audio played
  std::size_t spoken = 0;         // keyword clips played (classes not ignored)
  std::size_t detected = 0;       // ... detected as their own word in their window (once each)
  std::size_t wrong_word = 0;     // detections of another word inside a keyword's window
  std::size_t false_accepts = 0;  // detections outside every keyword's window (or repeats)
  std::uint32_t inferences = 0;
  std::vector<std::size_t> spoken_per_label, detected_per_label;  // by class index
};

// Plays `clips` in order with `gap_ms` of silence after each through the detector configured from
// `front_end`, with the model `tem` run by the node's engine; `labels` name its classes (the node
// never reports _silence_ or _unknown_). Throws std::runtime_error naming the problem (a model the
// detector refuses, a failed inference).
KeywordStreamResult run_keyword_stream(std::span<const std::uint8_t> tem, const audio::AudioFrontEndConfig& front_end,
                                       std::span<const std::string> labels, std::span<const StreamClip> clips,
                                       const KeywordStreamOptions& options);

}  // namespace tinyedge::train
