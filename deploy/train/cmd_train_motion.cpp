#include "deploy/train/cmd_train_motion.h"

#include <cstdio>

#include "deploy/command_registry.h"
#include "deploy/train/motion_pipeline.h"
#include "deploy/train/progress.h"

namespace tinyedge::deploy {
namespace {

namespace tr = tinyedge::train;

struct MotionArgs {
  tr::MotionTrainRequest req;
  std::string ram = "64K", flash = "256K";
};
MotionArgs args;

}  // namespace

CLI::App* add_motion_command(CLI::App* train) {
  auto& r = args.req;
  auto* cmd = train->add_subcommand(
      "motion",
      "Sensor-window classifier (1-D depthwise-separable CNN over raw windows) from a labelled CSV log: "
      "timestamp, axis columns, label. Windows overlap within each recording (a run of one label); the last fifth "
      "of each label's recordings is held out");
  cmd->add_option("--data", r.data, "CSV log (header: a timestamp column, axis columns, a label column)")->required();
  cmd->add_option("--time-column", r.columns.time,
                  "timestamp column (default: timestamp_ms, timestamp, time_ms, time or t)");
  cmd->add_option("--label-column", r.columns.label, "label column")->capture_default_str();
  cmd->add_option("--axes", r.columns.axes, "axis columns, in order (default: every other column)")->delimiter(',');
  cmd->add_option("--window", r.window, "samples per window")->capture_default_str()->check(CLI::Range(4, 4096));
  cmd->add_option("--stride", r.stride, "samples between window starts (overlap = window - stride)")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--arch", r.arch, "ds-cnn (depthwise-separable) or cnn")
      ->capture_default_str()
      ->check(CLI::IsMember({"ds-cnn", "cnn"}));
  cmd->add_option("--ram", args.ram, "RAM budget for the arena (picks width and depth)")->capture_default_str();
  cmd->add_option("--flash", args.flash, "flash budget for the .tem")->capture_default_str();
  cmd->add_option("--width", r.net_width, "stem channels (with --blocks: no budget search)")->check(CLI::Range(1, 256));
  cmd->add_option("--blocks", r.blocks, "blocks")->check(CLI::Range(1, 8));
  cmd->add_option("--eval-threads", r.threads, "evaluation threads")->capture_default_str()->check(CLI::Range(1, 64));
  return cmd;
}

void run_train_motion(const tr::TrainOptions& options, int calibration, const model::ModelMetadata& meta,
                      const WriteOutputs& write) {
  auto req = args.req;
  if ((req.net_width > 0) != (req.blocks > 0)) throw CommandError("--width and --blocks go together");
  req.train = options;
  req.calibration = calibration;
  req.meta = meta;
  tr::MotionTrainResult r;
  try {
    req.budget.ram_bytes = tr::parse_byte_size(args.ram);
    req.budget.flash_bytes = tr::parse_byte_size(args.flash);
    tr::ProgressBar bar(options.epochs);
    r = tr::train_motion(
        req, [&](int e, int b, int n, double loss, double acc) { bar.update(e, b, n, loss, acc); },
        [](const std::string& line) { std::printf("%s\n", line.c_str()); });
  } catch (const model::CompileError& e) {
    throw CommandError(std::string("model compiler: ") + e.what());
  } catch (const std::runtime_error& e) {
    throw CommandError(e.what());
  }
  std::printf("trained 1-D %s on %zu windows, %d epochs, seed %llu in %.1f s\n", req.arch.c_str(),
              r.windows.count(false), options.epochs, static_cast<unsigned long long>(options.seed), r.train_seconds);
  std::printf("model: %zu ops, %zu parameters, int8 weights+int32 biases %zu bytes, .tem %zu bytes, arena %u bytes\n",
              r.compiled.op_count, r.compiled.parameter_count, r.quant.weight_bytes(), r.compiled.tem.size(),
              r.compiled.arena_bytes);
  std::printf("test accuracy on %zu windows: float %.2f%%, int8 (runtime) %.2f%%, drop %.2f points\n",
              r.windows.count(true), 100 * r.float_accuracy, 100 * r.int8_accuracy(),
              100 * (r.float_accuracy - r.int8_accuracy()));
  write(r.compiled, r.self_test,
        {"motion", req.arch, options.epochs, options.seed, r.train_seconds, r.float_accuracy, r.int8_accuracy(), 0});
}

}  // namespace tinyedge::deploy
