// The TinyEdge node on the MPS2 AN386 (Cortex-M4): the portable app, its results as COBS frames
// over UART0, the model executed in place from the slot store's active slot (the image's model
// is provisioned there at first boot; updates arrive over the same UART), all RAM static. An
// enrolling speech image also learns words over UART0 (EnrollCommand) from its enrollment
// recording, keeps them in the enrolled-class table after the slot store, and keeps its whole
// flash in a host file across qemu restarts.
#include <algorithm>
#include <cstdint>
#include <span>

#include "node_firmware/app/flash.h"
#include "node_firmware/app/frame_bearer.h"
#include "node_firmware/app/link_key_prover.h"
#include "node_firmware/app/node.h"
#include "node_firmware/app/node_ota.h"
#include "node_firmware/app/ota_client.h"
#include "node_firmware/app/result_ring.h"
#include "node_firmware/app/runtime_engine.h"
#include "node_firmware/app/runtime_self_test.h"
#include "node_firmware/app/sample_microphone.h"
#include "node_firmware/app/slot_store.h"
#include "node_firmware/app/speech_listener.h"
#include "node_firmware/app/synthetic_sensor.h"
#include "node_firmware/ports/mps2_an386/board.h"
#include "node_firmware/ports/mps2_an386/cmsdk_uart.h"
#include "node_firmware/ports/mps2_an386/decryption_key.h"
#include "node_firmware/ports/mps2_an386/fleet_key.h"
#include "node_firmware/ports/mps2_an386/link_key.h"
#include "node_firmware/ports/mps2_an386/m4_platform.h"
#include "node_firmware/ports/mps2_an386/semihost.h"
#include "node_firmware/ports/mps2_an386/systick.h"
#include "node_firmware/ports/mps2_an386/timed_engine.h"
#include "node_firmware/runtime/tem_format.h"
#include "ota/keys.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

extern "C" {
extern uint8_t __slots_start[], __slots_end[], __arena_start[], __arena_end[];
extern const uint8_t __factory_model_start[], __factory_model_end[];
extern uint8_t __data_start[], __bss_end[], __stack_limit[], __stack_top[];
}

#if defined(TINYEDGE_FW_UART_MICROPHONE)
// A speech image whose microphone is UART1: PCM streamed in by the host.
#include "node_firmware/ports/mps2_an386/uart_microphone.h"
#elif defined(TINYEDGE_FW_DETECTOR_RAM)
// A speech image: its microphone is a recording in flash (audio_blob.S).
extern "C" const int16_t tinyedge_audio_sample_start[], tinyedge_audio_sample_end[];
#endif

#if defined(TINYEDGE_FW_ENROLL_WORKSPACE) && defined(TINYEDGE_FW_DETECTOR_RAM)
#define TINYEDGE_FW_ENROLL 1
#include <string_view>

#include "node_firmware/app/enroll_service.h"
#include "node_firmware/app/prototype_scorer.h"
#include "node_firmware/app/recording_examples.h"
#include "node_firmware/app/speech_enrollment.h"
#include "node_firmware/enroll/class_table.h"
#include "node_firmware/enroll/enroller.h"
#include "node_firmware/ports/mps2_an386/semihost_flash.h"
// The enrollment recording (enroll_recording_blob.S) and the class table's flash (the linker script).
extern "C" const int16_t tinyedge_enroll_recording_start[], tinyedge_enroll_recording_end[];
extern "C" uint8_t __classes_start[], __classes_end[];
#endif

#ifndef TINYEDGE_NODE_ID
#define TINYEDGE_NODE_ID "mps2-1"
#endif

