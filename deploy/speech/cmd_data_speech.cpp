// tinyedge data speech: a keyword data set by speech synthesis (espeak-ng), Speech Commands layout.
#include <cstdio>
#include <string>
#include <vector>

#include "deploy/command_registry.h"
#include "deploy/speech/speech_dataset.h"

namespace tinyedge::deploy {
namespace {

void install(CLI::App& app) {
  const auto found = app.get_subcommands([](CLI::App* s) { return s->get_name() == "data"; });
  CLI::App* data = found.empty() ? app.add_subcommand("data", "Make data sets") : found.front();
  if (found.empty()) data->require_subcommand(1);
  static speech::SpeechDataOptions o;
  static std::string out;
  auto* cmd = data->add_subcommand(
      "speech",
      "Keyword data set by speech synthesis (espeak-ng): DIR/<word>/*.wav, _unknown_, _silence_, 1 s at 16 kHz, "
      "split by voice (testing_list.txt, manifest.json)");
  cmd->add_option("--words", o.words, "keywords, e.g. yes,no,up,down")->delimiter(',')->required();
  cmd->add_option("-o,--output", out, "folder to create (must not exist)")->required();
  cmd->add_option("--unknown-words", o.unknown_words, "other words for the _unknown_ class")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--voices", o.voices, "espeak-ng voices (language+variant)")->delimiter(',')->capture_default_str();
  cmd->add_option("--test-voices", o.test_voices, "voices held out for the test split (chosen by the seed)")
      ->capture_default_str();
  cmd->add_option("--speeds", o.speeds, "speaking rates, words per minute")->delimiter(',')->capture_default_str();
  cmd->add_option("--pitches", o.pitches, "pitches, 0..99")->delimiter(',')->capture_default_str();
  cmd->add_option("--snr", o.snrs_db, "signal-to-noise ratios of the mixed background noise, dB")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--silence", o.silence_clips, "_silence_ clips (-1: as many as one keyword has)")
      ->capture_default_str();
  cmd->add_option("--seed", o.seed, "seed: the same seed gives the same files")->capture_default_str();
  cmd->add_option("--jobs", o.jobs, "espeak-ng processes at once")->capture_default_str();
  cmd->callback([] {
    speech::SpeechDataSummary s;
    try {
      s = speech::make_speech_data(o, out, [](size_t done, size_t total) {
        if (done % 50 == 0 || done == total) std::fprintf(stderr, "\rspeech: %zu/%zu", done, total);
        if (done == total) std::fprintf(stderr, "\n");
      });
    } catch (const std::exception& e) {
      throw CommandError(e.what());
    }
    auto join = [](const std::vector<std::string>& v) {
      std::string r;
      for (const auto& x : v) r += (r.empty() ? "" : ",") + x;
      return r;
    };
    std::printf("wrote %s: %zu train files (voices %s), %zu test files (voices %s)\n", out.c_str(), s.train_files,
                join(s.train_voices).c_str(), s.test_files, join(s.test_voices).c_str());
  });
}

const CommandRegistration kSpeech{"52-data-speech", &install};

}  // namespace
}  // namespace tinyedge::deploy
