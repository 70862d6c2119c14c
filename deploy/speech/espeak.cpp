#include "deploy/speech/espeak.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <atomic>
#include <stdexcept>

#include "deploy/speech/resample.h"
#include "node_firmware/audio/wav_file.h"

extern char** environ;

namespace tinyedge::speech {
namespace {

constexpr uint32_t kEspeakRate = 22050;

}  // namespace

bool valid_word(const std::string& text) {
  if (text.empty() || text.size() > 40) return false;
  for (const char c : text) {
    if (!((c >= 'a' && c <= 'z') || c == '\'' || c == ' ')) return false;
  }
  return true;
}

bool valid_voice(const std::string& voice) {
  if (voice.empty() || voice.size() > 40) return false;
  for (const char c : voice) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::vector<int16_t> speak(const Utterance& u, const std::filesystem::path& scratch_dir) {
  if (!valid_word(u.text)) throw std::runtime_error("word '" + u.text + "': use lower-case letters only");
  if (!valid_voice(u.voice)) throw std::runtime_error("voice '" + u.voice + "' is not an espeak-ng voice name");
  static std::atomic<uint64_t> counter{0};
  const std::filesystem::path wav = scratch_dir / ("espeak_" + std::to_string(counter++) + ".wav");
  // Spawned with an argument vector (no shell), writing a complete WAV file (-w), not a stream.
  std::vector<std::string> args = {
      "espeak-ng", "-v",         u.voice, "-s",  std::to_string(u.words_per_minute), "-p", std::to_string(u.pitch),
      "-w",        wav.string(), "--",    u.text};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, "espeak-ng", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot run espeak-ng (install the Debian package espeak-ng)");
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::filesystem::remove(wav);
    throw std::runtime_error("espeak-ng failed for voice '" + u.voice + "' saying '" + u.text +
                             "' (is the voice installed? espeak-ng --voices)");
  }
  const audio::WavClip clip = audio::read_wav_file(wav, kEspeakRate);
  std::filesystem::remove(wav);
  if (!clip.ok()) throw std::runtime_error("espeak-ng output unreadable: " + clip.error);
  if (clip.samples.empty()) throw std::runtime_error("espeak-ng produced no audio for '" + u.text + "'");
  return resample(clip.samples, kEspeakRate, 16000);
}

}  // namespace tinyedge::speech
