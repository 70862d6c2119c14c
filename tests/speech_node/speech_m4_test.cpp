// The speech node on the emulated Cortex-M4 (qemu-system-arm -M mps2-an386 -icount shift=0): its
// microphone is words.raw in flash, or UART1 with a WAV's samples streamed in from the host; its
// front-end and model run on the M4. Its detections (label, score, audio time) must equal the host
// detector's on the same samples, bit for bit; the image's RAM must stay within the 48 KB kws
// budget. Prints RAM and instructions per second of audio.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "node_firmware/app/keyword_detector.h"
#include "node_firmware/app/runtime_engine.h"
#include "node_firmware/app/speech_model.h"
#include "node_firmware/audio/wav_file.h"
#include "node_firmware/runtime/model.h"

namespace tinyedge::app {
namespace {

namespace fs = std::filesystem;

std::string run(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

std::vector<uint8_t> read_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// The host detector, configured as the M4 image is (main.cpp), over the same samples.
std::vector<Detection> host_detections(const std::vector<uint8_t>& tem, const std::vector<int16_t>& samples) {
  std::vector<uint64_t> arena(128 * 1024 / 8), ram(11296 / 8);
  RuntimeEngine engine({reinterpret_cast<uint8_t*>(arena.data()), arena.size() * 8});
  EXPECT_EQ(engine.load(tem), runtime::Status::kOk);
  const SpeechModelCheck check = check_speech_model(engine.model(), {16000, ram.size() * 8});
  EXPECT_EQ(check.status, SpeechModelStatus::kOk) << to_string(check.status);
  DetectorConfig config;
  config.smoothing_ms = 100;
  config.refractory_ms = 1000;
  config.threshold = 200;
  config.ignored_labels = check.ignored_labels;
  KeywordDetector detector;
  EXPECT_EQ(
      detector.configure(check.front_end, config, engine, {reinterpret_cast<uint8_t*>(ram.data()), ram.size() * 8}),
      DetectorStatus::kOk);
  std::vector<Detection> found;
  std::span<const int16_t> rest(samples);
  while (!rest.empty()) {
    size_t consumed = 0;
    bool detected = false;
    Detection d;
    if (detector.push(rest, consumed, d, detected) != DetectorStatus::kOk) break;
    if (detected) found.push_back(d);
    rest = rest.subspan(consumed);
  }
  return found;
}

std::vector<int16_t> fixture_samples() {
  const auto raw = read_bytes(fs::path(TINYEDGE_SPEECH_FIXTURE) / "words.raw");
  std::vector<int16_t> samples(raw.size() / 2);
  for (size_t i = 0; i < samples.size(); ++i) samples[i] = static_cast<int16_t>(raw[2 * i] | (raw[2 * i + 1] << 8));
  return samples;
}

// `microphone_pcm`: empty for an image with its recording in flash; else the raw little-endian
// PCM file QEMU feeds into UART1 (the image's microphone line), whose samples are `samples`.
void check_image(const std::string& image, const std::string& model, size_t min_detections,
                 const std::vector<int16_t>& samples, const fs::path& microphone_pcm = {}) {
  const fs::path elf = fs::path(TINYEDGE_SPEECH_ELF_DIR) / (image + ".elf");
  const fs::path tem = fs::path(TINYEDGE_SPEECH_FIXTURE) / model;
  ASSERT_TRUE(fs::exists(elf)) << elf;
  const auto expected = host_detections(read_bytes(tem), samples);
  ASSERT_GE(expected.size(), min_detections);

  // UART0 (the bearer) is not connected; a pipe chardev reads <path>.in into UART1.
  std::string serial = "-serial null";
  if (!microphone_pcm.empty()) {
    const fs::path base = microphone_pcm.parent_path() / microphone_pcm.stem();
    ASSERT_EQ(microphone_pcm, fs::path(base.string() + ".in")) << "the PCM file must be named <base>.in";
    std::ofstream(base.string() + ".out").close();
    serial = "-chardev pipe,id=mic,path=" + base.string() + " -serial null -serial chardev:mic";
  }
  const std::string out =
      run("timeout 150 qemu-system-arm -M mps2-an386 -nographic -monitor none " + serial +
          " -icount shift=0 -semihosting-config enable=on,target=native -kernel " + elf.string() + " 2>&1");
  std::vector<Detection> m4;
  std::istringstream lines(out);
  std::string line;
  unsigned long long audio_ms = 0, inferences = 0, listening_ns = 0, ram_used = 0;
  unsigned long long mic_samples = 0, ring_full = 0, overruns = 0;
  bool mic_reported = false;
  while (std::getline(lines, line)) {
    unsigned label = 0, score = 0, at = 0;
    if (std::sscanf(line.c_str(), "tinyedge: detection label %u score %u audio_ms %u", &label, &score, &at) == 3) {
      m4.push_back({static_cast<uint16_t>(label), static_cast<uint8_t>(score), at});
    }
    std::sscanf(line.c_str(), "tinyedge: audio done: audio_ms %llu inferences %llu listening_ns %llu", &audio_ms,
                &inferences, &listening_ns);
    std::sscanf(line.c_str(), "tinyedge: mps2-an386 node, RAM used %llu", &ram_used);
    mic_reported |= std::sscanf(line.c_str(), "tinyedge: microphone: samples %llu ring_full %llu overruns %llu",
                                &mic_samples, &ring_full, &overruns) == 3;
  }
  if (!microphone_pcm.empty()) {
    ASSERT_TRUE(mic_reported) << image << " did not report its microphone's counters:\n" << out;
    EXPECT_EQ(mic_samples, samples.size()) << image << ": samples heard on UART1 against samples sent";
    EXPECT_EQ(overruns, 0u) << image << ": the UART dropped bytes";
    std::printf("%s: %llu samples over UART1; the audio ring (%zu samples) filled and held the sender %llu times\n",
                image.c_str(), mic_samples, size_t{1024}, ring_full);
  }
  ASSERT_EQ(audio_ms, samples.size() * 1000 / 16000) << image << " did not hear its recording to the end:\n" << out;
  ASSERT_EQ(m4.size(), expected.size()) << image << ":\n" << out;
  for (size_t i = 0; i < m4.size(); ++i) {
    EXPECT_EQ(m4[i].label, expected[i].label) << image << " detection " << i;
    EXPECT_EQ(m4[i].score, expected[i].score) << image << " detection " << i;
    EXPECT_EQ(m4[i].at_ms, expected[i].at_ms) << image << " detection " << i;
  }
  EXPECT_GT(ram_used, 0u);
  EXPECT_LE(ram_used, 49152u) << image << " RAM beyond the 48 KB kws budget";
  std::printf(
      "%s: RAM %llu of 49152 bytes; %llu inferences over %llu ms of audio; front-end + inference "
      "%.2f M instructions per second of audio (qemu -icount shift=0)\n",
      image.c_str(), ram_used, inferences, audio_ms,
      static_cast<double>(listening_ns) / 1e6 / (static_cast<double>(audio_ms) / 1000.0));
}

bool have_qemu() { return std::system("command -v qemu-system-arm > /dev/null") == 0; }

TEST(SpeechM4, ToneModelDetectionsEqualTheHosts) {
  if (!have_qemu()) {
    if (const char* ci = std::getenv("CI"); ci && std::string(ci) == "true") FAIL() << "qemu-system-arm missing";
    GTEST_SKIP() << "qemu-system-arm not installed (scripts/setup installs it)";
  }
  check_image("fw-speech-tones", "tones.tem", 2, fixture_samples());
}

// The microphone on UART1 (as a board's I2S/PDM microphone feeds DMA), the bearer on UART0: a WAV
// read on the host is streamed into the node, which must detect what the host detector detects in
// the same samples, hear every sample and count (never hide) the times its ring held the sender.
TEST(SpeechM4, UartMicrophoneStreamedFromAWavDetectsAsTheHostDoes) {
  if (!have_qemu()) {
    if (const char* ci = std::getenv("CI"); ci && std::string(ci) == "true") FAIL() << "qemu-system-arm missing";
    GTEST_SKIP() << "qemu-system-arm not installed (scripts/setup installs it)";
  }
  const fs::path dir = fs::temp_directory_path() / ("tinyedge_speech_uart_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  // The recording's first 1.3 s (its first word): QEMU hands UART1 one byte per main-loop turn,
  // about 10 kB/s of wall time on a loaded machine, so the whole 4.5 s took 20 s here.
  std::vector<int16_t> head = fixture_samples();
  head.resize(16000 * 13 / 10);
  const fs::path wav = dir / "words.wav";
  ASSERT_EQ(audio::write_wav_file(wav, head, 16000), "");
  const audio::WavClip clip = audio::read_wav_file(wav, 16000);
  ASSERT_TRUE(clip.ok()) << clip.error;
  {
    std::ofstream pcm(dir / "mic.in", std::ios::binary);
    for (const int16_t v : clip.samples) {
      const auto u = static_cast<uint16_t>(v);
      const char bytes[2] = {static_cast<char>(u & 0xff), static_cast<char>(u >> 8)};
      pcm.write(bytes, 2);
    }
  }
  check_image("fw-speech-tones-uart", "tones.tem", 1, clip.samples, dir / "mic.in");
  fs::remove_all(dir);
}

TEST(SpeechM4, KwsReferenceModelRunsWithinTheKwsBudgetAndMatchesTheHost) {
  if (!fs::exists(fs::path(TINYEDGE_SPEECH_FIXTURE) / "kws_speech.tem")) {
    if (const char* ci = std::getenv("CI"); ci && std::string(ci) == "true") FAIL() << "kws_speech.tem not built";
    GTEST_SKIP() << "kws_ref_model not found (needs ../shared/models)";
  }
  if (!have_qemu()) GTEST_SKIP() << "qemu-system-arm not installed";
  check_image("fw-speech-kws", "kws_speech.tem", 0, fixture_samples());
}

}  // namespace
}  // namespace tinyedge::app
