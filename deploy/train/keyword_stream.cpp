#include "deploy/train/keyword_stream.h"

#include <cstring>
#include <stdexcept>

#include "node_firmware/app/runtime_engine.h"
#include "node_firmware/app/speech_model.h"
#include "node_firmware/runtime/model.h"

namespace tinyedge::train {
namespace {

// Where each clip sits in the stream, in audio milliseconds.
struct Placed {
  std::uint64_t begin_ms = 0, end_ms = 0;
  int label = -1;
  bool keyword = false;
  bool hit = false;
};

}  // namespace

KeywordStreamResult run_keyword_stream(std::span<const std::uint8_t> tem, const audio::AudioFrontEndConfig& front_end,
                                       std::span<const std::string> labels, std::span<const StreamClip> clips,
                                       const KeywordStreamOptions& options) {
  // The node executes its model in place from 4-aligned flash; copy into aligned storage likewise.
  std::vector<std::uint32_t> blob((tem.size() + 3) / 4);
  std::memcpy(blob.data(), tem.data(), tem.size());
  const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(blob.data()), tem.size());
  runtime::Model model;
  if (const auto s = runtime::Model::load(bytes, model); s != runtime::Status::kOk)
    throw std::runtime_error(std::string("model refused: ") + runtime::to_string(s));
  const std::size_t classes = model.output_info().element_count;

  std::vector<std::uint64_t> arena_words((model.arena_bytes() + 7) / 8 + 1);
  app::RuntimeEngine engine({reinterpret_cast<std::uint8_t*>(arena_words.data()), arena_words.size() * 8});
  if (const auto s = engine.load(bytes); s != runtime::Status::kOk)
    throw std::runtime_error(std::string("model refused by the node's engine: ") + runtime::to_string(s));

  if (labels.size() != classes)
    throw std::runtime_error(std::to_string(labels.size()) + " labels for a model with " + std::to_string(classes) +
                             " outputs");
  app::DetectorConfig config = options.detector;
  config.ignored_labels = 0;
  for (std::size_t i = 0; i < classes && i < app::kMaxDetectorClasses; ++i)
    if (app::is_background_label(labels[i])) config.ignored_labels |= 1u << i;
  const std::size_t input = model.input_info().element_count;
  std::vector<std::uint64_t> workspace((app::KeywordDetector::workspace_bytes(front_end, input, classes) + 7) / 8);
  app::KeywordDetector detector;
  if (const auto s = detector.configure(front_end, config, engine,
                                        {reinterpret_cast<std::uint8_t*>(workspace.data()), workspace.size() * 8});
      s != app::DetectorStatus::kOk)
    throw std::runtime_error(std::string("the node's detector refuses this model: ") + app::to_string(s));

  KeywordStreamResult r;
  r.spoken_per_label.assign(classes, 0);
  r.detected_per_label.assign(classes, 0);
  std::vector<Placed> placed;
  const std::uint64_t rate = front_end.sample_rate_hz;
  std::uint64_t at = 0;  // samples
  for (const StreamClip& c : clips) {
    Placed p;
    p.begin_ms = at * 1000 / rate;
    at += c.samples.size();
    p.end_ms = at * 1000 / rate;
    p.label = c.label;
    p.keyword = c.label >= 0 && static_cast<std::size_t>(c.label) < classes && !(config.ignored_labels >> c.label & 1u);
    if (p.keyword) {
      ++r.spoken;
      ++r.spoken_per_label[static_cast<std::size_t>(c.label)];
    }
    placed.push_back(p);
    at += rate * options.gap_ms / 1000;
  }

  // The first keyword window that holds `ms` (windows do not overlap when gaps exceed late_ms).
  auto window_of = [&](std::uint64_t ms) -> Placed* {
    for (Placed& p : placed)
      if (p.keyword && ms >= p.begin_ms && ms <= p.end_ms + options.late_ms) return &p;
    return nullptr;
  };
  auto feed = [&](std::span<const std::int16_t> samples) {
    while (!samples.empty()) {
      std::size_t used = 0;
      app::Detection d;
      bool detected = false;
      if (const auto s = detector.push(samples, used, d, detected); s != app::DetectorStatus::kOk)
        throw std::runtime_error(std::string("detector failed: ") + app::to_string(s));
      samples = samples.subspan(used);
      if (!detected) continue;
      Placed* w = window_of(d.at_ms);
      if (w == nullptr) {
        ++r.false_accepts;
      } else if (d.label != w->label) {
        ++r.wrong_word;
      } else if (w->hit) {
        ++r.false_accepts;  // the same word reported twice
      } else {
        w->hit = true;
        ++r.detected;
        ++r.detected_per_label[d.label];
      }
    }
  };
  const std::vector<std::int16_t> gap(rate * options.gap_ms / 1000, 0);
  for (const StreamClip& c : clips) {
    feed(c.samples);
    feed(gap);
  }
  r.seconds = static_cast<double>(at) / static_cast<double>(rate);
  r.inferences = detector.inferences();
  return r;
}

}  // namespace tinyedge::train
