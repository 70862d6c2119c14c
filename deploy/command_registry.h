// Each area of the CLI (model, keys/package, train, fleet) lives in its own folder under deploy/
// and registers its subcommands here, so adding a command never touches main.cpp.
#pragma once
#include <CLI/CLI.hpp>

#include <stdexcept>
#include <string>

namespace tinyedge::deploy {

// A user-facing failure: printed as "tinyedge: <message>", exit status 1.
class CommandError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using CommandInstaller = void (*)(CLI::App& app);

// Define one at namespace scope in a command file: `const CommandRegistration kModel{"10-model", &install};`
// Installers run in `order` order, which is the order `tinyedge --help` lists them.
struct CommandRegistration {
  CommandRegistration(const char* order, CommandInstaller installer);
};

void install_all_commands(CLI::App& app);

}  // namespace tinyedge::deploy
