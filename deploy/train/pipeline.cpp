#include "deploy/train/pipeline.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <set>
#include <stdexcept>

#include "deploy/train/parallel.h"
#include "deploy/train/runtime_eval.h"
#include "deploy/train/tem_export.h"
#include "deploy/train/word_embedding.h"
#include "node_firmware/audio/front_end_record.h"
#include "node_firmware/enroll/class_table.h"

namespace tinyedge::train {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<float> image_to_float(std::span<const std::uint8_t> pixels) {
  std::vector<float> x(pixels.size());
  for (std::size_t i = 0; i < pixels.size(); ++i) x[i] = static_cast<float>(pixels[i]) / 255.0f;
  return x;
}

GoldenPair golden(std::span<const std::uint8_t> blob, const std::vector<std::int8_t>& input) {
  TemRunner runner(blob);
  GoldenPair g;
  g.input = input;
  const auto out = runner.run(input);
  g.output.assign(out.begin(), out.end());
  return g;
}

}  // namespace

std::uint32_t default_model_id(const std::string& name) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : name) h = (h ^ c) * 16777619u;
  return h;
}

ImageTrainResult train_image(const ImageTrainRequest& req, const ProgressFn& progress) {
  const auto dir = resolve_fashion_mnist(req.data);
  ImageSet train = load_fashion_mnist(dir, true);
  ImageSet test = load_fashion_mnist(dir, false);
  if (req.train_limit) train = train.head(req.train_limit);
  if (req.test_limit) test = test.head(req.test_limit);
  if (req.calibration <= 0) throw std::runtime_error("--calibration must be positive");

  ImageTrainResult r;
  r.train_images = train.count();
  r.test_images = test.count();
  const auto t0 = std::chrono::steady_clock::now();
  r.float_net = train_image_classifier(train, req.arch, req.train, progress);
  r.train_seconds = seconds_since(t0);

  // Float accuracy with the exported network itself (NHWC, our code), which also proves the export.
  std::atomic<std::int64_t> correct{0};
  parallel_chunks(test.count(), req.eval_threads, [&](std::size_t lo, std::size_t hi) {
    std::int64_t c = 0;
    for (std::size_t i = lo; i < hi; ++i)
      c += arg_max<float>(forward(r.float_net, image_to_float(test.image(i)))) == test.labels[i];
    correct += c;
  });
  r.float_accuracy = static_cast<double>(correct.load()) / static_cast<double>(test.count());

  // Calibration: evenly spaced training images (a fixed choice, so the model bytes are reproducible).
  std::vector<std::vector<float>> calibration;
  const std::size_t n_cal = std::min<std::size_t>(static_cast<std::size_t>(req.calibration), train.count());
  for (std::size_t i = 0; i < n_cal; ++i) calibration.push_back(image_to_float(train.image(i * train.count() / n_cal)));
  // Pixels map exactly onto int8: q = pixel - 128 is pixel/255 at scale 1/255, zero point -128.
  r.quant = quantize(r.float_net, calibration, QuantParams{1.0f / 255.0f, -128});

  model::ModelMetadata meta = req.meta;
  if (meta.name.empty()) meta.name = "fashion-mnist-" + req.arch;
  if (meta.model_id == 0) meta.model_id = default_model_id(meta.name);
  if (meta.labels.empty()) meta.labels = fashion_mnist_labels();
  if (meta.input_description.empty()) meta.input_description = "28x28x1 grayscale image, q = pixel - 128";
  r.compiled = export_tem(r.quant, meta);

  const auto eval = evaluate_classifier(r.compiled.tem, test, req.eval_threads);
  r.int8_confusion = eval.confusion;
  TemRunner probe(r.compiled.tem);
  r.self_test = golden(r.compiled.tem, quantize_image(probe.model().input_info(), test.image(0)));
  return r;
}

