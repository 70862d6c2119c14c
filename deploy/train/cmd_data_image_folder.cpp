// tinyedge data image-folder: Fashion-MNIST (Debian's dataset-fashion-mnist) written out as a
// folder of labelled PNG files, DIR/<label>/<split>_<index>.png, with its own test images listed in
// DIR/testing_list.txt: a real image set in the layout `train image --data DIR` takes from users.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "deploy/command_registry.h"
#include "deploy/train/fashion_mnist.h"
#include "node_firmware/camera/image_file.h"

namespace tinyedge::deploy {
namespace {

namespace fs = std::filesystem;

struct FolderExport {
  std::string data = "fashion-mnist", output;
  std::vector<std::string> classes;
  std::size_t train_per_class = 500, test_per_class = 100;
};

// Fashion-MNIST's class names as folder names ("T-shirt/top" -> "T-shirt_top").
std::string folder_name(std::string label) {
  for (auto& c : label)
    if (c == '/' || c == ' ') c = '_';
  return label;
}

void export_folder(const FolderExport& a) {
  if (fs::exists(a.output)) throw CommandError(a.output + " exists already: give a new folder");
  const auto dir = train::resolve_fashion_mnist(a.data);
  const auto& names = train::fashion_mnist_labels();
  std::vector<int> wanted;
  for (std::size_t c = 0; c < names.size(); ++c) {
    const bool listed =
        a.classes.empty() || std::find(a.classes.begin(), a.classes.end(), folder_name(names[c])) != a.classes.end();
    if (listed) wanted.push_back(static_cast<int>(c));
  }
  for (const auto& c : a.classes) {
    bool known = false;
    for (const auto& n : names) known |= folder_name(n) == c;
    if (!known) throw CommandError("--classes: no Fashion-MNIST class '" + c + "'");
  }
  const fs::path tmp = a.output + ".partial";
  fs::remove_all(tmp);
  std::ofstream list;
  std::size_t written = 0;
  try {
    for (bool train_split : {true, false}) {
      const auto set = train::load_fashion_mnist(dir, train_split);
      std::map<int, std::size_t> taken;
      const std::size_t limit = train_split ? a.train_per_class : a.test_per_class;
      for (std::size_t i = 0; i < set.count(); ++i) {
        const int label = set.labels[i];
        if (std::find(wanted.begin(), wanted.end(), label) == wanted.end() || taken[label] >= limit) continue;
        ++taken[label];
        const auto name = folder_name(names[static_cast<std::size_t>(label)]);
        const std::string file = std::string(train_split ? "train_" : "test_") + std::to_string(i) + ".png";
        fs::create_directories(tmp / name);
        const auto px = set.image(i);
        camera::write_png(tmp / name / file,
                          {{static_cast<std::uint32_t>(set.cols), static_cast<std::uint32_t>(set.rows), 1},
                           std::vector<std::uint8_t>(px.begin(), px.end())});
        if (!train_split) {
          if (!list.is_open()) list.open(tmp / "testing_list.txt");
          list << name << '/' << file << '\n';
        }
        ++written;
      }
    }
    list.close();
    if (!list) throw std::runtime_error("cannot write " + (tmp / "testing_list.txt").string());
    fs::rename(tmp, a.output);
  } catch (const std::exception& e) {
    fs::remove_all(tmp);
    throw CommandError(e.what());
  }
  std::printf("wrote %s: %zu PNG images of %zu classes (Fashion-MNIST test images listed in testing_list.txt)\n",
              a.output.c_str(), written, wanted.size());
}

void install(CLI::App& app) {
  auto* data = app.get_subcommand("data");
  static FolderExport a;
  auto* cmd = data->add_subcommand(
      "image-folder", "Write Fashion-MNIST as a folder of labelled PNGs (DIR/<label>/*.png + testing_list.txt)");
  cmd->add_option("--data", a.data, "\"fashion-mnist\" (Debian's dataset-fashion-mnist) or a directory of IDX files")
      ->capture_default_str();
  cmd->add_option("-o,--output", a.output, "folder to create")->required();
  cmd->add_option("--classes", a.classes, "classes to write (folder names, e.g. Trouser,Sneaker; default all)")
      ->delimiter(',');
  cmd->add_option("--train-per-class", a.train_per_class, "training images per class")->capture_default_str();
  cmd->add_option("--test-per-class", a.test_per_class, "test images per class")->capture_default_str();
  cmd->callback([] { export_folder(a); });
}

const CommandRegistration kExport{"52-train-data-image-folder", &install};

}  // namespace
}  // namespace tinyedge::deploy
