// The speech node on the emulated Cortex-M4 (qemu-system-arm -M mps2-an386 -icount shift=0): its
// microphone is words.raw in flash, or UART1 with a WAV's samples streamed in from the host; its
// front-end and model run on the M4. Its detections (label, score, audio time) must equal the host
// detector's on the same samples, bit for bit; the image's RAM must stay within the 48 KB kws
// budget. Prints RAM and instructions per second of audio. The enrolling image learns a word over
// its UART0 bearer from the enrollment recording in flash, answers as the host node would, keeps
// the word in its flash file across a restart and detects it by its enrolled index; it takes a
// word another node learned when the share is signed with the fleet key its image trusts.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "node_firmware/app/enroll_service.h"
#include "node_firmware/app/keyword_detector.h"
#include "node_firmware/app/prototype_scorer.h"
#include "node_firmware/app/recording_examples.h"
#include "node_firmware/app/runtime_engine.h"
#include "node_firmware/app/speech_model.h"
#include "node_firmware/audio/wav_file.h"
#include "node_firmware/runtime/model.h"
#include "ota/signing_key.h"
#include "tests/qemu/qemu_node.h"
#include "tests/speech_node/signed_share.h"
#include "tests/speech_node/word_model.h"

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
// Every detection the detector makes over the samples, fed as a microphone would hand them over.
std::vector<Detection> detect_all(KeywordDetector& detector, std::span<const int16_t> samples) {
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
  return detect_all(detector, samples);
}

// A raw recording of the fixture: 16-bit little-endian samples.
std::vector<int16_t> raw_samples(const fs::path& path) {
  const auto raw = read_bytes(path);
  std::vector<int16_t> samples(raw.size() / 2);
  for (size_t i = 0; i < samples.size(); ++i) samples[i] = static_cast<int16_t>(raw[2 * i] | (raw[2 * i + 1] << 8));
  return samples;
}

std::vector<int16_t> fixture_samples() { return raw_samples(fs::path(TINYEDGE_SPEECH_FIXTURE) / "words.raw"); }

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

// The host node's enrollment path (the same EnrollService, Enroller, scorer and recording
// examples with the default EnrollConfig, as the M4 image's main.cpp wires them) over the same
// model and recording: what the M4's EnrollmentStatus must equal, and the host detector with the
// enrolled class whose detections the M4's must equal.
struct HostEnrollingNode {
  struct Recording final : EnrollmentRecordings {
    std::span<const int16_t> recording(std::string_view) override { return samples; }
    std::vector<int16_t> samples;
  };
  std::vector<uint8_t> tem;
  std::vector<uint64_t> arena = std::vector<uint64_t>(16 * 1024 / 8), workspace = std::vector<uint64_t>(5120 / 8);
  std::vector<uint64_t> detector_ram = std::vector<uint64_t>(11296 / 8);
  std::vector<int8_t> examples = std::vector<int8_t>(1600);
  std::vector<uint8_t> flash_bytes = std::vector<uint8_t>(16384, 0xFF);
  RuntimeEngine engine{{reinterpret_cast<uint8_t*>(arena.data()), arena.size() * 8}};
  MemoryFlash flash{flash_bytes, 4096, 4};
  enroll::ClassTable table{flash, 0, flash_bytes.size()};
  enroll::Enroller enroller{table, enroll::EnrollConfig{}};
  PrototypeScorer scorer{enroller, enroll::EnrollConfig{}.max_classes};
  Recording recording;
  RecordingExamples source{recording, {reinterpret_cast<uint8_t*>(workspace.data()), workspace.size() * 8}};
  EnrollService service{enroller, source, examples};
  SpeechModelCheck check;

  HostEnrollingNode(std::vector<uint8_t> model, std::vector<int16_t> enrollment_recording) : tem(std::move(model)) {
    recording.samples = std::move(enrollment_recording);
    EXPECT_EQ(table.mount(), enroll::EnrollStatus::kOk);
    EXPECT_EQ(engine.load(tem), runtime::Status::kOk);
    check = check_speech_model(engine.model(), {16000, detector_ram.size() * 8});
    EXPECT_EQ(check.status, SpeechModelStatus::kOk) << to_string(check.status);
    // The image gives enrollment the same workspace and example buffer (its variant's last fields).
    EXPECT_LE(audio::workspace_bytes(check.front_end), workspace.size() * 8)
        << "the front-end's workspace does not fit the enrolling image's";
    EXPECT_LE(enroll::kMaxExamples * engine.input().size(), examples.size())
        << "ten examples do not fit the enrolling image's example buffer";
    EXPECT_TRUE(scorer.bind(engine)) << enroll::to_string(scorer.last_status());
    source.set_front_end(check.front_end);
    service.set_model(&scorer);
  }
  tinyedge_v1_EnrollmentStatus handle(const tinyedge_v1_EnrollCommand& command) {
    tinyedge_v1_EnrollmentStatus status;
    service.handle(command, status);
    return status;
  }
  std::vector<Detection> detections(const std::vector<int16_t>& samples) {
    DetectorConfig config;
    config.smoothing_ms = 100;
    config.refractory_ms = 1000;
    config.threshold = 200;
    config.ignored_labels = check.ignored_labels | (1u << scorer.unknown_slot());
    KeywordDetector detector;
    EXPECT_EQ(detector.configure(check.front_end, config, scorer,
                                 {reinterpret_cast<uint8_t*>(detector_ram.data()), detector_ram.size() * 8}),
              DetectorStatus::kOk);
    return detect_all(detector, samples);
  }
};

