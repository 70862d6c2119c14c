// One simulated node: the portable app with an MQTT bearer, a host clock, a sensor (file replay
// or the synthetic generator) and its own arena. Many of these share one process and one model.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "node_firmware/app/enroll_service.h"
#include "node_firmware/app/flash.h"
#include "node_firmware/app/image_enrollment.h"
#include "node_firmware/app/node.h"
#include "node_firmware/app/node_ota.h"
#include "node_firmware/app/ota_client.h"
#include "node_firmware/app/prototype_classifier.h"
#include "node_firmware/app/prototype_scorer.h"
#include "node_firmware/app/recording_examples.h"
#include "node_firmware/app/result_ring.h"
#include "node_firmware/app/runtime_engine.h"
#include "node_firmware/app/runtime_self_test.h"
#include "node_firmware/app/slot_store.h"
#include "node_firmware/app/speech_enrollment.h"
#include "node_firmware/app/speech_listener.h"
#include "node_firmware/app/synthetic_sensor.h"
#include "node_firmware/enroll/class_table.h"
#include "node_firmware/enroll/enroller.h"
#include "node_firmware/ports/host/file_sensor.h"
#include "node_firmware/ports/host/host_platform.h"
#include "node_firmware/ports/host/image_examples.h"
#include "node_firmware/ports/host/mqtt_bearer.h"
#include "node_firmware/ports/host/noisy_sensor.h"
#include "node_firmware/ports/host/wav_microphone.h"
#include "node_firmware/ports/host/wav_recordings.h"
#include "ota/keys.h"
#include "ota/payload_cipher.h"

namespace tinyedge::host {

class SentLog;

struct FleetOptions {
  std::string broker_url = "tcp://127.0.0.1:1883";
  std::string username;                                // "{id}" is replaced by the node id
  std::string password;                                // likewise
  std::string hardware = "host-sim";                   // reported in Hello; packages for other hardware are refused
  std::filesystem::path data_dir;                      // empty: boot ids from the clock
  std::shared_ptr<const std::vector<uint8_t>> model;   // factory model: provisioned into an empty store
  std::vector<ota::TrustedKey> keys;                   // fleet keys updates must be signed with
  std::vector<ota::TrustedKey> rollback_keys;          // keys trusted for rollback grants only
  std::optional<ota::DecryptionKey> decryption_key;    // the fleet's, for encrypted packages
  uint32_t arena_bytes = 64 * 1024;                    // RAM a model may use (at least the factory model's)
  size_t flash_bytes = 0;                              // 0: room for two slots of 2x the factory model
  std::shared_ptr<const std::vector<int8_t>> samples;  // null: synthetic sensor
  double input_noise = 0;  // > 0: Gaussian noise of this sigma (int8 steps) added to every sample
  // The microphone (null: none). A model with an audio front-end record runs on it through the
  // keyword detector and reports detections; a model without one takes samples as above.
  std::shared_ptr<const AudioClips> audio;
  bool audio_loop = true;  // start the recordings over after the last one
  // `samples` are camera frames (--images): a model with an embedding head runs by nearest
  // prototype and enrolls from DIR/<label>/*.png.
  bool camera = false;
  // Enrollment examples of a node running an embedding model, read when the gateway's
  // EnrollCommand names the label: DIR/<label>.wav (speech), DIR/<label>/*.png (camera). Empty:
  // every enrollment is refused (bad examples), the model still runs by nearest prototype.
  std::filesystem::path enroll_from;
  app::DetectorConfig detector;           // smoothing, refractory period, threshold
  size_t detector_ram_bytes = 32 * 1024;  // front-end + detector workspace a model may use
  uint32_t sample_interval_ms = 1000;
  uint32_t report_interval_ms = 1000;
  uint32_t batch_max = 8;
  uint32_t ack_timeout_ms = 5000;
  uint32_t telemetry_interval_ms = 60000;
  uint32_t top_k = 3;
  size_t ring_capacity = 256;
  int keepalive_s = 10;
};

class VirtualNode {
 public:
  // Throws std::runtime_error if the model does not load or the node id is invalid.
  VirtualNode(std::string id, size_t index, const FleetOptions& options, SentLog* sent_log);

  void step();
  void set_sampling(bool on) { node_->set_sampling(on); }
  size_t unacked() const { return node_->ring().size(); }
  bool connected() { return bearer_.connected(); }
  const app::OtaClient& ota() const { return *ota_client_; }
  const app::NodeCounters& counters() const { return node_->counters(); }
  uint32_t boot_id() const { return boot_id_; }
  const std::string& id() const { return id_; }
  // Writes the final sent-log line and disconnects cleanly.
  void finish();
  ~VirtualNode();

 private:
  void boot();
  std::span<uint8_t> arena();
  // The enrolled-class table (own flash, kept across boots and updates), the nearest-prototype
  // scorer and the EnrollService: for speech and camera nodes whose factory model has an
  // embedding head.
  void set_up_enrollment();

  std::string id_;
  size_t index_;
  const FleetOptions& options_;
  SentLog* sent_log_;
  HostPlatform platform_;
  MqttBearer bearer_;
  struct alignas(16) ArenaBlock {
    uint8_t bytes[16];
  };
  std::vector<ArenaBlock> arena_;
  std::vector<uint8_t> memory_flash_;  // without a data dir
  std::optional<app::MemoryFlash> ram_flash_;
  std::unique_ptr<class FileFlash> file_flash_;
  app::Flash* flash_ = nullptr;
  std::optional<app::SlotStore> store_;
  app::RuntimeEngine engine_;
  app::RuntimeSelfTest self_test_;
  std::optional<app::NodeOta> node_ota_;
  std::optional<app::OtaClient> ota_client_;
  std::optional<app::SyntheticSensor> synthetic_;
  std::optional<FileSensor> file_sensor_;
  std::optional<NoisySensor> noisy_sensor_;
  std::vector<uint64_t> detector_ram_;
  std::optional<WavMicrophone> microphone_;
  std::optional<app::SpeechListener> listener_;
  std::vector<uint8_t> enroll_memory_;  // the class table's flash without a data dir
  std::optional<app::MemoryFlash> enroll_ram_flash_;
  std::unique_ptr<class FileFlash> enroll_file_flash_;
  std::optional<enroll::ClassTable> class_table_;
  std::optional<enroll::Enroller> enroller_;
  std::optional<app::PrototypeScorer> scorer_;
  std::optional<WavRecordings> recordings_;
  std::vector<uint64_t> front_end_ram_;
  std::optional<app::RecordingExamples> examples_;
  std::optional<ImageExamples> frames_;                 // a camera node's enrollment examples
  std::optional<app::PrototypeClassifier> classifier_;  // a camera node's model, by nearest prototype
  std::vector<int8_t> example_buffer_;
  std::optional<app::EnrollService> enroll_service_;
  std::optional<app::SpeechEnrollment> speech_enrollment_;  // binds enroll_service_ to each model
  std::optional<app::ImageEnrollment> image_enrollment_;
  app::ModelEnrollment* enrollment_ = nullptr;  // whichever of the two this model's node has
  std::vector<app::StoredResult> ring_storage_;
  std::optional<app::ResultRing> ring_;
  std::vector<uint8_t> tx_;
  std::vector<uint8_t> rx_;
  app::NodeConfig config_;
  uint32_t boot_id_ = 0;
  std::optional<app::Node> node_;
};

}  // namespace tinyedge::host
