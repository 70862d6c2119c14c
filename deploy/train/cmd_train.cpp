// tinyedge train image | anomaly | audio: data -> libtorch training -> int8 PTQ -> .tem (+ golden
// self-test pair). Built into tinyedge-train (libexec), which `tinyedge train` execs: loading
// libtorch costs seconds, and no other command should pay it (cmd_train_forward.cpp).
#include <cstdio>
#include <iostream>
#include <memory>

#include "deploy/command_registry.h"
#include "deploy/train/cmd_train_image_folder.h"
#include "deploy/train/cmd_train_motion.h"
#include "deploy/train/cmd_train_text.h"
#include "deploy/train/embedding_pipeline.h"
#include "deploy/train/pipeline.h"
#include "deploy/train/progress.h"
#include "deploy/train/train_command.h"
#include "deploy/train/train_report.h"

namespace tinyedge::deploy {
namespace {

namespace tr = tinyedge::train;

struct Common {
  std::string output, self_test_prefix, name;
  std::uint32_t model_id = 0, version = 1;
  int epochs = 0, calibration = 0, batch_size = 0, threads = 1;
  std::uint64_t seed = 1;
  float lr = 2e-3f;
};

Common defaults(int epochs, int calibration, int batch_size) {
  Common c;
  c.epochs = epochs;
  c.calibration = calibration;
  c.batch_size = batch_size;
  return c;
}

void add_common(CLI::App* cmd, Common& c) {
  cmd->add_option("-o,--output", c.output, ".tem model to write")->required();
  cmd->add_option("--epochs", c.epochs, "training epochs")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--seed", c.seed, "seed for initialisation and shuffling (same seed, same bytes)")
      ->capture_default_str();
  cmd->add_option("--batch-size", c.batch_size, "examples per step")
      ->capture_default_str()
      ->check(CLI::Range(1, 65536));
  cmd->add_option("--lr", c.lr, "peak learning rate (AdamW, cosine decay)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--threads", c.threads, "torch threads (fixed: part of what makes a run reproducible)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--calibration", c.calibration, "calibration examples for activation ranges")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--name", c.name, "model name carried in the .tem");
  cmd->add_option("--model-id", c.model_id, "model id (default: a hash of the name)");
  cmd->add_option("--version", c.version, "model version (anti-rollback counter)")->capture_default_str();
  cmd->add_option("--self-test-out", c.self_test_prefix,
                  "write PREFIX.in.bin / PREFIX.out.bin: a golden input and the runtime's output for it");
}

tr::TrainOptions options(const Common& c) {
  tr::TrainOptions o;
  o.epochs = c.epochs;
  o.seed = c.seed;
  o.batch_size = c.batch_size;
  o.learning_rate = c.lr;
  o.threads = c.threads;
  return o;
}

model::ModelMetadata metadata(const Common& c) {
  model::ModelMetadata m;
  m.name = c.name;
  m.model_id = c.model_id;
  m.version = c.version;
  return m;
}

void write_outputs(const Common& c, const model::CompiledModel& compiled, const tr::GoldenPair& golden,
                   const tr::TrainReport& report) {
  tr::write_bytes(c.output, compiled.tem);
  tr::write_report(c.output, report);
  std::printf("wrote %s (%zu bytes) and %s\n", c.output.c_str(), compiled.tem.size(),
              tr::report_path(c.output).c_str());
  if (!c.self_test_prefix.empty()) {
    const auto in = c.self_test_prefix + ".in.bin", out = c.self_test_prefix + ".out.bin";
    tr::write_bytes(in, {reinterpret_cast<const std::uint8_t*>(golden.input.data()), golden.input.size()});
    tr::write_bytes(out, {reinterpret_cast<const std::uint8_t*>(golden.output.data()), golden.output.size()});
    std::printf("wrote self-test pair %s (%zu bytes) / %s (%zu bytes)\n", in.c_str(), golden.input.size(), out.c_str(),
                golden.output.size());
  }
}

void print_model(const model::CompiledModel& m, const tr::QuantNet& q) {
  std::printf("model: %zu ops, %zu parameters, int8 weights+int32 biases %zu bytes, .tem %zu bytes, arena %u bytes\n",
              m.op_count, m.parameter_count, q.weight_bytes(), m.tem.size(), m.arena_bytes);
}

void install(CLI::App& app) {
  auto* train = app.add_subcommand("train", kTrainDescription);
  train->require_subcommand(1);

  // train image
  static tr::ImageTrainRequest image;
  static Common ic = defaults(12, 1000, 128);
  static std::size_t train_limit = 0, test_limit = 0;
  auto* img = train->add_subcommand("image", "Image classifier on Fashion-MNIST (28x28 grayscale, 10 classes)");
  img->add_option("--data", image.data,
                  "\"fashion-mnist\" (Debian's dataset-fashion-mnist), a directory of IDX files, or a folder of "
                  "labelled images DIR/<label>/*.png|*.jpg")
      ->capture_default_str();
  img->add_option("--arch", image.arch, "small-cnn or mlp (Fashion-MNIST); ds-cnn or cnn (image folders)")
      ->capture_default_str()
      ->check(CLI::IsMember({"small-cnn", "mlp", "ds-cnn", "cnn"}));
  img->add_option("--limit", train_limit, "train on the first N training images only (0 = all)");
  img->add_option("--test-limit", test_limit, "evaluate on the first N test images only (0 = all)");
  static bool embedding = false;
  static tr::EmbeddingTrainRequest embed;
  img->add_flag("--embedding", embedding,
                "train an embedding for few-shot enrollment instead: a cosine classifier over the classes not in "
                "--hold-out; the .tem outputs the embedding and carries the trained classes' prototypes");
  img->add_option("--dim", embed.dim, "--embedding: embedding size")->capture_default_str()->check(CLI::Range(2, 64));
  img->add_option("--hold-out", embed.held_out, "--embedding: Fashion-MNIST classes (0..9) kept out of training")
      ->delimiter(',')
      ->capture_default_str();
  add_common(img, ic);
  add_image_folder_options(img);
  img->callback([] {
    if (embedding) {
      embed.data = image.data;
      embed.train = options(ic);
      embed.train_limit = train_limit;
      embed.calibration = ic.calibration;
      embed.meta = metadata(ic);
      tr::ProgressBar bar(ic.epochs);
      tr::EmbeddingTrainResult r;
      try {
        r = tr::train_image_embedding_model(
            embed, [&](int e, int b, int n, double loss, double acc) { bar.update(e, b, n, loss, acc); });
      } catch (const model::CompileError& e) {
        throw CommandError(std::string("model compiler: ") + e.what());
      } catch (const std::runtime_error& e) {
        throw CommandError(e.what());
      }
      std::string names;
      for (const auto& n : r.trained_labels) names += (names.empty() ? "" : ", ") + n;
      std::printf(
          "trained a %d-dimensional embedding on %zu images of %zu classes (%s), %d epochs, seed %llu in %.1f s\n",
          embed.dim, r.train_images, r.trained_labels.size(), names.c_str(), ic.epochs,
          static_cast<unsigned long long>(ic.seed), r.train_seconds);
      print_model(r.compiled, r.quant);
      std::printf("measure few-shot accuracy with: tinyedge model eval %s --enroll 5\n", ic.output.c_str());
      write_outputs(ic, r.compiled, r.self_test,
                    {"image-embedding", "embedding-cnn", ic.epochs, ic.seed, r.train_seconds, 0, 0, 0});
      return;
    }
    if (is_image_folder_data(image.data))
      return run_train_image_folder(image.data, image.arch, options(ic), ic.calibration, metadata(ic),
                                    [](const auto& m, const auto& g, const auto& r) { write_outputs(ic, m, g, r); });
    image.train = options(ic);
    image.train_limit = train_limit;
    image.test_limit = test_limit;
    image.calibration = ic.calibration;
    image.meta = metadata(ic);
    tr::ProgressBar bar(ic.epochs);
    tr::ImageTrainResult r;
    try {
      r = tr::train_image(image, [&](int e, int b, int n, double loss, double acc) { bar.update(e, b, n, loss, acc); });
    } catch (const model::CompileError& e) {
      throw CommandError(std::string("model compiler: ") + e.what());
    } catch (const std::runtime_error& e) {
      throw CommandError(e.what());
    }
    std::printf("trained %s on %zu images, %d epochs, seed %llu in %.1f s\n", image.arch.c_str(), r.train_images,
                ic.epochs, static_cast<unsigned long long>(ic.seed), r.train_seconds);
    print_model(r.compiled, r.quant);
    std::printf("test accuracy on %zu images: float %.2f%%, int8 (runtime) %.2f%%, drop %.2f points\n", r.test_images,
                100 * r.float_accuracy, 100 * r.int8_accuracy(), 100 * (r.float_accuracy - r.int8_accuracy()));
    write_outputs(ic, r.compiled, r.self_test,
                  {"image", image.arch, ic.epochs, ic.seed, r.train_seconds, r.float_accuracy, r.int8_accuracy(), 0});
  });

  // train anomaly
  static std::string csv;
  static double holdout = 0.2;
  static Common ac = defaults(40, 500, 64);
  auto* an = train->add_subcommand("anomaly",
                                   "Dense autoencoder for vibration anomaly detection (score = reconstruction error)");
  an->add_option("--data", csv, "labelled vibration CSV (tinyedge data synth-vibration)")->required();
  an->add_option("--holdout", holdout, "fraction of machines kept out of training for the validation AUC")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.9));
  add_common(an, ac);
  an->callback([] {
    tr::AnomalyTrainRequest req;
    tr::AnomalyTrainResult r;
    try {
      req.data = tr::read_vibration_csv(csv);
      req.train = options(ac);
      req.holdout_fraction = holdout;
      req.calibration = ac.calibration;
      req.meta = metadata(ac);
      tr::ProgressBar bar(ac.epochs);
      r = tr::train_anomaly(req, [&](int e, int b, int n, double loss, double acc) { bar.update(e, b, n, loss, acc); });
    } catch (const model::CompileError& e) {
      throw CommandError(std::string("model compiler: ") + e.what());
    } catch (const std::runtime_error& e) {
      throw CommandError(e.what());
    }
    std::printf("trained autoencoder on %zu normal windows, %d epochs, seed %llu in %.1f s\n", r.train_windows,
                ac.epochs, static_cast<unsigned long long>(ac.seed), r.train_seconds);
    print_model(r.compiled, r.quant);
    if (r.float_auc >= 0)
      std::printf("held-out machines (%zu windows): ROC AUC float %.4f, int8 (runtime) %.4f\n", r.holdout_windows,
                  r.float_auc, r.int8_auc);
    else
      std::printf("held-out machines (%zu windows) lack normal or faulty windows: no validation AUC\n",
                  r.holdout_windows);
    std::printf("anomaly threshold (99th percentile of training scores): %.6f\n", r.threshold);
    write_outputs(
        ac, r.compiled, r.self_test,
        {"anomaly", "autoencoder", ac.epochs, ac.seed, r.train_seconds, r.float_auc, r.int8_auc, r.threshold});
  });

