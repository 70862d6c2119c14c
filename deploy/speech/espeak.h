// Speech synthesis with the espeak-ng program (Debian package espeak-ng): one word, one voice,
// one speed and pitch, as 16 kHz mono samples.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tinyedge::speech {

struct Utterance {
  std::string text;   // letters, apostrophes and spaces only (checked)
  std::string voice;  // espeak-ng voice, e.g. "en-us+f3" (checked: letters, digits, + - _)
  int words_per_minute = 160;
  int pitch = 50;  // 0..99
};

// Throws std::runtime_error naming the voice/word when espeak-ng is missing or fails.
std::vector<int16_t> speak(const Utterance& u, const std::filesystem::path& scratch_dir);

bool valid_word(const std::string& text);
bool valid_voice(const std::string& voice);

}  // namespace tinyedge::speech
