// `tinyedge data synth-motion`: a synthetic gesture log (torch-free, so it lives in tinyedge).
#include <cstdio>
#include <string>

#include "deploy/command_registry.h"
#include "deploy/train/motion_windows.h"

namespace tinyedge::deploy {

namespace tr = tinyedge::train;

namespace {

void install_data(CLI::App& app) {
  auto* data = app.get_subcommand("data");
  static tr::GestureSynthOptions o;
  static std::string out;
  auto* cmd = data->add_subcommand(
      "synth-motion",
      "A SYNTHETIC accelerometer gesture log (idle, wave, circle, shake, tap; simulated people and devices), "
      "timestamp_ms,ax,ay,az,label in g: no real gesture set is packaged in Debian");
  cmd->add_option("-o,--output", out, "CSV to write")->required();
  cmd->add_option("--recordings", o.recordings_per_gesture, "recordings per gesture")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  cmd->add_option("--seconds", o.seconds_per_recording, "seconds per recording")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 600.0));
  cmd->add_option("--rate", o.rate_hz, "samples per second")->capture_default_str()->check(CLI::Range(5, 2000));
  cmd->add_option("--seed", o.seed, "random seed")->capture_default_str();
  cmd->callback([] {
    std::size_t rows = 0;
    try {
      rows = tr::write_synthetic_gestures(out, o);
    } catch (const std::runtime_error& e) {
      throw CommandError(e.what());
    }
    std::printf("wrote %s: %zu samples, %d recordings of each of 5 synthetic gestures at %d Hz\n", out.c_str(), rows,
                o.recordings_per_gesture, o.rate_hz);
  });
}

const CommandRegistration kData{"53-train-data-motion", &install_data};

}  // namespace
}  // namespace tinyedge::deploy
