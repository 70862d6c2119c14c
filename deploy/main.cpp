// tinyedge: the one CLI a user touches, from a .tflite or a data set to a fleet running it.
#include <exception>
#include <iostream>

#include "deploy/command_registry.h"

int main(int argc, char** argv) {
  CLI::App app{"TinyEdge: int8 models on microcontrollers, deployed and watched across a fleet", "tinyedge"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "tinyedge 0.1.0");
  tinyedge::deploy::install_all_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const tinyedge::deploy::CommandError& e) {
    std::cerr << "tinyedge: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "tinyedge: internal error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
