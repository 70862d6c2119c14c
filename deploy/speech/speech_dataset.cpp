#include "deploy/speech/speech_dataset.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <thread>

#include "deploy/speech/background_noise.h"
#include "deploy/speech/espeak.h"
#include "node_firmware/audio/wav_file.h"

namespace tinyedge::speech {
namespace {

namespace fs = std::filesystem;
constexpr size_t kClipSamples = 16000;  // one second at 16 kHz

struct ClipOut {
  std::string label;
  std::string file;  // relative: <label>/<name>.wav
  bool test = false;
  std::string voice;
};

// One espeak-ng call and the clips made from it (one per SNR).
struct Task {
  std::string label, text, voice;
  int speed = 0, pitch = 0;
  std::vector<int> snrs;
  bool test = false;
};

std::string file_safe(std::string s) {
  for (char& c : s) {
    if (c == '+' || c == ' ' || c == '\'') c = '-';
  }
  return s;
}

// The word's samples (trimmed of leading/trailing quiet) placed in one second at a seeded offset
// and peak level, with generated noise at `snr_db` dB below the word.
std::vector<int16_t> place_and_mix(const std::vector<int16_t>& speech, int snr_db, uint64_t seed) {
  int peak = 1;
  for (int16_t v : speech) peak = std::max(peak, std::abs(int{v}));
  size_t first = 0, last = speech.size();
  while (first < last && std::abs(int{speech[first]}) * 50 < peak) ++first;
  while (last > first && std::abs(int{speech[last - 1]}) * 50 < peak) --last;
  size_t len = last - first;
  if (len > kClipSamples) {  // slow speech longer than a second: keep its middle
    first += (len - kClipSamples) / 2;
    len = kClipSamples;
  }
  const uint64_t r1 = mix64(seed), r2 = mix64(r1), r3 = mix64(r2);
  const size_t offset = static_cast<size_t>(unit(r1) * static_cast<double>(kClipSamples - len + 1));
  const double peak_dbfs = -20.0 + 17.0 * unit(r2);  // -20 .. -3 dBFS
  const double gain = 32767.0 * std::pow(10.0, peak_dbfs / 20) / peak;
  std::vector<double> mix(kClipSamples, 0.0);
  double power = 0;
  for (size_t i = 0; i < len; ++i) {
    mix[offset + i] = speech[first + i] * gain;
    power += mix[offset + i] * mix[offset + i];
  }
  power /= std::max<size_t>(len, 1);
  const auto kind = static_cast<NoiseKind>(r3 % kNoiseKinds);
  const std::vector<double> noise = make_noise(kind, kClipSamples, mix64(r3));
  const double noise_rms = std::sqrt(power / std::pow(10.0, snr_db / 10.0));
  std::vector<int16_t> out(kClipSamples);
  for (size_t i = 0; i < kClipSamples; ++i) {
    out[i] = static_cast<int16_t>(std::lround(std::clamp(mix[i] + noise_rms * noise[i], -32768.0, 32767.0)));
  }
  return out;
}

std::vector<int16_t> silence_clip(uint64_t seed) {
  const uint64_t r = mix64(seed);
  if (r % 8 == 0) return std::vector<int16_t>(kClipSamples, 0);  // digital silence
  const auto kind = static_cast<NoiseKind>(mix64(r) % kNoiseKinds);
  const double rms = 32767.0 * std::pow(10.0, (-60.0 + 35.0 * unit(mix64(r + 1))) / 20);  // -60 .. -25 dBFS
  const std::vector<double> noise = make_noise(kind, kClipSamples, mix64(r + 2));
  std::vector<int16_t> out(kClipSamples);
  for (size_t i = 0; i < kClipSamples; ++i) {
    out[i] = static_cast<int16_t>(std::lround(std::clamp(rms * noise[i], -32768.0, 32767.0)));
  }
  return out;
}

void write_clip(const fs::path& root, const ClipOut& c, const std::vector<int16_t>& samples) {
  const std::string error = audio::write_wav_file(root / c.file, samples);
  if (!error.empty()) throw std::runtime_error(error);
}

template <typename T>
bool unique(const std::vector<T>& v) {
  return std::set<T>(v.begin(), v.end()).size() == v.size();
}

}  // namespace

std::string check_options(const SpeechDataOptions& o) {
  if (o.words.empty()) return "--words: give at least one keyword";
  for (const auto& w : o.words) {
    if (!valid_word(w)) return "--words: '" + w + "' is not a word (lower-case letters only)";
    if (w.front() == '_') return "--words: '" + w + "' is reserved";
    if (std::find(o.unknown_words.begin(), o.unknown_words.end(), w) != o.unknown_words.end()) {
      return "--words: '" + w + "' is also an unknown word (--unknown-words)";
    }
  }
  if (!unique(o.words)) return "--words: a keyword is listed twice";
  for (const auto& w : o.unknown_words) {
    if (!valid_word(w)) return "--unknown-words: '" + w + "' is not a word (lower-case letters only)";
  }
  if (o.voices.size() < 2) return "--voices: need at least two voices (one to train on, one to test with)";
  for (const auto& v : o.voices) {
    if (!valid_voice(v)) return "--voices: '" + v + "' is not an espeak-ng voice name";
  }
  if (!unique(o.voices)) return "--voices: a voice is listed twice";
  if (o.test_voices < 1 || o.test_voices >= static_cast<int>(o.voices.size())) {
    return "--test-voices: must leave at least one voice for each split (1.." + std::to_string(o.voices.size() - 1) +
           ")";
  }
  if (o.speeds.empty() || o.pitches.empty() || o.snrs_db.empty()) return "--speeds, --pitches, --snr: not empty";
  for (int s : o.speeds) {
    if (s < 80 || s > 450) return "--speeds: " + std::to_string(s) + " words per minute is outside 80..450";
  }
  for (int p : o.pitches) {
    if (p < 0 || p > 99) return "--pitches: " + std::to_string(p) + " is outside 0..99";
  }
  for (int s : o.snrs_db) {
    if (s < -10 || s > 60) return "--snr: " + std::to_string(s) + " dB is outside -10..60";
  }
  if (o.silence_clips < -1) return "--silence: a number of clips, or -1 for as many as a keyword";
  if (o.jobs < 1 || o.jobs > 32) return "--jobs: 1..32";
  return "";
}

SpeechDataSummary make_speech_data(const SpeechDataOptions& o, const fs::path& out,
                                   const std::function<void(size_t, size_t)>& progress) {
  if (const std::string problem = check_options(o); !problem.empty()) throw std::runtime_error(problem);
  if (fs::exists(out)) throw std::runtime_error(out.string() + " already exists: give a new folder");

  // The split: voices ordered by a seeded hash; the first test_voices are held out.
  std::vector<std::string> voices = o.voices;
  std::sort(voices.begin(), voices.end(),
            [&](const auto& a, const auto& b) { return hash_string(a, o.seed) < hash_string(b, o.seed); });
  SpeechDataSummary summary;
  summary.test_voices.assign(voices.begin(), voices.begin() + o.test_voices);
  summary.train_voices.assign(voices.begin() + o.test_voices, voices.end());
  std::sort(summary.test_voices.begin(), summary.test_voices.end());
  std::sort(summary.train_voices.begin(), summary.train_voices.end());
  auto is_test = [&](const std::string& v) {
    return std::find(summary.test_voices.begin(), summary.test_voices.end(), v) != summary.test_voices.end();
  };

  std::vector<Task> tasks;
  for (const auto& word : o.words) {
    for (const auto& voice : o.voices) {
      for (int speed : o.speeds) {
        for (int pitch : o.pitches) tasks.push_back({word, word, voice, speed, pitch, o.snrs_db, is_test(voice)});
      }
    }
  }
  for (const auto& word : o.unknown_words) {
    for (const auto& voice : o.voices) {
      const uint64_t h = hash_string("unknown/" + word + "/" + voice, o.seed);
      tasks.push_back({"_unknown_",
                       word,
                       voice,
                       o.speeds[h % o.speeds.size()],
                       o.pitches[mix64(h) % o.pitches.size()],
                       {o.snrs_db[mix64(h + 1) % o.snrs_db.size()]},
                       is_test(voice)});
    }
  }
  const size_t per_keyword = o.voices.size() * o.speeds.size() * o.pitches.size() * o.snrs_db.size();
  const size_t silences = o.silence_clips < 0 ? per_keyword : static_cast<size_t>(o.silence_clips);

  // Everything is written under a staging folder beside `out` and renamed into place at the end.
  const fs::path staging = out.parent_path() / (out.filename().string() + ".partial-" + std::to_string(::getpid()));
  fs::remove_all(staging);
  try {
    fs::create_directories(staging / "_scratch");
    for (const auto& w : o.words) fs::create_directories(staging / w);
    fs::create_directories(staging / "_unknown_");
    fs::create_directories(staging / "_silence_");

    std::vector<std::vector<ClipOut>> made(tasks.size() + silences);
    std::atomic<size_t> next{0}, done{0};
    std::mutex error_mutex;
    std::string error;
    const size_t total = tasks.size() + silences;
    auto worker = [&] {
      for (size_t i = next++; i < total; i = next++) {
        {
          std::lock_guard lock(error_mutex);
          if (!error.empty()) return;
        }
        try {
          if (i < tasks.size()) {
            const Task& t = tasks[i];
            const std::vector<int16_t> speech = speak({t.text, t.voice, t.speed, t.pitch}, staging / "_scratch");
            for (int snr : t.snrs) {
              ClipOut c{t.label, "", t.test, t.voice};
              const std::string stem = (t.label == "_unknown_" ? t.text + "_" : std::string()) + file_safe(t.voice) +
                                       "_" + std::to_string(t.speed) + "wpm_p" + std::to_string(t.pitch) + "_" +
                                       std::to_string(snr) + "db";
              c.file = t.label + "/" + file_safe(stem) + ".wav";
              write_clip(staging, c, place_and_mix(speech, snr, hash_string(c.file, o.seed)));
              made[i].push_back(c);
            }
          } else {
            const size_t k = i - tasks.size();
            ClipOut c{"_silence_", "_silence_/noise_" + std::to_string(k) + ".wav", false, ""};
            // Silence has no voice: a seeded share, the test voices' share, goes to the test split.
            c.test = unit(hash_string(c.file, o.seed)) < static_cast<double>(o.test_voices) / o.voices.size();
            write_clip(staging, c, silence_clip(hash_string(c.file, o.seed)));
            made[i].push_back(c);
          }
        } catch (const std::exception& e) {
          std::lock_guard lock(error_mutex);
          if (error.empty()) error = e.what();
          return;
        }
        if (progress) progress(++done, total);
      }
    };
    std::vector<std::thread> threads;
    for (int j = 0; j < o.jobs; ++j) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
    if (!error.empty()) throw std::runtime_error(error);
    fs::remove_all(staging / "_scratch");

    std::vector<std::string> testing;
    nlohmann::json counts = nlohmann::json::object();
    for (const auto& clips : made) {
      for (const auto& c : clips) {
        (c.test ? summary.test_files : summary.train_files)++;
        if (c.test) testing.push_back(c.file);
        if (!counts.contains(c.label)) counts[c.label] = {{"train", 0}, {"test", 0}};
        auto& n = counts[c.label][c.test ? "test" : "train"];
        n = n.get<int>() + 1;
      }
    }
    std::sort(testing.begin(), testing.end());
    {
      std::ofstream list(staging / "testing_list.txt");
      for (const auto& f : testing) list << f << '\n';
      if (!list) throw std::runtime_error("cannot write testing_list.txt");
    }
    nlohmann::json manifest = {
        {"format", "speech-commands"},
        {"sample_rate_hz", 16000},
        {"clip_samples", kClipSamples},
        {"seed", o.seed},
        {"words", o.words},
        {"unknown_words", o.unknown_words},
        {"voices", {{"train", summary.train_voices}, {"test", summary.test_voices}}},
        {"speeds_wpm", o.speeds},
        {"pitches", o.pitches},
        {"snrs_db", o.snrs_db},
        {"files", counts},
        {"test_list", "testing_list.txt"},
        {"synthesiser", "espeak-ng"},
    };
    {
      std::ofstream m(staging / "manifest.json");
      m << manifest.dump(2) << '\n';
      if (!m) throw std::runtime_error("cannot write manifest.json");
    }
    fs::rename(staging, out);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(staging, ignored);
    throw;
  }
  return summary;
}

}  // namespace tinyedge::speech