namespace {

using namespace tinyedge;

// Seed of the built-in sensor: the qemu test recomputes the same samples on the host.
constexpr uint32_t kSensorSeed = 1;
// Sizes chosen for the 16 KB budget: an uplink of 4 top-5 results encodes to ~160 bytes (bigger
// batches are halved until they fit); 8 results wait for their Ack.
constexpr size_t kTxBytes = 192;
constexpr size_t kRingCapacity = 8;

mps2::M4Platform g_platform;
app::SyntheticSensor g_sensor(kSensorSeed);
uint8_t g_frame_tx[protocol::max_encoded_frame_size(kTxBytes)];
protocol::StaticFrameDecoder<protocol::kMaxDownlinkBytes> g_decoder;
app::FrameBearer g_bearer(mps2::uart0(), g_frame_tx, g_decoder);
app::RuntimeEngine g_engine(std::span<uint8_t>(__arena_start, __arena_end));
mps2::TimedEngine g_timed(g_engine);
app::StaticResultRing<kRingCapacity> g_ring;
#ifdef TINYEDGE_FW_ENROLL
// One host file behind the slot store and the class table: what the node learned survives a restart.
mps2::FlashFile g_flash_file;
mps2::SemihostFlash g_flash(g_flash_file, std::span<uint8_t>(__slots_start, __slots_end), 0, 4096, 4);
mps2::SemihostFlash g_class_flash(g_flash_file, std::span<uint8_t>(__classes_start, __classes_end),
                                  static_cast<size_t>(__classes_start - __slots_start), 4096, 4);
#else
app::MemoryFlash g_flash(std::span<uint8_t>(__slots_start, __slots_end), 4096, 4);
#endif
app::SlotStore g_store(g_flash);
// The self-test of an update borrows the arena: inferences and the self-test never overlap.
app::RuntimeSelfTest g_self_test(std::span<uint8_t>(__arena_start, __arena_end));
app::NodeOta g_node_ota(g_platform, g_store, g_engine);
uint8_t g_tx[kTxBytes];
#ifdef TINYEDGE_FW_DETECTOR_RAM
// Front-end and detector buffers: all the RAM a speech model's front-end may use.
alignas(8) uint8_t g_detector_ram[TINYEDGE_FW_DETECTOR_RAM];
#ifdef TINYEDGE_FW_UART_MICROPHONE
mps2::UartMicrophone& g_microphone = mps2::uart1_microphone();
// The line has gone quiet this long after its last sample: the stream is over (a test image).
constexpr uint32_t kMicrophoneQuietMs = 1000;
#else
app::SampleMicrophone g_microphone(std::span<const int16_t>(tinyedge_audio_sample_start,
                                                            static_cast<size_t>(tinyedge_audio_sample_end -
                                                                                tinyedge_audio_sample_start)),
                                   16000, g_platform, false);
#endif
constexpr app::DetectorConfig detector_config() {
  app::DetectorConfig c;
  c.smoothing_ms = 100;
  c.refractory_ms = 1000;
  c.threshold = 200;
  return c;
}
app::SpeechListener g_listener(g_platform, g_microphone, g_engine, g_detector_ram, detector_config());

// Passes the listener's detections to the node and prints each one (the qemu test reads them),
// with the time spent listening: under qemu -icount shift=0 one virtual ns is one instruction.
class PrintedDetections final : public app::EventSource {
 public:
  bool active() override { return g_listener.active(); }
  bool poll(app::StreamEvent& event) override {
    const uint64_t began = mps2::now_ns();
    const bool detected = g_listener.poll(event);
    busy_ns += mps2::now_ns() - began;
    if (!detected) return false;
    mps2::semihost_print("tinyedge: detection label ", event.label, "");
    mps2::semihost_print(" score ", event.score, "");
    mps2::semihost_print(" audio_ms ", g_listener.audio_ms(), "\n");
    return true;
  }
  uint32_t inferences() const override { return g_listener.inferences(); }
  uint32_t failed_inferences() const override { return g_listener.failed_inferences(); }
  uint64_t busy_ns = 0;
};
PrintedDetections g_detections;
#endif

#ifdef TINYEDGE_FW_ENROLL
// Enrollment as the host node does it (same EnrollConfig, same EnrollService): the scorer runs the
// embedding model on the node's engine for the listener and the Enroller alike.
enroll::ClassTable g_classes(g_class_flash, 0, g_class_flash.size());
enroll::Enroller g_enroller(g_classes, enroll::EnrollConfig{});
app::PrototypeScorer g_scorer(g_enroller, enroll::EnrollConfig{}.max_classes);

// The recording the microphone made after the enroll button (in flash here): every label's
// examples come from it, as a board records the word it is asked to learn.
class FlashRecording final : public app::EnrollmentRecordings {
 public:
  std::span<const int16_t> recording(std::string_view) override {
    return {tinyedge_enroll_recording_start,
            static_cast<size_t>(tinyedge_enroll_recording_end - tinyedge_enroll_recording_start)};
  }
};
FlashRecording g_recording;
// The front-end's workspace while examples are made (the listener's own stays untouched, so
// listening goes on afterwards where it was) and one enrollment's examples.
alignas(8) uint8_t g_enroll_workspace[TINYEDGE_FW_ENROLL_WORKSPACE];
int8_t g_enroll_examples[TINYEDGE_FW_ENROLL_EXAMPLES];
app::RecordingExamples g_examples(g_recording, g_enroll_workspace);
app::EnrollService g_enroll(g_enroller, g_examples, g_enroll_examples);

// Passes downlinks to the enrollment (bound to the model the node runs now) and reports, after
// each EnrollCommand or shared class, the stack it left untouched (the qemu test holds it above
// zero: the M4 has no stack limit, an overflow would write silently into the arena).
class ReportedEnrollment final : public app::DownlinkListener {
 public:
  void on_downlink(const tinyedge_v1_Downlink& downlink) override {
    enrollment->on_downlink(downlink);
    if (downlink.which_payload == tinyedge_v1_Downlink_enroll_tag)
      mps2::semihost_print("tinyedge: enroll command answered, stack untouched ", mps2::stack_untouched_bytes());
    if (downlink.which_payload == tinyedge_v1_Downlink_enroll_share_tag)
      mps2::semihost_print("tinyedge: shared class answered, stack untouched ", mps2::stack_untouched_bytes());
  }
  app::SpeechEnrollment* enrollment = nullptr;
};
ReportedEnrollment g_reported_enrollment;

void print_classes() {
  const enroll::TableImage& table = g_enroller.table();
  mps2::semihost_print("tinyedge: enrolled classes ", table.count, "");
  for (uint32_t i = 0; i < table.count; ++i) {
    char label[enroll::kLabelBytes + 2] = {' '};
    const std::string_view name = table.classes[i].name();
    for (size_t c = 0; c < name.size(); ++c) label[1 + c] = name[c];
    mps2::semihost_write(label);
  }
  mps2::semihost_write("\n");
}
#endif
ota::TrustedKey g_fleet_key;     // with its id, computed at boot from the built-in point
ota::TrustedKey g_rollback_key;  // likewise

// The model shipped in the image; its header gives its length (no model: no magic).
std::span<const uint8_t> factory_model() {
  const size_t bytes = static_cast<size_t>(__factory_model_end - __factory_model_start);
  if (bytes < sizeof(runtime::TemHeader)) return {};
  const auto* header = reinterpret_cast<const runtime::TemHeader*>(__factory_model_start);
  if (header->magic != runtime::kTemMagic || header->blob_bytes > bytes) return {};
  return {__factory_model_start, header->blob_bytes};
}

// The keys offers are checked against: the built-in fleet key, if the image has one.
std::span<const ota::TrustedKey> trusted_keys() {
  const std::span<const uint8_t> point = mps2::built_in_fleet_key();
  if (point.size() != ota::kPublicKeyBytes) return {};
  ota::PublicKey key;
  std::copy(point.begin(), point.end(), key.begin());
  g_fleet_key = ota::make_trusted_key(key);
  return {&g_fleet_key, 1};
}

// The key rollback grants are checked against (never packages), if the image has one.
std::span<const ota::TrustedKey> trusted_rollback_keys() {
  const std::span<const uint8_t> point = mps2::built_in_rollback_key();
  if (point.size() != ota::kPublicKeyBytes) return {};
  ota::PublicKey key;
  std::copy(point.begin(), point.end(), key.begin());
  g_rollback_key = ota::make_trusted_key(key);
  return {&g_rollback_key, 1};
}

// A boot id that differs between runs: the host's clock through semihosting (a device would
// keep a boot counter in flash).
uint32_t boot_id() {
  register uint32_t r0 asm("r0") = 0x11;  // SYS_TIME
  register uint32_t r1 asm("r1") = 0;
  asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0 != 0 ? r0 : 1;
}

}  // namespace

