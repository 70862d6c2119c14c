// tinyedge model eval: runs an int8 .tem in the project's runtime over a test set (Fashion-MNIST
// -> accuracy + confusion matrix; vibration CSV -> ROC AUC of the reconstruction error) and plots it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "deploy/command_registry.h"
#include "deploy/train/runtime_eval.h"
#include "deploy/train/svg_plot.h"
#include "deploy/train/train_report.h"

namespace tinyedge::deploy {
namespace {

namespace tr = tinyedge::train;

struct EvalArgs {
  std::string model, data = "fashion-mnist", plot;
  int threads = 2;
  std::size_t limit = 0;
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

void print_confusion(const tr::ConfusionMatrix& cm, const tr::TemRunner& runner) {
  std::printf("confusion matrix (rows: true class, columns: predicted)\n%14s", "");
  for (int p = 0; p < cm.classes; ++p) std::printf("%6d", p);
  std::printf("   recall\n");
  for (int t = 0; t < cm.classes; ++t) {
    std::string name(runner.model().label(static_cast<std::size_t>(t)));
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
  std::printf("int8 accuracy (project runtime) on %zu test images: %.2f%%\n", test.count(), 100 * e.confusion.accuracy());
  if (const auto report = tr::read_report(a.model); report && report->kind == "image")
    std::printf("float accuracy (from %s): %.2f%%, float-to-int8 drop %.2f points\n",
                tr::report_path(a.model).c_str(), 100 * report->float_metric,
                100 * (report->float_metric - e.confusion.accuracy()));
  else
    std::printf("float accuracy unknown: no %s beside the model\n", tr::report_path(a.model).c_str());
  std::printf("runtime: %.1f us/inference (median, 1 thread)\n", us);
  print_confusion(e.confusion, runner);
  if (!a.plot.empty()) {
    std::vector<std::string> labels;
    for (std::size_t i = 0; i < runner.model().label_count(); ++i) labels.emplace_back(runner.model().label(i));
    write_text(a.plot, tr::confusion_matrix_svg(e.confusion, labels,
                                                std::string(runner.model().name()) + " int8, " +
                                                    std::to_string(test.count()) + " test images"));
  }
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
    std::printf("at the trained threshold %.6f: %lld/%lld faulty flagged, %lld/%lld normal flagged\n", report->threshold,
                static_cast<long long>(tp), static_cast<long long>(tp + fn), static_cast<long long>(fp),
                static_cast<long long>(fp + tn));
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
  eval->add_option("--data", a.data,
                   "\"fashion-mnist\" / an IDX directory (classifier) or a labelled vibration .csv (anomaly)")
      ->capture_default_str();
  eval->add_option("--plot", a.plot, "write an SVG: confusion matrix (classifier) or ROC curve (anomaly)");
  eval->add_option("--threads", a.threads, "evaluation threads")->capture_default_str()->check(CLI::Range(1, 64));
  eval->add_option("--limit", a.limit, "first N test images only (0 = all)");
  eval->callback([] {
    try {
      const auto blob = tr::read_file(a.model);
      if (std::filesystem::path(a.data).extension() == ".csv")
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