KeywordTrainResult train_keywords(const KeywordTrainRequest& req, const ProgressFn& progress,
                                  const std::function<void(const std::string&)>& log) {
  if (req.calibration <= 0) throw std::runtime_error("--calibration must be positive");
  KeywordTrainResult r;
  r.folder = scan_speech_folder(req.data, req.folder);
  std::vector<SpeechClipRef> train_clips, test_clips;
  for (const auto& c : r.folder.clips) (c.test ? test_clips : train_clips).push_back(c);
  if (train_clips.empty())
    throw std::runtime_error(req.data + ": every file is in the test split; nothing to train on");
  if (test_clips.empty())
    throw std::runtime_error(req.data + ": the test split is empty; nothing to measure accuracy on");
  if (log)
    log(std::to_string(train_clips.size()) + " training clips, " + std::to_string(test_clips.size()) + " test clips, " +
        std::to_string(r.folder.labels.size()) + " classes; " + r.folder.split);

  // The front-end's output range from evenly spaced training clips, then every clip's features.
  const auto t_features = std::chrono::steady_clock::now();
  const std::size_t n_cal = std::min<std::size_t>(static_cast<std::size_t>(req.calibration), train_clips.size());
  std::vector<std::vector<std::int16_t>> cal_clips;
  const auto preset = front_end_preset(req.front_end).config;
  for (std::size_t i = 0; i < n_cal; ++i)
    cal_clips.push_back(read_clip(train_clips[i * train_clips.size() / n_cal].path, preset));
  r.front_end = calibrate_output(preset, cal_clips);
  // Noise augmentation: the bank is read (and every noise file checked) before any training.
  check_noise_options(req.noise);
  NoiseBank bank;
  NoiseAugment noise{&bank, req.noise, 0, -1};
  if (!req.noise.snr_db.empty()) {
    bank = load_noise_bank(req.data, r.folder, r.front_end.sample_rate_hz);
    const auto silence = std::find(r.folder.labels.begin(), r.folder.labels.end(), "_silence_");
    if (silence != r.folder.labels.end()) noise.silence_label = static_cast<int>(silence - r.folder.labels.begin());
    std::vector<std::size_t> lengths;
    for (const auto& n : bank.recordings) lengths.push_back(n.size());
    for (int copy = 0; copy < (req.time_shift_ms != 0 ? 3 : 1); ++copy)
      for (std::size_t i = 0; i < train_clips.size(); ++i)
        r.noisy_clips += train_clips[i].label != noise.silence_label &&
                         pick_noise(req.noise, lengths, i, copy, clip_samples(r.front_end)).noisy;
    if (log)
      log("noise: " + std::to_string(bank.recordings.size()) + " recordings from " + bank.source + "; " +
          std::to_string(r.noisy_clips) + " training clips mixed with it");
  }
  const NoiseAugment* augment = req.noise.snr_db.empty() ? nullptr : &noise;
  SpeechFeatures train = compute_features(r.front_end, train_clips, req.eval_threads, 0, augment);
  std::vector<int> train_y;
  for (const auto& c : train_clips) train_y.push_back(c.label);
  const std::size_t original = train_clips.size();
  if (req.time_shift_ms != 0) {
    for (const int shift : {-req.time_shift_ms, req.time_shift_ms}) {
      ++noise.copy;
      const auto more = compute_features(r.front_end, train_clips, req.eval_threads, shift, augment);
      train.values.insert(train.values.end(), more.values.begin(), more.values.end());
      train_y.insert(train_y.end(), train_y.begin(), train_y.begin() + static_cast<std::ptrdiff_t>(original));
    }
  }
  const SpeechFeatures test = compute_features(r.front_end, test_clips, req.eval_threads);
  r.feature_seconds = seconds_since(t_features);

  // The network sees the features' real values: (q - zero point) * scale, the model's input.
  const QuantParams input{r.front_end.output_scale, r.front_end.output_zero_point};
  auto real = [&](std::span<const std::int8_t> q) {
    std::vector<float> x(q.size());
    for (std::size_t i = 0; i < q.size(); ++i) x[i] = input.dequantize(q[i]);
    return x;
  };
  std::vector<float> train_x;
  train_x.reserve(train.values.size());
  for (auto q : train.values) train_x.push_back(input.dequantize(q));
  const int classes = static_cast<int>(r.folder.labels.size());
  const auto t0 = std::chrono::steady_clock::now();
  const bool embedding = req.embedding_dim > 0;
  if (embedding && (req.embedding_dim < 2 || static_cast<std::size_t>(req.embedding_dim) > enroll::kMaxPrototypeDim))
    throw std::runtime_error("--dim must be within 2.." + std::to_string(enroll::kMaxPrototypeDim) +
                             " (the node's prototype size)");
  r.float_net =
      train_keyword_classifier(train_x, train.shape, train_y, classes, req.net, req.train, progress, req.embedding_dim);
  r.train_seconds = seconds_since(t0);
  if (embedding) {
    // Centred as the image embedding is: the training clips' mean embedding folded into the
    // linear embedding layer's bias, so cosines measure directions around the words.
    Layer& last = r.float_net.layers.back();
    std::vector<double> mean(last.bias.size(), 0.0);
    const std::size_t n = std::min<std::size_t>(original, 2000);
    for (std::size_t i = 0; i < n; ++i) {
      const auto e = forward(r.float_net, real(train.clip(i * original / n)));
      for (std::size_t k = 0; k < mean.size(); ++k) mean[k] += e[k];
    }
    for (std::size_t k = 0; k < mean.size(); ++k) last.bias[k] -= static_cast<float>(mean[k] / static_cast<double>(n));
  }

  std::atomic<std::int64_t> correct{0};
  if (!embedding) {
    parallel_chunks(test_clips.size(), req.eval_threads, [&](std::size_t lo, std::size_t hi) {
      std::int64_t c = 0;
      for (std::size_t i = lo; i < hi; ++i)
        c += arg_max<float>(forward(r.float_net, real(test.clip(i)))) == test_clips[i].label;
      correct += c;
    });
    r.float_accuracy = static_cast<double>(correct.load()) / static_cast<double>(test_clips.size());
  } else {
    r.float_accuracy = -1;
  }

  std::vector<std::vector<float>> calibration;
  for (std::size_t i = 0; i < n_cal; ++i) calibration.push_back(real(train.clip(i * original / n_cal)));
  r.quant = quantize(r.float_net, calibration, input);

  model::ModelMetadata meta = req.meta;
  if (meta.name.empty()) meta.name = "kws-ds-cnn-" + req.front_end;
  if (meta.model_id == 0) meta.model_id = default_model_id(meta.name);
  meta.labels = r.folder.labels;
  if (meta.input_description.empty()) meta.input_description = front_end_preset(req.front_end).description;
  meta.front_end.resize(audio::kFrontEndRecordBytes);
  audio::encode_front_end(r.front_end, std::span<std::uint8_t, audio::kFrontEndRecordBytes>(meta.front_end));
  r.compiled = export_tem(r.quant, meta);
  if (embedding) {
    // The prototypes from the int8 model with the node's arithmetic, after the audio record.
    const std::vector<int> original_y(train_y.begin(), train_y.begin() + static_cast<std::ptrdiff_t>(original));
    const auto head =
        word_embedding_head(r.compiled.tem, train, original_y, classes, req.prototype_clips, req.threshold_quantile);
    meta.front_end.insert(meta.front_end.end(), head.begin(), head.end());
    r.compiled = export_tem(r.quant, meta);
    r.int8_confusion = nearest_prototype_confusion(r.compiled.tem, test, test_clips, classes);
  } else {
    r.int8_confusion = evaluate_keywords(r.compiled.tem, test, test_clips, req.eval_threads).confusion;
  }
  r.self_test = golden(r.compiled.tem, std::vector<std::int8_t>(test.clip(0).begin(), test.clip(0).end()));
  return r;
}