tinyedge_v1_EnrollCommand enroll_command(const char* label, uint32_t examples) {
  tinyedge_v1_EnrollCommand command = tinyedge_v1_EnrollCommand_init_zero;
  command.action = tinyedge_v1_EnrollCommand_Action_START;
  std::strncpy(command.label, label, sizeof command.label - 1);
  command.examples = examples;
  return command;
}

// Sends `down` to the node over UART0 and waits for its EnrollmentStatus.
std::optional<tinyedge_v1_EnrollmentStatus> answer_over_uart(qemu_test::QemuNode& node,
                                                             const tinyedge_v1_Downlink& down) {
  node.send(down);
  const auto deadline = qemu_test::Clock::now() + std::chrono::seconds(30);
  while (auto up = node.next_uplink(deadline))
    if (up->which_payload == tinyedge_v1_Uplink_enrollment_status_tag) return up->payload.enrollment_status;
  return std::nullopt;
}

std::optional<tinyedge_v1_EnrollmentStatus> enroll_over_uart(qemu_test::QemuNode& node,
                                                             const tinyedge_v1_EnrollCommand& command) {
  tinyedge_v1_Downlink down = tinyedge_v1_Downlink_init_zero;
  down.which_payload = tinyedge_v1_Downlink_enroll_tag;
  down.payload.enroll = command;
  return answer_over_uart(node, down);
}

std::optional<tinyedge_v1_EnrollmentStatus> share_over_uart(qemu_test::QemuNode& node,
                                                            const tinyedge_v1_EnrollShare& share) {
  tinyedge_v1_Downlink down = tinyedge_v1_Downlink_init_zero;
  down.which_payload = tinyedge_v1_Downlink_enroll_share_tag;
  down.payload.enroll_share = share;
  return answer_over_uart(node, down);
}

// The fleet's package signing key the test images trust (tests/qemu made it with `tinyedge keys
// generate`; the images build in its public half).
std::optional<ota::SigningKey> qemu_fleet_key() {
#ifdef TINYEDGE_QEMU_FLEET_KEY
  std::ifstream in(TINYEDGE_QEMU_FLEET_KEY);
  std::stringstream pem;
  pem << in.rdbuf();
  if (in) return ota::SigningKey::from_pem(pem.str());
#endif
  return std::nullopt;
}

std::vector<Detection> console_detections(const std::string& console) {
  std::vector<Detection> found;
  std::istringstream lines(console);
  std::string line;
  while (std::getline(lines, line)) {
    unsigned label = 0, score = 0, at = 0;
    if (std::sscanf(line.c_str(), "tinyedge: detection label %u score %u audio_ms %u", &label, &score, &at) == 3)
      found.push_back({static_cast<uint16_t>(label), static_cast<uint8_t>(score), at});
  }
  return found;
}

