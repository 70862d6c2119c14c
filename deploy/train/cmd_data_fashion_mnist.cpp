// tinyedge data fashion-mnist: a Fashion-MNIST split as the raw int8 input tensors that
// `tinyedge train image` models take (q = pixel - 128), back to back, for a node's camera
// (`tinyedge-node --samples`), with the true labels kept aside in a CSV keyed by sample id.
#include <cstdio>
#include <fstream>
#include <string>

#include "deploy/command_registry.h"
#include "deploy/train/fashion_mnist.h"

namespace tinyedge::deploy {
namespace {

struct ExportArgs {
  std::string data = "fashion-mnist";
  std::string split = "test";
  std::string output;
  std::string labels_out;
  std::size_t limit = 0;
};

void export_split(const ExportArgs& a) {
  train::ImageSet set;
  try {
    set = train::load_fashion_mnist(train::resolve_fashion_mnist(a.data), a.split == "train");
  } catch (const std::runtime_error& e) {
    throw CommandError(e.what());
  }
  if (a.limit > 0) set = set.head(a.limit);

  std::ofstream samples(a.output, std::ios::binary | std::ios::trunc);
  std::ofstream truth(a.labels_out, std::ios::trunc);
  if (!samples) throw CommandError("cannot write " + a.output);
  if (!truth) throw CommandError("cannot write " + a.labels_out);
  truth << "sample_id,label,name\n";
  const auto& names = train::fashion_mnist_labels();
  for (std::size_t i = 0; i < set.count(); ++i) {
    for (std::uint8_t pixel : set.image(i)) samples.put(static_cast<char>(static_cast<int>(pixel) - 128));
    // Sample ids are 1-based: a node reports record i as sample i + 1 (0 means "no sample id").
    truth << i + 1 << ',' << int{set.labels[i]} << ',' << names.at(set.labels[i]) << '\n';
  }
  samples.close();
  truth.close();
  if (!samples || !truth) throw CommandError("writing " + a.output + " or " + a.labels_out + " failed");
  std::printf("wrote %s: %zu images of %dx%d as int8 (pixel - 128); labels in %s\n", a.output.c_str(), set.count(),
              set.rows, set.cols, a.labels_out.c_str());
}

void install(CLI::App& app) {
  auto* data = app.get_subcommand("data");
  static ExportArgs args;
  auto* cmd = data->add_subcommand("fashion-mnist",
                                   "Export a Fashion-MNIST split as raw int8 model inputs plus a CSV of true labels");
  cmd->add_option("--data", args.data, "\"fashion-mnist\" (Debian's dataset-fashion-mnist) or a directory of IDX files")
      ->capture_default_str();
  cmd->add_option("--split", args.split, "test or train")->capture_default_str()->check(CLI::IsMember({"test", "train"}));
  cmd->add_option("-o,--output", args.output, "Raw int8 tensors, 784 bytes each, back to back")->required();
  cmd->add_option("--labels-out", args.labels_out, "CSV: sample_id,label,name")->required();
  cmd->add_option("--limit", args.limit, "First N images only (0 = all)");
  cmd->callback([] { export_split(args); });
}

// After "50-train-data", which creates the `data` command.
const CommandRegistration kExport{"51-train-data-fashion-mnist", &install};

}  // namespace
}  // namespace tinyedge::deploy
