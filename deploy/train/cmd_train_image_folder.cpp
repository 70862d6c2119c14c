#include "deploy/train/cmd_train_image_folder.h"

#include <cstdio>

#include "deploy/command_registry.h"
#include "deploy/train/image_folder_pipeline.h"
#include "deploy/train/progress.h"

namespace tinyedge::deploy {
namespace {

namespace tr = tinyedge::train;

struct FolderArgs {
  std::string size = "32x32";
  bool rgb = false;
  std::string ram = "64K", flash = "256K";
  int width = 0, blocks = 0, test_percent = 20, threads = 2;
  bool no_flip = false;
  int shift = -1;
  float brightness = 0.2f;
};
FolderArgs args;

void parse_size(const std::string& s, int& h, int& w) {
  const auto x = s.find('x');
  try {
    std::size_t used = 0;
    if (x == std::string::npos) {
      h = w = std::stoi(s, &used);
      if (used != s.size()) throw std::invalid_argument(s);
    } else {
      w = std::stoi(s.substr(0, x), &used);
      if (used != x) throw std::invalid_argument(s);
      h = std::stoi(s.substr(x + 1), &used);
      if (used != s.size() - x - 1) throw std::invalid_argument(s);
    }
  } catch (const std::exception&) {
    throw CommandError("--size " + s + ": expected WIDTHxHEIGHT (e.g. 32x32) or one number");
  }
  if (h < 8 || w < 8 || h > 512 || w > 512) throw CommandError("--size " + s + ": each side must be within 8..512");
}

}  // namespace

void add_image_folder_options(CLI::App* img) {
  img->add_option("--size", args.size, "image folders: model input WIDTHxHEIGHT (images are resized to it)")
      ->capture_default_str();
  img->add_flag("--rgb", args.rgb, "image folders: 3-channel RGB input (default: grayscale)");
  img->add_option("--ram", args.ram, "image folders: RAM budget for the arena (picks width and depth)")
      ->capture_default_str();
  img->add_option("--flash", args.flash, "image folders: flash budget for the .tem")->capture_default_str();
  img->add_option("--width", args.width, "image folders: stem channels (with --blocks: no budget search)")
      ->check(CLI::Range(1, 256));
  img->add_option("--blocks", args.blocks, "image folders: depthwise-separable blocks / conv stages")
      ->check(CLI::Range(1, 8));
  img->add_option("--test-percent", args.test_percent,
                  "image folders without testing_list.txt: held-out share (FNV-1a hash of the file name)")
      ->capture_default_str()
      ->check(CLI::Range(1, 99));
  img->add_flag("--no-flip", args.no_flip, "image folders: no left-right mirroring in augmentation");
  img->add_option("--shift", args.shift, "image folders: augmentation shift in pixels (-1: an eighth of the side)")
      ->capture_default_str()
      ->check(CLI::Range(-1, 64));
  img->add_option("--brightness", args.brightness, "image folders: augmentation brightness factor range +-B")
      ->capture_default_str()
      ->check(CLI::Range(0.0f, 0.9f));
  img->add_option("--eval-threads", args.threads, "image folders: threads for decoding and evaluation")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
}

bool is_image_folder_data(const std::string& data) { return tr::is_image_folder(data); }

void run_train_image_folder(const std::string& data, const std::string& arch, const tr::TrainOptions& options,
                            int calibration, const model::ModelMetadata& meta, const WriteOutputs& write) {
  tr::ImageFolderTrainRequest req;
  req.data = data;
  req.arch = arch == "small-cnn" ? "ds-cnn" : arch;
  if (req.arch != "ds-cnn" && req.arch != "cnn")
    throw CommandError("--arch " + arch + " is for Fashion-MNIST; image folders take ds-cnn (default) or cnn");
  parse_size(args.size, req.height, req.width);
  req.rgb = args.rgb;
  if ((args.width > 0) != (args.blocks > 0)) throw CommandError("--width and --blocks go together");
  req.net_width = args.width;
  req.blocks = args.blocks;
  req.test_percent = args.test_percent;
  req.augment.flip = !args.no_flip;
  req.augment.shift = args.shift;
  req.augment.brightness = args.brightness;
  req.train = options;
  req.calibration = calibration;
  req.threads = args.threads;
  req.meta = meta;
  tr::ImageFolderTrainResult r;
  try {
    req.budget.ram_bytes = tr::parse_byte_size(args.ram);
    req.budget.flash_bytes = tr::parse_byte_size(args.flash);
    tr::ProgressBar bar(options.epochs);
    r = tr::train_image_folder(
        req, [&](int e, int b, int n, double loss, double acc) { bar.update(e, b, n, loss, acc); },
        [](const std::string& line) { std::printf("%s\n", line.c_str()); });
  } catch (const model::CompileError& e) {
    throw CommandError(std::string("model compiler: ") + e.what());
  } catch (const std::runtime_error& e) {
    throw CommandError(e.what());
  }
  std::printf("trained %s on %zu images, %d epochs, seed %llu in %.1f s\n", req.arch.c_str(), r.data.count(false),
              options.epochs, static_cast<unsigned long long>(options.seed), r.train_seconds);
  std::printf("model: %zu ops, %zu parameters, int8 weights+int32 biases %zu bytes, .tem %zu bytes, arena %u bytes\n",
              r.compiled.op_count, r.compiled.parameter_count, r.quant.weight_bytes(), r.compiled.tem.size(),
              r.compiled.arena_bytes);
  std::printf("test accuracy on %zu images: float %.2f%%, int8 (runtime) %.2f%%, drop %.2f points\n",
              r.data.count(true), 100 * r.float_accuracy, 100 * r.int8_accuracy(),
              100 * (r.float_accuracy - r.int8_accuracy()));
  write(r.compiled, r.self_test,
        {"image", req.arch, options.epochs, options.seed, r.train_seconds, r.float_accuracy, r.int8_accuracy(), 0});
}

}  // namespace tinyedge::deploy