AnomalyTrainResult train_anomaly(const AnomalyTrainRequest& req, const ProgressFn& progress) {
  const VibrationSet& data = req.data;
  if (!(req.holdout_fraction >= 0.0 && req.holdout_fraction < 1.0))
    throw std::runtime_error("--holdout must be within [0, 1)");
  // Hold out whole machines (a seeded pick), so validation sees machines the model never saw.
  std::vector<int> machines(std::set<int>(data.machine.begin(), data.machine.end()).size());
  {
    std::set<int> ids(data.machine.begin(), data.machine.end());
    std::copy(ids.begin(), ids.end(), machines.begin());
  }
  std::mt19937_64 rng(req.train.seed);
  for (std::size_t i = machines.size() - 1; i > 0 && !machines.empty(); --i)
    std::swap(machines[i], machines[rng() % (i + 1)]);
  const auto held = static_cast<std::size_t>(req.holdout_fraction * static_cast<double>(machines.size()) + 0.5);
  const std::set<int> holdout(machines.begin(), machines.begin() + static_cast<std::ptrdiff_t>(held));

  std::vector<std::vector<float>> features(data.count());
  parallel_chunks(data.count(), req.eval_threads, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t i = lo; i < hi; ++i) features[i] = vibration_features(data.window(i));
  });
  std::vector<float> train_rows;
  std::vector<std::size_t> train_idx, holdout_idx;
  for (std::size_t i = 0; i < data.count(); ++i) {
    if (holdout.count(data.machine[i])) {
      holdout_idx.push_back(i);
    } else if (data.label[i] == 0) {  // semi-supervised: learn what normal looks like
      train_idx.push_back(i);
      train_rows.insert(train_rows.end(), features[i].begin(), features[i].end());
    }
  }
  if (train_idx.empty())
    throw std::runtime_error("no normal (label 0) windows to train on outside the held-out machines");

  AnomalyTrainResult r;
  r.train_windows = train_idx.size();
  r.holdout_windows = holdout_idx.size();
  const auto t0 = std::chrono::steady_clock::now();
  r.float_net = train_autoencoder(train_rows, kVibrationFeatures, req.train, progress);
  r.train_seconds = seconds_since(t0);

  std::vector<std::vector<float>> calibration;
  const std::size_t n_cal =
      std::min<std::size_t>(static_cast<std::size_t>(std::max(req.calibration, 1)), train_idx.size());
  for (std::size_t i = 0; i < n_cal; ++i) calibration.push_back(features[train_idx[i * train_idx.size() / n_cal]]);
  r.quant = quantize(r.float_net, calibration);

  model::ModelMetadata meta = req.meta;
  if (meta.name.empty()) meta.name = "vibration-autoencoder";
  if (meta.model_id == 0) meta.model_id = default_model_id(meta.name);
  if (meta.input_description.empty()) meta.input_description = kVibrationFeatureDescription;
  r.compiled = export_tem(r.quant, meta);

  TemRunner runner(r.compiled.tem);
  std::vector<double> train_scores;
  for (auto i : train_idx) train_scores.push_back(anomaly_score(runner, features[i]));
  std::sort(train_scores.begin(), train_scores.end());
  r.threshold = train_scores[std::min(train_scores.size() - 1, train_scores.size() * 99 / 100)];

  std::vector<double> float_scores, int8_scores;
  std::vector<std::uint8_t> labels;
  for (auto i : holdout_idx) {
    const auto y = forward(r.float_net, features[i]);
    double e = 0;
    for (std::size_t k = 0; k < y.size(); ++k) e += (y[k] - features[i][k]) * (y[k] - features[i][k]);
    float_scores.push_back(e / static_cast<double>(y.size()));
    int8_scores.push_back(anomaly_score(runner, features[i]));
    labels.push_back(data.label[i]);
  }
  const auto positives = std::count(labels.begin(), labels.end(), 1);
  if (positives > 0 && positives < static_cast<std::ptrdiff_t>(labels.size())) {
    r.float_auc = roc_auc(float_scores, labels);
    r.int8_auc = roc_auc(int8_scores, labels);
  }
  r.self_test = golden(r.compiled.tem, quantize_input(r.quant, features[train_idx.front()]));
  return r;
}

}  // namespace tinyedge::train
