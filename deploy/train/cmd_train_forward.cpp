// `tinyedge train ...` in the tinyedge executable: it hands the whole command line to
// tinyedge-train, the one executable that links libtorch, as git runs its subcommands. Loading
// libtorch takes seconds, so every other command (keys, package, fleet, model import ...) starts
// without it and only training pays for it.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "deploy/command_registry.h"
#include "deploy/train/train_command.h"

namespace tinyedge::deploy {
namespace {

namespace fs = std::filesystem;

// tinyedge-train lies at the same path relative to tinyedge in the build tree and installed
// (TINYEDGE_TRAINER_FROM_BIN: bindir -> libexecdir/tinyedge, e.g. ../libexec/tinyedge).
fs::path trainer_path() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw CommandError("train: cannot find this executable's path (/proc/self/exe): " + ec.message());
  return (self.parent_path() / TINYEDGE_TRAINER_FROM_BIN / "tinyedge-train").lexically_normal();
}

[[noreturn]] void exec_trainer(const std::vector<std::string>& args) {
  const fs::path trainer = trainer_path();
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execv(trainer.c_str(), argv.data());
  throw CommandError("train: cannot run the trainer " + trainer.string() + ": " + std::strerror(errno) +
                     " (it is installed with tinyedge unless the build had TINYEDGE_TRAIN=OFF)");
}

void install(CLI::App& app) {
  auto* train = app.add_subcommand("train", kTrainDescription);
  // Every argument after `train`, --help included, is the trainer's to parse.
  train->prefix_command();
  train->set_help_flag();
  train->callback([train] {
    std::vector<std::string> args = {"tinyedge", "train"};
    for (const std::string& a : train->remaining()) args.push_back(a);
    exec_trainer(args);
  });
}

const CommandRegistration kTrainForward{kTrainOrder, &install};

}  // namespace
}  // namespace tinyedge::deploy