  // train audio
  static tr::KeywordTrainRequest audio;
  static Common kc = defaults(30, 500, 64);
  static std::string presets_help = [] {
    std::string h = "feature preset:";
    for (const auto& p : tr::front_end_presets()) h += "\n  " + p.name + ": " + p.description;
    return h;
  }();
  auto* au = train->add_subcommand(
      "audio",
      "Keyword spotter (DS-CNN) from 1 s WAV clips in the Speech Commands layout, features by the node's own "
      "front-end. Split: DIR/testing_list.txt if present (tinyedge data speech writes one: held-out voices), else "
      "by speaker (file name before \"_nohash_\", else the whole name) with FNV-1a hash % 100 < --test-percent");
  au->add_option("--data", audio.data, "folder of DIR/<label>/*.wav (16 kHz mono 16-bit, 1 s)")->required();
  au->add_option("--front-end", audio.front_end, presets_help)
      ->capture_default_str()
      ->check([](const std::string& name) {
        for (const auto& p : tr::front_end_presets())
          if (p.name == name) return std::string();
        return "unknown front-end preset '" + name + "'";
      });
  au->add_option("--words", audio.folder.words,
                 "keywords to classify (other label folders become _unknown_; default: every label folder)")
      ->delimiter(',');
  au->add_option("--test-percent", audio.folder.test_percent,
                 "held-out share of speakers when the folder has no testing_list.txt")
      ->capture_default_str()
      ->check(CLI::Range(1, 99));
  au->add_option("--channels", audio.net.channels, "DS-CNN channels (64: the MLPerf Tiny reference)")
      ->capture_default_str()
      ->check(CLI::Range(4, 256));
  au->add_option("--blocks", audio.net.blocks, "depthwise-separable blocks (4: the reference)")
      ->capture_default_str()
      ->check(CLI::Range(0, 8));
  au->add_option("--eval-threads", audio.eval_threads, "threads for features and evaluation")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  au->add_option("--time-shift-ms", audio.time_shift_ms,
                 "augmentation: also train on every clip shifted this much earlier and later (0: off; triples the "
                 "training set), so the node's sliding window detects a word at any offset")
      ->capture_default_str()
      ->check(CLI::Range(0, 400));
  static bool audio_embedding = false;
  au->add_flag("--embedding", audio_embedding,
               "train a word embedding for enrollment instead: the DS-CNN's last layer (--dim values) trained as a "
               "cosine classifier over the words; the .tem outputs the embedding and carries the audio record "
               "followed by the words' prototypes. Keep the words to be enrolled later out of --data");
  au->add_option("--dim", audio.embedding_dim, "--embedding: embedding size")
      ->default_val(32)
      ->check(CLI::Range(2, 64));
  au->add_option("--noise-snr", audio.noise.snr_db,
                 "augmentation: mix the data set's background noise (DIR/_background_noise_/*.wav, else the training "
                 "_silence_ clips) into a share of the training clips, each at one of these SNRs in dB drawn under "
                 "--seed (e.g. 20,10; default: off)")
      ->delimiter(',')
      ->check(CLI::Range(-10.0, 60.0));
  au->add_option("--noise-share", audio.noise.share, "share of training clips (and of each shifted copy) given noise")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  add_common(au, kc);
  au->callback([] {
    if (!audio_embedding) audio.embedding_dim = 0;
    audio.train = options(kc);
    audio.noise.seed = kc.seed;
    audio.calibration = kc.calibration;
    audio.meta = metadata(kc);
    tr::KeywordTrainResult r;
    try {
      tr::ProgressBar bar(kc.epochs);
      r = tr::train_keywords(
          audio, [&](int e, int b, int n, double loss, double acc) { bar.update(e, b, n, loss, acc); },
          [](const std::string& line) { std::printf("%s\n", line.c_str()); });
    } catch (const model::CompileError& e) {
      throw CommandError(std::string("model compiler: ") + e.what());
    } catch (const std::runtime_error& e) {
      throw CommandError(e.what());
    }
    const auto shape = tr::feature_shape(r.front_end);
    std::printf("front-end %s: %dx%d features, output scale %.6g, zero point %d (computed in %.1f s)\n",
                audio.front_end.c_str(), shape.h, shape.w, static_cast<double>(r.front_end.output_scale),
                r.front_end.output_zero_point, r.feature_seconds);
    std::printf("trained ds-cnn (%d channels, %d blocks) on %zu clips, %d epochs, seed %llu in %.1f s\n",
                audio.net.channels, audio.net.blocks, r.folder.count(false), kc.epochs,
                static_cast<unsigned long long>(kc.seed), r.train_seconds);
    print_model(r.compiled, r.quant);
    if (audio.embedding_dim > 0) {
      std::printf(
          "%d-dimensional word embedding; test accuracy on %zu clips by nearest prototype, int8 (runtime) "
          "%.2f%%\n",
          audio.embedding_dim, r.folder.count(true), 100 * r.int8_accuracy());
      std::printf("measure enrollment with: tinyedge model eval %s --data DIR-OF-NEW-WORDS --enroll 5\n",
                  kc.output.c_str());
      write_outputs(
          kc, r.compiled, r.self_test,
          {"audio-embedding", "ds-cnn-embedding", kc.epochs, kc.seed, r.train_seconds, 0, r.int8_accuracy(), 0});
      return;
    }
    std::printf("test accuracy on %zu clips: float %.2f%%, int8 (runtime) %.2f%%, drop %.2f points\n",
                r.folder.count(true), 100 * r.float_accuracy, 100 * r.int8_accuracy(),
                100 * (r.float_accuracy - r.int8_accuracy()));
    write_outputs(kc, r.compiled, r.self_test,
                  {"audio", "ds-cnn", kc.epochs, kc.seed, r.train_seconds, r.float_accuracy, r.int8_accuracy(), 0});
  });

  // train motion (cmd_train_motion.cpp)
  static Common mc = defaults(30, 500, 32);
  auto* mo = add_motion_command(train);
  add_common(mo, mc);
  mo->callback([] {
    run_train_motion(options(mc), mc.calibration, metadata(mc),
                     [](const auto& m, const auto& g, const auto& r) { write_outputs(mc, m, g, r); });
  });

  // train text (cmd_train_text.cpp)
  static Common tc = defaults(20, 500, 32);
  tc.lr = 5e-3f;
  auto* te = add_text_command(train);
  add_common(te, tc);
  te->callback([] {
    run_train_text(options(tc), tc.calibration, metadata(tc),
                   [](const auto& m, const auto& g, const auto& r) { write_outputs(tc, m, g, r); });
  });
}

const CommandRegistration kTrain{kTrainOrder, &install};

}  // namespace
}  // namespace tinyedge::deploy
