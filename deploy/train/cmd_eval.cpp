// tinyedge model eval: runs an int8 .tem in the project's runtime over a test set (Fashion-MNIST
// -> accuracy + confusion matrix; vibration CSV -> ROC AUC of the reconstruction error) and plots it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>

#include "deploy/command_registry.h"
#include "deploy/train/embedding_pipeline.h"
#include "deploy/train/image_folder.h"
#include "deploy/train/keyword_stream.h"
#include "deploy/train/motion_windows.h"
#include "deploy/train/runtime_eval.h"
#include "deploy/train/svg_plot.h"
#include "deploy/train/text_eval.h"
#include "deploy/train/train_report.h"
#include "deploy/train/word_embedding.h"
#include "node_firmware/app/speech_model.h"
#include "node_firmware/audio/front_end_record.h"
#include "node_firmware/enroll/embedding_head.h"
#include "node_firmware/text/text_record.h"

namespace tinyedge::deploy {
namespace {

namespace tr = tinyedge::train;

struct EvalArgs {
  std::string model, data = "fashion-mnist", plot;
  int threads = 2;
  std::size_t limit = 0;
  // WAV folders only.
  std::string front_end, split = "test";
  std::vector<std::string> labels;
  float feature_scale = 0;
  int test_percent = 20;
  // --stream: the clips laid end to end through the node's detector.
  bool stream = false;
  tr::KeywordStreamOptions stream_options;
  int threshold = 180;
  // Embedding models: few-shot enrollment of the classes the model was not trained on.
  int enroll = 0;
  std::uint64_t enroll_seed = 1;
  int motion_stride = 0;  // sensor logs
};

// Single-threaded median time of one inference, over up to `runs` inputs.
template <typename InputFn>
double micros_per_inference(std::span<const std::uint8_t> blob, std::size_t runs, InputFn input) {
  tr::TemRunner runner(blob);
  std::vector<double> us;
  for (std::size_t i = 0; i < runs; ++i) {
    const auto x = input(i);
    const auto t0 = std::chrono::steady_clock::now();
    runner.run(x);
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(us.begin(), us.end());
  return us.empty() ? 0 : us[us.size() / 2];
}

std::vector<std::string> model_labels(const tr::TemRunner& runner) {
  std::vector<std::string> labels;
  for (std::size_t i = 0; i < runner.model().label_count(); ++i) labels.emplace_back(runner.model().label(i));
  return labels;
}

void print_confusion(const tr::ConfusionMatrix& cm, const std::vector<std::string>& labels) {
  std::printf("confusion matrix (rows: true class, columns: predicted)\n%14s", "");
  for (int p = 0; p < cm.classes; ++p) std::printf("%6d", p);
  std::printf("   recall\n");
  for (int t = 0; t < cm.classes; ++t) {
    std::string name = static_cast<std::size_t>(t) < labels.size() ? labels[static_cast<std::size_t>(t)] : "";
    if (name.empty()) name = "class " + std::to_string(t);
    std::printf("%2d %-11.11s", t, name.c_str());
    std::int64_t row = 0;
    for (int p = 0; p < cm.classes; ++p) {
      std::printf("%6lld", static_cast<long long>(cm.at(t, p)));
      row += cm.at(t, p);
    }
    std::printf("  %6.2f%%\n", row ? 100.0 * static_cast<double>(cm.at(t, t)) / static_cast<double>(row) : 0.0);
  }
}

void write_text(const std::string& path, const std::string& text) {
  tr::write_bytes(path, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  std::printf("wrote %s\n", path.c_str());
}

void eval_classifier(const EvalArgs& a, std::span<const std::uint8_t> blob) {
  auto test = tr::load_fashion_mnist(tr::resolve_fashion_mnist(a.data), false);
  if (a.limit) test = test.head(a.limit);
  const auto e = tr::evaluate_classifier(blob, test, a.threads);
  tr::TemRunner runner(blob);
  const auto info = runner.model().input_info();
  const double us = micros_per_inference(blob, std::min<std::size_t>(test.count(), 500),
                                         [&](std::size_t i) { return tr::quantize_image(info, test.image(i)); });
  std::printf("model: %s (id %u, version %u), .tem %zu bytes, arena %u bytes, weights %u bytes\n",
              std::string(runner.model().name()).c_str(), runner.model().model_id(), runner.model().version(),
              blob.size(), runner.model().arena_bytes(), runner.model().weights_bytes());
  std::printf("int8 accuracy (project runtime) on %zu test images: %.2f%%\n", test.count(),
              100 * e.confusion.accuracy());
  if (const auto report = tr::read_report(a.model); report && report->kind == "image")
    std::printf("float accuracy (from %s): %.2f%%, float-to-int8 drop %.2f points\n", tr::report_path(a.model).c_str(),
                100 * report->float_metric, 100 * (report->float_metric - e.confusion.accuracy()));
  else
    std::printf("float accuracy unknown: no %s beside the model\n", tr::report_path(a.model).c_str());
  std::printf("runtime: %.1f us/inference (median, 1 thread)\n", us);
  print_confusion(e.confusion, model_labels(runner));
  if (!a.plot.empty()) {
    write_text(a.plot, tr::confusion_matrix_svg(e.confusion, model_labels(runner),
                                                std::string(runner.model().name()) + " int8, " +
                                                    std::to_string(test.count()) + " test images"));
  }
}

// The front-end the clips go through: the model's own record, or (for a model that carries none,
// e.g. an imported .tflite) a preset with the model's input quantisation as its output.
audio::AudioFrontEndConfig keyword_front_end(const EvalArgs& a, const tr::TemRunner& runner, std::string& source) {
  const auto record = runner.model().front_end();
  audio::AudioFrontEndConfig config;
  if (!record.empty()) {
    if (!a.front_end.empty())
      throw std::runtime_error(a.model + " carries its own front-end record; --front-end is for models without one");
    if (const auto s = audio::decode_front_end(record, config); s != audio::AudioStatus::kOk)
      throw std::runtime_error(a.model + ": front-end record refused: " + audio::to_string(s));
    source = "the model's front-end record";
  } else {
    if (a.front_end.empty())
      throw std::runtime_error(a.model +
                               " carries no front-end record: give --front-end PRESET to evaluate it on WAV files");
    config = tr::front_end_preset(a.front_end).config;
    const auto in = runner.model().input_info();
    config.output_scale = a.feature_scale > 0 ? a.feature_scale : in.scale;
    config.output_zero_point = static_cast<std::int8_t>(std::clamp<std::int32_t>(in.zero_point, -128, 127));
    if (const auto s = config.validate(); s != audio::AudioStatus::kOk)
      throw std::runtime_error("--front-end " + a.front_end +
                               " with this model's input quantisation: " + audio::to_string(s));
    source =
        "preset " + a.front_end + " (not the model's own: this project's fixed-point front-end, not TFLite Micro's)";
  }
  return config;
}

// The held-out clips as two long streams through the node's own detector: the keywords at known
// times (detection rate), then everything else (false accepts per hour).
void eval_keyword_stream(const EvalArgs& a, std::span<const std::uint8_t> blob,
                         const audio::AudioFrontEndConfig& config, const std::vector<std::string>& labels,
                         const std::vector<tr::SpeechClipRef>& clips) {
  auto options = a.stream_options;
  options.detector.threshold = static_cast<std::uint8_t>(a.threshold);
  auto ignored = [&](int label) {
    return labels[static_cast<std::size_t>(label)] == "_silence_" ||
           labels[static_cast<std::size_t>(label)] == "_unknown_";
  };
  std::vector<tr::StreamClip> keywords, others;
  for (const auto& c : clips)
    (ignored(c.label) ? others : keywords).push_back({tr::read_clip(c.path, config), c.label});
  // Folder order groups clips by word; a fixed shuffle mixes them as speech would.
  std::mt19937 rng(1);
  std::shuffle(keywords.begin(), keywords.end(), rng);
  std::shuffle(others.begin(), others.end(), rng);
  const auto& d = options.detector;
  std::printf(
      "detector: threshold %u/255, smoothing %u ms, refractory %u ms, inference every %u strides; %u ms "
      "between clips, a detection counts up to %u ms after its word\n",
      d.threshold, d.smoothing_ms, d.refractory_ms, d.infer_every_strides, options.gap_ms, options.late_ms);
  if (!keywords.empty()) {
    const auto r = tr::run_keyword_stream(blob, config, labels, keywords, options);
    std::printf(
        "keyword stream: %zu words over %.1f min: detected %zu (%.1f%%), wrong word %zu, other detections %zu\n",
        r.spoken, r.seconds / 60, r.detected,
        100.0 * static_cast<double>(r.detected) / static_cast<double>(std::max<std::size_t>(r.spoken, 1)), r.wrong_word,
        r.false_accepts);
    for (std::size_t l = 0; l < labels.size(); ++l)
      if (r.spoken_per_label[l] > 0)
        std::printf("  %-12s %4zu/%-4zu %.1f%%\n", labels[l].c_str(), r.detected_per_label[l], r.spoken_per_label[l],
                    100.0 * static_cast<double>(r.detected_per_label[l]) / static_cast<double>(r.spoken_per_label[l]));
  }
  if (!others.empty()) {
    const auto r = tr::run_keyword_stream(blob, config, labels, others, options);
    std::printf("unknown/silence stream: %zu clips over %.1f min: %zu false accepts = %.1f per hour\n", others.size(),
                r.seconds / 60, r.false_accepts + r.wrong_word,
                3600.0 * static_cast<double>(r.false_accepts + r.wrong_word) / r.seconds);
  } else {
    std::printf("no _unknown_ or _silence_ clips: false accepts not measured\n");
  }
}

void eval_keywords(const EvalArgs& a, std::span<const std::uint8_t> blob) {
  tr::TemRunner runner(blob);
  std::string source;
  const auto config = keyword_front_end(a, runner, source);
  std::vector<std::string> labels = a.labels.empty() ? model_labels(runner) : a.labels;
  const auto outputs = runner.model().output_info().element_count;
  if (labels.empty())
    throw std::runtime_error(a.model + " carries no labels: give --labels (one per output, in order)");
  if (labels.size() != outputs)
    throw std::runtime_error(std::to_string(labels.size()) + " labels for a model with " + std::to_string(outputs) +
                             " outputs");
  const auto folder = tr::scan_speech_folder_for_labels(a.data, labels, a.test_percent);
  std::vector<tr::SpeechClipRef> clips;
  for (const auto& c : folder.clips)
    if (a.split == "all" || c.test == (a.split == "test")) clips.push_back(c);
  if (a.limit && clips.size() > a.limit) clips.resize(a.limit);
  if (clips.empty())
    throw std::runtime_error(a.data + ": no clips in the " + a.split + " split (" + folder.split + ")");
  if (a.stream) {
    std::printf("split: %s; %s\n", a.split.c_str(), folder.split.c_str());
    eval_keyword_stream(a, blob, config, labels, clips);
    return;
  }
  const auto features = tr::compute_features(config, clips, a.threads);
  const auto e = tr::evaluate_keywords(blob, features, clips, a.threads);
  const double us = micros_per_inference(blob, std::min<std::size_t>(clips.size(), 200), [&](std::size_t i) {
    const auto x = features.clip(i);
    return std::vector<std::int8_t>(x.begin(), x.end());
  });
  std::printf("model: %s (id %u, version %u), .tem %zu bytes, arena %u bytes, weights %u bytes\n",
              std::string(runner.model().name()).c_str(), runner.model().model_id(), runner.model().version(),
              blob.size(), runner.model().arena_bytes(), runner.model().weights_bytes());
  std::printf(
      "front-end: %s: %u Hz, %u ms window, %u ms stride, %u mel %u-%u Hz, %s, %dx%d int8 (scale %.6g, zero point %d)\n",
      source.c_str(), config.sample_rate_hz, config.window_ms, config.stride_ms, config.mel_channels, config.lower_hz,
      config.upper_hz,
      config.mfcc_coefficients ? (std::to_string(config.mfcc_coefficients) + " MFCC").c_str() : "log-mel",
      features.shape.h, features.shape.w, static_cast<double>(config.output_scale), config.output_zero_point);
  std::printf("split: %s; %s\n", a.split.c_str(), folder.split.c_str());
  std::printf("int8 accuracy (project runtime) on %zu clips: %.2f%%\n", clips.size(), 100 * e.confusion.accuracy());
  if (const auto report = tr::read_report(a.model); report && report->kind == "audio")
    std::printf("float accuracy on the training run's test split (from %s): %.2f%%\n", tr::report_path(a.model).c_str(),
                100 * report->float_metric);
  std::printf("runtime: %.1f us/inference (median, 1 thread)\n", us);
  print_confusion(e.confusion, labels);
  if (!a.plot.empty())
    write_text(a.plot, tr::confusion_matrix_svg(e.confusion, labels,
                                                std::string(runner.model().name()) + " int8, " +
                                                    std::to_string(clips.size()) + " clips (" + a.split + ")"));
}

void eval_enroll(const EvalArgs& a, std::span<const std::uint8_t> blob) {
  const auto dir = tr::resolve_fashion_mnist(a.data);
  const auto train = tr::load_fashion_mnist(dir, true);
  auto test = tr::load_fashion_mnist(dir, false);
  if (a.limit) test = test.head(a.limit);
  const auto e = tr::evaluate_few_shot(blob, train, test, a.enroll, a.enroll_seed);
  std::string names;
  for (const auto& n : e.new_labels) names += (names.empty() ? "" : ", ") + n;
  std::printf("enrolled %zu new classes (%s) with %d examples each on the node's code path (seed %llu)\n",
              e.new_labels.size(), names.c_str(), e.shots, static_cast<unsigned long long>(a.enroll_seed));
  std::printf(
      "top-1 on %zu test images (unknown counts as wrong): all classes %.2f%%, new classes %.2f%% (%zu images), "
      "trained classes %.2f%%; %zu answered unknown\n",
      e.test_images, 100 * e.all_accuracy, 100 * e.new_accuracy, e.new_images, 100 * e.trained_accuracy, e.unknown);
}

// A word embedding: the folder's words that are not the model's enrolled from K clips each (one
// enrollment recording per word, through the node's loudest-window path), then every other clip.
void eval_enroll_words(const EvalArgs& a, std::span<const std::uint8_t> blob) {
  const auto e = tr::evaluate_word_enrollment(blob, a.data, a.enroll, a.enroll_seed, a.threads);
  std::string names;
  for (const auto& n : e.new_words) names += (names.empty() ? "" : ", ") + n;
  std::printf("enrolled %zu new words (%s) from %d utterances each on the node's code path (seed %llu)\n",
              e.new_words.size(), names.c_str(), e.shots, static_cast<unsigned long long>(a.enroll_seed));
  std::printf("new words: %.2f%% of %zu clips right (%zu found near no word), F1 %.3f (macro over the new words)\n",
              100 * e.new_accuracy(), e.new_clips, e.new_unknown, e.macro_f1);
  if (e.trained_clips > 0)
    std::printf("trained words: %.2f%% of %zu clips right\n", 100 * e.trained_accuracy(), e.trained_clips);
  std::printf("unknown speech and silence: %zu of %zu clips accepted as a word (%.2f%% false accepts)\n",
              e.false_accepts, e.unknown_clips, 100 * e.false_accept_rate());
}

// A folder of labelled images: converted to the model's input image (its [1, H, W, C] input) by
// the node's camera conversion, split as training split it (testing_list.txt, else the file-name hash).
void eval_image_folder(const EvalArgs& a, std::span<const std::uint8_t> blob) {
  tr::TemRunner runner(blob);
  const auto in = runner.model().input_info();
  if (in.rank != 4 || (in.dims[3] != 1 && in.dims[3] != 3))
    throw std::runtime_error(a.model + " does not take an image (its input is not [1, H, W, 1 or 3])");
  const auto labels = model_labels(runner);
  if (labels.size() != runner.model().output_info().element_count)
    throw std::runtime_error(a.model + " carries no labels for its outputs: cannot match the label folders");
  const camera::ImageShape shape{static_cast<std::uint32_t>(in.dims[2]), static_cast<std::uint32_t>(in.dims[1]),
                                 static_cast<std::uint32_t>(in.dims[3])};
  const auto data = tr::read_image_folder_for_labels(a.data, shape, labels, a.test_percent, a.threads);
  const auto cm = tr::evaluate_image_folder(blob, data, a.split == "all", a.split == "test", a.threads);
  std::int64_t n = 0;
  for (auto c : cm.counts) n += c;
  if (n == 0) throw std::runtime_error(a.data + ": no images in the " + a.split + " split (" + data.split + ")");
  std::printf("model: %s (id %u, version %u), .tem %zu bytes, arena %u bytes, weights %u bytes\n",
              std::string(runner.model().name()).c_str(), runner.model().model_id(), runner.model().version(),
              blob.size(), runner.model().arena_bytes(), runner.model().weights_bytes());
  std::printf("input: %ux%u %s; split: %s; %s\n", shape.width, shape.height, shape.channels == 3 ? "RGB" : "gray",
              a.split.c_str(), data.split.c_str());
  std::printf("int8 accuracy (project runtime) on %lld images: %.2f%%\n", static_cast<long long>(n),
              100 * cm.accuracy());
  if (const auto report = tr::read_report(a.model); report && report->kind == "image")
    std::printf("float accuracy on the training run's test split (from %s): %.2f%%\n", tr::report_path(a.model).c_str(),
                100 * report->float_metric);
  print_confusion(cm, labels);
  if (!a.plot.empty())
    write_text(a.plot, tr::confusion_matrix_svg(cm, labels,
                                                std::string(runner.model().name()) + " int8, " + std::to_string(n) +
                                                    " images (" + a.split + ")"));
}

// A labelled sensor log through a motion model: windows of the model's length (stride --stride,
// default a quarter window), each sample quantised by the node's step; labels matched by name.
void eval_motion(const EvalArgs& a, std::span<const std::uint8_t> blob) {
  tr::TemRunner runner(blob);
  const auto in = runner.model().input_info();
  if (in.rank != 4 || in.dims[2] != 1)
    throw std::runtime_error(a.model + " does not take sensor windows (its input is not [1, T, 1, axes])");
  const auto labels = model_labels(runner);
  const auto log = motion::read_motion_csv(a.data, {});
  if (static_cast<int>(log.axes.size()) != in.dims[3])
    throw std::runtime_error(a.data + ": " + std::to_string(log.axes.size()) + " axis columns, the model takes " +
                             std::to_string(in.dims[3]));
  auto w = tr::cut_windows(log, in.dims[1], a.motion_stride > 0 ? a.motion_stride : std::max(1, in.dims[1] / 4));
  for (auto& l : w.label) {  // the log's label order -> the model's
    const auto& name = w.labels[static_cast<std::size_t>(l)];
    const auto it = std::find(labels.begin(), labels.end(), name);
    if (it == labels.end()) throw std::runtime_error(a.data + ": the model has no class '" + name + "'");
    l = static_cast<int>(it - labels.begin());
  }
  w.labels = labels;
  const auto cm = tr::evaluate_motion(blob, w, a.split == "all", a.split == "test", a.threads);
  std::int64_t n = 0;
  for (auto c : cm.counts) n += c;
  std::printf("model: %s (id %u, version %u), .tem %zu bytes, arena %u bytes, weights %u bytes\n",
              std::string(runner.model().name()).c_str(), runner.model().model_id(), runner.model().version(),
              blob.size(), runner.model().arena_bytes(), runner.model().weights_bytes());
  std::printf("split: %s (the last fifth of each label's recordings is test)\n", a.split.c_str());
  std::printf("int8 accuracy (project runtime) on %lld windows: %.2f%%\n", static_cast<long long>(n),
              100 * cm.accuracy());
  print_confusion(cm, labels);
  if (!a.plot.empty())
    write_text(a.plot, tr::confusion_matrix_svg(cm, labels,
                                                std::string(runner.model().name()) + " int8, " + std::to_string(n) +
                                                    " windows (" + a.split + ")"));
}

// Labelled texts (TSV or DIR/<label>/*.txt) through a text model: each text hashed by the model's
// own front-end record, as a node does; labels matched by name.
void eval_text(const EvalArgs& a, std::span<const std::uint8_t> blob) {
  tr::TemRunner runner(blob);
  const auto config = tr::text_front_end_of(runner.model());
  const auto labels = model_labels(runner);
  auto corpus = tr::read_text_corpus(a.data);
  for (auto& l : corpus.label) {  // the corpus's label order -> the model's
    const auto& name = corpus.labels[static_cast<std::size_t>(l)];
    const auto it = std::find(labels.begin(), labels.end(), name);
    if (it == labels.end()) throw std::runtime_error(a.data + ": the model has no class '" + name + "'");
    l = static_cast<int>(it - labels.begin());
  }
  corpus.labels = labels;
  const auto cm = tr::evaluate_text(blob, corpus, a.split == "all", a.split == "test", a.threads);
  std::int64_t n = 0;
  for (auto c : cm.counts) n += c;
  std::printf("model: %s (id %u, version %u), .tem %zu bytes, arena %u bytes, weights %u bytes\n",
              std::string(runner.model().name()).c_str(), runner.model().model_id(), runner.model().version(),
              blob.size(), runner.model().arena_bytes(), runner.model().weights_bytes());
  std::printf("text front-end: %u buckets, word n-grams %u..%u, character n-grams %u..%u, %s, seed %u\n",
              config.buckets, config.word_min, config.word_max, config.char_min, config.char_max,
              config.lowercase ? "lower-cased" : "case kept", config.seed);
  std::printf("split: %s (every fifth text of each class is test)\n", a.split.c_str());
  std::printf("int8 accuracy (project runtime) on %lld texts: %.2f%%\n", static_cast<long long>(n),
              100 * cm.accuracy());
  print_confusion(cm, labels);
  if (!a.plot.empty())
    write_text(a.plot, tr::confusion_matrix_svg(cm, labels,
                                                std::string(runner.model().name()) + " int8, " + std::to_string(n) +
                                                    " texts (" + a.split + ")"));
}

// A model whose front-end region holds a text record (whether or not this build can run it).
bool is_text_model(std::span<const std::uint8_t> blob) {
  tr::TemRunner probe(blob);
  const auto region = probe.model().front_end();
  return region.size() >= 4 &&
         (region[0] | region[1] << 8 | region[2] << 16 | std::uint32_t{region[3]} << 24) == text::kTextRecordMagic;
}

void eval_anomaly(const EvalArgs& a, std::span<const std::uint8_t> blob) {
  const auto data = tr::read_vibration_csv(a.data);
  const auto e = tr::evaluate_anomaly(blob, data, a.threads);
  tr::TemRunner runner(blob);
  const double us = micros_per_inference(blob, std::min<std::size_t>(data.count(), 500), [&](std::size_t i) {
    const auto f = tr::vibration_features(data.window(i));
    const auto in = runner.model().input_info();
    std::vector<std::int8_t> q(f.size());
    for (std::size_t k = 0; k < f.size(); ++k)
      q[k] = static_cast<std::int8_t>(std::clamp(std::round(f[k] / in.scale) + in.zero_point, -128.0f, 127.0f));
    return q;
  });
  const auto faulty = std::count(e.labels.begin(), e.labels.end(), 1);
  std::printf("model: %s, .tem %zu bytes, arena %u bytes\n", std::string(runner.model().name()).c_str(), blob.size(),
              runner.model().arena_bytes());
  std::printf("windows: %zu (%lld faulty)\n", e.labels.size(), static_cast<long long>(faulty));
  std::printf("ROC AUC (int8 reconstruction error, project runtime): %.4f\n", e.auc);
  if (const auto report = tr::read_report(a.model); report && report->kind == "anomaly") {
    std::int64_t tp = 0, fp = 0, fn = 0, tn = 0;
    for (std::size_t i = 0; i < e.scores.size(); ++i) {
      const bool flagged = e.scores[i] > report->threshold;
      (e.labels[i] ? (flagged ? tp : fn) : (flagged ? fp : tn)) += 1;
    }
    std::printf("at the trained threshold %.6f: %lld/%lld faulty flagged, %lld/%lld normal flagged\n",
                report->threshold, static_cast<long long>(tp), static_cast<long long>(tp + fn),
                static_cast<long long>(fp), static_cast<long long>(fp + tn));
  }
  std::printf("runtime: %.1f us/inference (median, 1 thread)\n", us);
  if (!a.plot.empty())
    write_text(a.plot, tr::roc_curve_svg(tr::roc_curve(e.scores, e.labels), e.auc,
                                         std::string(runner.model().name()) + " int8 ROC"));
}

void install(CLI::App& app) {
  CLI::App* model = nullptr;
  try {
    model = app.get_subcommand("model");
  } catch (const CLI::OptionNotFound&) {
    model = app.add_subcommand("model", "Work with .tem models");
  }
  static EvalArgs a;
  auto* eval = model->add_subcommand(
      "eval", "Evaluate an int8 .tem in the project's runtime: accuracy + confusion matrix, or anomaly ROC AUC");
  eval->add_option("model", a.model, ".tem file")->required();
  eval->add_option(
          "--data", a.data,
          "\"fashion-mnist\" / an IDX directory (classifier), a labelled vibration .csv (anomaly), a sensor "
          "log .csv (motion models), a WAV folder "
          "DIR/<label>/*.wav (a model with a front-end record, or --front-end), or an image folder "
          "DIR/<label>/*.png|*.jpg, or labelled texts (text models: label<TAB>text lines, or DIR/<label>/*.txt)")
      ->capture_default_str();
  eval->add_option("--plot", a.plot, "write an SVG: confusion matrix (classifier) or ROC curve (anomaly)");
  eval->add_option("--threads", a.threads, "evaluation threads")->capture_default_str()->check(CLI::Range(1, 64));
  eval->add_option("--limit", a.limit, "first N test images / clips only (0 = all)");
  eval->add_option("--front-end", a.front_end,
                   "WAV folders, for a model without a front-end record: feature preset (mfcc49x10, logmel49x40); "
                   "the model's input quantisation becomes the front-end's output");
  eval->add_option("--feature-scale", a.feature_scale,
                   "with --front-end: the front-end's output scale instead of the model's input scale")
      ->check(CLI::PositiveNumber);
  eval->add_option("--labels", a.labels, "WAV folders: class names in output order, for a model that carries none")
      ->delimiter(',');
  eval->add_option("--split", a.split,
                   "WAV and image folders: test (held-out files, as training split them), train or all")
      ->capture_default_str()
      ->check(CLI::IsMember({"test", "train", "all"}));
  eval->add_option("--test-percent", a.test_percent,
                   "WAV/image folders without testing_list.txt: held-out share (file-name hash)")
      ->capture_default_str()
      ->check(CLI::Range(1, 99));
  eval->add_flag("--stream", a.stream,
                 "WAV folders: play the clips end to end through the node's keyword detector: detection rate on "
                 "the keywords, false accepts per hour on the rest");
  eval->add_option("--gap-ms", a.stream_options.gap_ms, "--stream: silence between clips")
      ->capture_default_str()
      ->check(CLI::Range(0u, 60000u));
  eval->add_option("--detect-threshold", a.threshold, "--stream: smoothed score (0..255) a keyword must reach")
      ->capture_default_str()
      ->check(CLI::Range(1, 255));
  eval->add_option("--detect-smoothing-ms", a.stream_options.detector.smoothing_ms, "--stream: score averaging window")
      ->capture_default_str()
      ->check(CLI::Range(0u, 10000u));
  eval->add_option("--detect-refractory-ms", a.stream_options.detector.refractory_ms,
                   "--stream: no detection within this long after one")
      ->capture_default_str()
      ->check(CLI::Range(0u, 60000u));
  eval->add_option("--detect-every", a.stream_options.detector.infer_every_strides,
                   "--stream: one inference per this many feature rows")
      ->capture_default_str()
      ->check(CLI::Range(1u, 100u));
  eval->add_option("--enroll", a.enroll,
                   "embedding models: enroll the Fashion-MNIST classes the model was not trained on with K training "
                   "images each (node_firmware/enroll), then report top-1 on the test images; word embeddings: "
                   "enroll every word folder of --data that is not the model's from K clips each, then report "
                   "accuracy, F1 and false accepts on _unknown_/_silence_")
      ->check(CLI::Range(1, 10));
  eval->add_option("--enroll-seed", a.enroll_seed, "with --enroll: seed for picking the examples")
      ->capture_default_str();
  eval->add_option("--stride", a.motion_stride, "sensor logs: samples between windows (default: a quarter window)")
      ->check(CLI::Range(1, 4096));
  eval->callback([] {
    try {
      const auto blob = tr::read_file(a.model);
      if (a.front_end.empty() && a.enroll == 0 && is_text_model(blob)) {
        eval_text(a, blob);
        return;
      }
      bool speech = !a.front_end.empty(), embedding = false;
      if (!speech) {
        tr::TemRunner probe(blob);
        const auto region = probe.model().front_end();
        embedding = !enroll::find_embedding_head(region).empty();
        speech = !region.empty() && enroll::find_embedding_head(region).data() != region.data();
      }
      if (a.enroll > 0 && !embedding)
        throw std::runtime_error(a.model +
                                 " carries no embedding head: --enroll needs `tinyedge train image "
                                 "--embedding` or `tinyedge train audio --embedding`");
      if (embedding && a.enroll == 0)
        throw std::runtime_error(a.model + " is an embedding model: give --enroll K to measure it");
      if (a.stream && (!speech || embedding))
        throw std::runtime_error(
            "--stream is for keyword classifiers on WAV folders (a front-end record or "
            "--front-end)");
      if (a.enroll > 0 && speech)
        eval_enroll_words(a, blob);
      else if (a.enroll > 0)
        eval_enroll(a, blob);
      else if (speech)
        eval_keywords(a, blob);
      else if (tr::is_image_folder(a.data))
        eval_image_folder(a, blob);
      else if (std::filesystem::path(a.data).extension() == ".csv" && tr::TemRunner(blob).model().label_count() > 0)
        eval_motion(a, blob);
      else if (std::filesystem::path(a.data).extension() == ".csv")
        eval_anomaly(a, blob);
      else
        eval_classifier(a, blob);
    } catch (const std::runtime_error& e) {
      throw CommandError(e.what());
    }
  });
}

const CommandRegistration kEval{"50-train-eval", &install};

}  // namespace
}  // namespace tinyedge::deploy