int main() {
  mps2::systick_init();
  mps2::uart0().init();
#ifdef TINYEDGE_FW_UART_MICROPHONE
  g_microphone.init();
#endif
  mps2::semihost_write("tinyedge: ");
  mps2::semihost_write(mps2::kBoardName);
  mps2::semihost_print(" node, RAM used ", static_cast<uint64_t>(__stack_top - __data_start), " bytes");
  mps2::semihost_print(" (static ", static_cast<uint64_t>(__bss_end - __data_start), "");
  mps2::semihost_print(", arena ", static_cast<uint64_t>(__arena_end - __arena_start), "");
  mps2::semihost_print(", stack ", static_cast<uint64_t>(__stack_top - __stack_limit), ")\n");

#ifdef TINYEDGE_FW_ENROLL
  // The flash file first: the slot store and the class table mount what it holds.
  const mps2::FlashFile::State file = g_flash_file.open(std::span<uint8_t>(__slots_start, __classes_end));
  mps2::semihost_write(file == mps2::FlashFile::State::kRestored  ? "tinyedge: flash restored from its file\n"
                       : file == mps2::FlashFile::State::kCreated ? "tinyedge: flash file created\n"
                       : file == mps2::FlashFile::State::kFailed
                           ? "tinyedge: flash file refused: flash kept in RAM only\n"
                           : "tinyedge: no flash file: flash kept in RAM only\n");
  const enroll::EnrollStatus mounted = g_classes.mount();
  mps2::semihost_write("tinyedge: class table: ");
  mps2::semihost_write(enroll::to_string(mounted));
  mps2::semihost_print(", ", g_class_flash.size(), " bytes of flash\n");
  g_listener.set_scorer(&g_scorer);
#endif
  const runtime::Status status = app::load_active_model(g_store, g_engine, factory_model());
  mps2::semihost_write("tinyedge: model load: ");
  mps2::semihost_write(runtime::to_string(status));
  mps2::semihost_print(", slot capacity ", g_store.slot_capacity(), " bytes\n");

  app::NodeConfig config;
  config.node_id = TINYEDGE_NODE_ID;
  config.hardware = mps2::kBoardName;
  config.firmware_version = 1;
  config.boot_id = boot_id();
  config.sample_interval_ms = 1000;
  config.report_interval_ms = 100;
  config.batch_max = 4;
  config.max_uplinks_per_step = 2;
  config.ack_timeout_ms = 5000;
  config.telemetry_interval_ms = 30000;
  config.top_k = 5;
  config.slot_bytes = static_cast<uint32_t>(g_store.slot_capacity());
  config.arena_capacity = static_cast<uint32_t>(__arena_end - __arena_start);
  const std::span<const ota::TrustedKey> keys = trusted_keys();
  if (!keys.empty()) config.key_id = keys.front().id;
  mps2::semihost_write(keys.empty() ? "tinyedge: no fleet key built in: updates are refused\n"
                                    : "tinyedge: fleet key built in: updates accepted when signed with it\n");
  // No rx buffer: downlinks are decoded in place from the frame decoder's buffer.
  static app::Node node(config, g_platform, g_sensor, g_bearer, g_timed, g_ring, g_tx, {});
  // The serial bearer binds this node's link only once it proves the id with its link key.
  const std::span<const uint8_t> link_key = mps2::built_in_link_key();
  if (link_key.size() == ota::kLinkKeyBytes) {
    static app::LinkKeyProver prover(link_key.first<ota::kLinkKeyBytes>());
    node.set_link_prover(&prover);
  }
#ifdef TINYEDGE_FW_DETECTOR_RAM
  g_self_test.set_speech_capability(g_listener.capability());
  node.set_event_source(&g_detections);
#ifdef TINYEDGE_FW_UART_MICROPHONE
  mps2::semihost_write(g_listener.active() ? "tinyedge: speech model: listening to the microphone on UART1\n"
#else
  mps2::semihost_write(g_listener.active() ? "tinyedge: speech model: listening to the sample in flash\n"
#endif

                                           : "tinyedge: the model is not a speech model this node runs\n");
  mps2::semihost_write(app::to_string(g_listener.model_status()));
  mps2::semihost_write("\n");
#endif
#ifdef TINYEDGE_FW_ENROLL
  // Enrollment needs the embedding model the listener bound (it recomputed any enrolled class
  // made with another model) and its front-end, to make examples as the listener hears them; a
  // shared class must be signed with the fleet key and name the installed model. Bound now and
  // again after every model change (an update is activated in place).
  static app::SpeechEnrollment enrollment(g_engine, g_listener, g_scorer, g_examples, g_enroll, g_store, keys);
  enrollment.refresh();
  g_reported_enrollment.enrollment = &enrollment;
  print_classes();
#endif
  mps2::semihost_write(link_key.empty() ? "tinyedge: no link key built in: the gateway will not bind this link\n"
                                        : "tinyedge: link key built in: answers the gateway's link challenge\n");

  app::OtaConfig ota;
  ota.keys = keys;
  ota.rollback_keys = trusted_rollback_keys();
  ota.decryption_key = mps2::built_in_decryption_key();
  mps2::semihost_write(ota.decryption_key ? "tinyedge: decryption key built in: encrypted updates accepted\n"
                                          : "tinyedge: no decryption key built in: encrypted updates are refused\n");
  ota.hardware = config.hardware;
  ota.firmware_version = config.firmware_version;
  ota.arena_bytes = config.arena_capacity;
  static app::OtaClient ota_client(ota, g_store, g_self_test, g_node_ota);
  g_node_ota.attach(node, ota_client);
#ifdef TINYEDGE_FW_ENROLL
  // EnrollCommands are answered here; every other downlink goes on to the OTA client.
  g_enroll.set_node(&node);
  g_enroll.set_next(&g_node_ota);
  node.set_downlink_listener(&g_reported_enrollment);
#endif

  for (;;) {
    node.step();
#ifdef TINYEDGE_FW_ENROLL
    g_reported_enrollment.enrollment->step();
#endif
    g_node_ota.tick();
#ifdef TINYEDGE_FW_DETECTOR_RAM
    // The recording plays once (or the line goes quiet): then report the work it took and stop (a
    // test image). The UART microphone also reports its back-pressure and overruns.
#ifdef TINYEDGE_FW_UART_MICROPHONE
    const mps2::MicrophoneStats mic = g_microphone.stats();
    const bool audio_done = mic.samples > 0 && g_platform.now_ms() - mic.last_sample_ms > kMicrophoneQuietMs;
#else
    const bool audio_done = g_microphone.finished();
#endif
    if (audio_done) {
#ifdef TINYEDGE_FW_UART_MICROPHONE
      mps2::semihost_print("tinyedge: microphone: samples ", mic.samples, "");
      mps2::semihost_print(" ring_full ", mic.ring_full, "");
      mps2::semihost_print(" overruns ", mic.overruns, "\n");
#endif
      mps2::semihost_print("tinyedge: audio done: audio_ms ", g_listener.audio_ms(), "");
      mps2::semihost_print(" inferences ", g_listener.inferences(), "");
      mps2::semihost_print(" listening_ns ", g_detections.busy_ns, "\n");
      mps2::semihost_exit(0);
    }
#endif
    asm volatile("wfi");  // SysTick (1 ms) or a UART byte wakes us
  }
}
