// `tinyedge data speech`: a keyword data set in the Speech Commands layout (DIR/<label>/*.wav,
// 1 s, 16 kHz mono 16-bit) made by speech synthesis, with no download. Each keyword is spoken by
// every voice at every speed and pitch, placed at a random time in the second, and mixed with
// generated background noise at each SNR; `_unknown_` holds other words by the same voices and
// `_silence_` background noise alone. The split is by voice: test voices are never heard in
// training (DIR/testing_list.txt lists the test files, DIR/manifest.json the voices per split).
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace tinyedge::speech {

struct SpeechDataOptions {
  std::vector<std::string> words;
  std::vector<std::string> unknown_words = {"bed", "bird",   "cat",    "dog",   "happy",  "house",   "tree",
                                            "wow", "sheila", "marvin", "learn", "follow", "forward", "visual"};
  std::vector<std::string> voices = {"en-us+m1",          "en-us+f2",      "en-gb+m3",          "en-gb+f3",
                                     "en-gb-scotland+m4", "en-gb-x-rp+f4", "en-gb-x-gbclan+m2", "en-gb-x-gbcwmd+f1",
                                     "en-029+m5",         "en-us+m7",      "en-gb+f5",          "en-gb-x-rp+m6"};
  int test_voices = 3;                        // how many voices (chosen by the seed) are held out for the test split
  std::vector<int> speeds = {120, 160, 200};  // words per minute
  std::vector<int> pitches = {30, 50, 70};
  std::vector<int> snrs_db = {20, 10, 5};
  int silence_clips = -1;  // -1: as many as one keyword has
  uint64_t seed = 1;
  int jobs = 4;  // espeak-ng processes at once
};

struct SpeechDataSummary {
  std::vector<std::string> train_voices, test_voices;
  size_t train_files = 0, test_files = 0;
};

// Checks the options; returns "" or what is wrong.
std::string check_options(const SpeechDataOptions& o);

// Writes the data set to `out` (which must not exist): everything goes to a sibling staging
// folder first and is renamed into place at the end, so a failure leaves nothing half-written.
// Throws std::runtime_error with the reason.
SpeechDataSummary make_speech_data(const SpeechDataOptions& o, const std::filesystem::path& out,
                                   const std::function<void(size_t done, size_t total)>& progress = {});

}  // namespace tinyedge::speech