// Issue 16 on the M4: a word the embedding model was never trained on ("mid", a 1,400 Hz tone; the
// model knows "low" and "high") is enrolled over the UART from the enrollment recording in flash
// (its 5 loudest windows). The answer equals the host node's on the same samples. Then a word the
// host node learned ("top", 2,800 Hz) is shared over the UART as `tinyedge enroll share` signs it:
// signed with another key it is refused (bad signature), with the fleet key the image trusts it is
// taken. qemu is then restarted on the same flash file and hears "mid", "low" and "top" on its
// UART1 microphone: "mid" and "top" are detected by their enrolled indices (2 and 3, after the two
// trained words), as the host detects them.
TEST(SpeechM4, WordEnrolledOverTheUartIsDetectedAfterARestartAsOnTheHost) {
  const auto qemu = qemu_test::find_qemu();
  if (!qemu) {
    if (qemu_test::under_ci()) FAIL() << "qemu-system-arm missing";
    GTEST_SKIP() << "qemu-system-arm not installed (scripts/setup installs it)";
  }
  const fs::path fixture(TINYEDGE_SPEECH_FIXTURE);
  const std::string elf = (fs::path(TINYEDGE_SPEECH_ELF_DIR) / "fw-speech-enroll.elf").string();
  ASSERT_TRUE(fs::exists(elf)) << elf;
  HostEnrollingNode host(read_bytes(fixture / "words_embedding.tem"), raw_samples(fixture / "enroll_mid.raw"));
  const std::vector<uint8_t> model_sha256 = [&] {
    const ota::Digest d = ota::sha256(host.tem);
    return std::vector<uint8_t>(d.begin(), d.end());
  }();
  host.service.set_share_trust({}, model_sha256.data());
  const tinyedge_v1_EnrollmentStatus expected = host.handle(enroll_command("mid", 5));
  ASSERT_EQ(expected.refusal, tinyedge_v1_EnrollRefusal_ENROLL_OK) << "the host node refused the enrollment";
  // "top" learned on the host: the class its answer reports is what the operator shares.
  constexpr uint32_t kTopHz = 2800;
  host.recording.samples = speech_test::enrollment_recording(kTopHz, 5);
  const tinyedge_v1_EnrollmentStatus top = host.handle(enroll_command("top", 5));
  ASSERT_EQ(top.refusal, tinyedge_v1_EnrollRefusal_ENROLL_OK) << "the host node refused \"top\"";
  ASSERT_TRUE(top.has_shared) << "the host's answer carries no class to share";
  const std::optional<ota::SigningKey> fleet = qemu_fleet_key();
  if (!fleet) {
    if (qemu_test::under_ci()) FAIL() << "no qemu fleet key: the images were built without one";
    GTEST_SKIP() << "the qemu test images have no fleet key (tests/qemu needs ../shared/models)";
  }
  const auto sequence = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());

  const fs::path dir = fs::temp_directory_path() / ("tinyedge_speech_enroll_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "first");
  fs::create_directories(dir / "restarted");
  const std::string flash = "flash=" + (dir / "flash.bin").string();
  {
    qemu_test::QemuNode node(*qemu, elf, dir / "first", "mps2-an386", {"-append", flash});
    ASSERT_TRUE(node.connected()) << "qemu did not connect UART0";
    const auto status = enroll_over_uart(node, enroll_command("mid", 5));
    ASSERT_TRUE(status.has_value()) << "no EnrollmentStatus on the UART:\n" << node.stop_and_console();
    EXPECT_EQ(status->refusal, tinyedge_v1_EnrollRefusal_ENROLL_OK) << "refused: " << status->refusal;
    EXPECT_EQ(status->examples_used, expected.examples_used) << "examples used, M4 against host";
    EXPECT_EQ(status->distance_q14, expected.distance_q14) << "distance to the nearest class, M4 against host";
    EXPECT_STREQ(status->nearest_label, expected.nearest_label) << "nearest class, M4 against host";
    EXPECT_EQ(status->examples_used, 5u);
    ASSERT_EQ(status->enrolled_count, 1u);
    EXPECT_STREQ(status->enrolled[0], "mid");
    // A second enrollment of the label is refused with its reason, over the same UART.
    const auto again = enroll_over_uart(node, enroll_command("mid", 5));
    ASSERT_TRUE(again.has_value()) << "no answer to the second enrollment";
    EXPECT_EQ(again->refusal, tinyedge_v1_EnrollRefusal_ENROLL_DUPLICATE_LABEL);
    // The shared word: signed with a key the image does not trust, refused with its reason and
    // nothing stored; signed with the fleet key, taken after "mid".
    const ota::SigningKey stranger = ota::SigningKey::generate();
    const auto forged = share_over_uart(node, speech_test::signed_share(top.shared, sequence, stranger));
    ASSERT_TRUE(forged.has_value()) << "no answer to the share signed with another key";
    EXPECT_EQ(forged->action, tinyedge_v1_EnrollCommand_Action_SHARE);
    EXPECT_EQ(forged->refusal, tinyedge_v1_EnrollRefusal_ENROLL_BAD_SIGNATURE) << "refusal " << forged->refusal;
    EXPECT_EQ(forged->enrolled_count, 1u) << "a refused share changed the class table";
    const auto shared = share_over_uart(node, speech_test::signed_share(top.shared, sequence + 1, *fleet));
    ASSERT_TRUE(shared.has_value()) << "no answer to the share signed with the fleet key";
    EXPECT_EQ(shared->refusal, tinyedge_v1_EnrollRefusal_ENROLL_OK)
        << "the fleet-signed share was refused: " << shared->refusal;
    ASSERT_EQ(shared->enrolled_count, 2u);
    EXPECT_STREQ(shared->enrolled[1], "top");
    ASSERT_EQ(shared->model_sha256.size, model_sha256.size()) << "the M4 names no installed model";
    EXPECT_TRUE(std::equal(model_sha256.begin(), model_sha256.end(), shared->model_sha256.bytes))
        << "the M4 names another model than the one in its image";
    const std::string console = node.stop_and_console();
    EXPECT_NE(console.find("flash file created"), std::string::npos) << console;
    EXPECT_NE(console.find("enrolled classes 0"), std::string::npos) << console;
    // The enrollment's deepest stack stayed within the image's (below it is the arena).
    unsigned long long stack = 0, untouched = 0;
    std::istringstream lines(console);
    std::string line;
    while (std::getline(lines, line)) {
      const size_t at = line.find(", stack ");
      if (line.rfind("tinyedge: mps2-an386 node, RAM used", 0) == 0 && at != std::string::npos)
        std::sscanf(line.c_str() + at, ", stack %llu", &stack);
      unsigned long long left = 0;
      if (std::sscanf(line.c_str(), "tinyedge: enroll command answered, stack untouched %llu", &left) == 1 ||
          std::sscanf(line.c_str(), "tinyedge: shared class answered, stack untouched %llu", &left) == 1)
        untouched = left;
    }
    ASSERT_GT(stack, 0u) << console;
    EXPECT_GT(untouched, 0u) << "the enrollment overflowed the stack into the arena:\n" << console;
    std::printf("fw-speech-enroll: an enrollment's deepest stack %llu of %llu bytes\n", stack - untouched, stack);
  }

  // The restart: "mid" at 0.2 s, "low" at 1.4 s and "top" at 2.6 s (the refractory period is
  // 1 s), 3.2 s in all, streamed into UART1 (about 10 kB/s of wall time under load: keep it short).
  std::vector<int16_t> heard(3200 * 16);
  const std::vector<speech_test::Word> words = {
      {speech_test::kMidHz, 200, 400}, {speech_test::kLowHz, 1400, 400}, {kTopHz, 2600, 400}};
  speech_test::make_speech_stream(heard, words);
  {
    std::ofstream pcm(dir / "mic.in", std::ios::binary);
    pcm.write(reinterpret_cast<const char*>(heard.data()), static_cast<std::streamsize>(heard.size() * 2));
  }
  std::ofstream(dir / "mic.out").close();
  const auto expected_detections = host.detections(heard);
  constexpr uint16_t kEnrolledMid = 2, kLow = 0, kSharedTop = 3;
  ASSERT_EQ(expected_detections.size(), 3u)
      << "the host does not detect the enrolled word, the trained one and the shared one";
  EXPECT_EQ(expected_detections[0].label, kEnrolledMid);
  EXPECT_EQ(expected_detections[1].label, kLow);
  EXPECT_EQ(expected_detections[2].label, kSharedTop);

  qemu_test::QemuNode node(
      *qemu, elf, dir / "restarted", "mps2-an386",
      {"-append", flash, "-chardev", "pipe,id=mic,path=" + (dir / "mic").string(), "-serial", "chardev:mic"});
  ASSERT_TRUE(node.connected()) << "qemu did not connect UART0";
  const bool exited = node.wait_exit(std::chrono::seconds(60));
  const std::string console = node.stop_and_console();
  ASSERT_TRUE(exited) << "the node did not finish hearing its microphone:\n" << console;
  EXPECT_NE(console.find("flash restored from its file"), std::string::npos) << console;
  EXPECT_NE(console.find("enrolled classes 2 mid top"), std::string::npos) << "the restart lost a class:\n" << console;
  const std::vector<Detection> m4 = console_detections(console);
  ASSERT_EQ(m4.size(), expected_detections.size()) << console;
  for (size_t i = 0; i < m4.size(); ++i) {
    EXPECT_EQ(m4[i].label, expected_detections[i].label) << "detection " << i;
    EXPECT_EQ(m4[i].score, expected_detections[i].score) << "detection " << i;
    EXPECT_EQ(m4[i].at_ms, expected_detections[i].at_ms) << "detection " << i;
  }
  unsigned long long ram_used = 0;
  std::istringstream lines(console);
  std::string line;
  while (std::getline(lines, line)) std::sscanf(line.c_str(), "tinyedge: mps2-an386 node, RAM used %llu", &ram_used);
  EXPECT_GT(ram_used, 0u);
  EXPECT_LE(ram_used, 49152u) << "the enrolling image's RAM is beyond the 48 KB kws budget";
  std::printf(
      "fw-speech-enroll: RAM %llu of 49152 bytes; class table %zu bytes per bank, one 5-example class %zu bytes\n",
      ram_used, host.table.bank_bytes(), enroll::entry_bytes(8, 5, 160));
  fs::remove_all(dir);
}

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
