#include "deploy/command_registry.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace tinyedge::deploy {
namespace {

std::vector<std::pair<std::string, CommandInstaller>>& registry() {
  static std::vector<std::pair<std::string, CommandInstaller>> installers;
  return installers;
}

}  // namespace

CommandRegistration::CommandRegistration(const char* order, CommandInstaller installer) {
  registry().emplace_back(order, installer);
}

void install_all_commands(CLI::App& app) {
  auto& installers = registry();
  std::sort(installers.begin(), installers.end());
  for (const auto& [order, install] : installers) install(app);
}

}  // namespace tinyedge::deploy
