// tinyedge data synth-vibration: labelled synthetic machine vibration for the anomaly demo and tests.
#include <cstdio>

#include "deploy/command_registry.h"
#include "deploy/train/vibration.h"

namespace tinyedge::deploy {
namespace {

void install(CLI::App& app) {
  auto* data = app.add_subcommand("data", "Make data sets");
  data->require_subcommand(1);
  static train::VibrationOptions o;
  static std::string out;
  auto* synth = data->add_subcommand(
      "synth-vibration", "Synthetic vibration windows (256 samples at 2048 Hz): normal machines and bearing faults, labelled");
  synth->add_option("-o,--output", out, "CSV to write (machine,label,s0..s255)")->required();
  synth->add_option("--machines", o.machines, "machines")->capture_default_str()->check(CLI::Range(1, 100000));
  synth->add_option("--windows", o.windows_per_machine, "windows per machine")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  synth->add_option("--faulty-fraction", o.faulty_fraction, "fraction of machines with a bearing fault")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  synth->add_option("--seed", o.seed, "random seed")->capture_default_str();
  synth->callback([] {
    train::VibrationSet set;
    try {
      set = train::synthesize_vibration(o);
      train::write_vibration_csv(set, out);
    } catch (const std::runtime_error& e) {
      throw CommandError(e.what());
    }
    std::size_t faulty = 0;
    for (auto l : set.label) faulty += l;
    std::printf("wrote %s: %zu windows from %d machines (%zu faulty windows)\n", out.c_str(), set.count(), o.machines,
                faulty);
  });
}

const CommandRegistration kData{"50-train-data", &install};

}  // namespace
}  // namespace tinyedge::deploy
