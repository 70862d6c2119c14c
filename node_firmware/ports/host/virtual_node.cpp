#include "node_firmware/ports/host/virtual_node.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "node_firmware/audio/audio_status.h"
#include "node_firmware/enroll/embedding_head.h"
#include "node_firmware/ports/host/boot_counter.h"
#include "node_firmware/ports/host/file_flash.h"
#include "node_firmware/ports/host/sent_log.h"
#include "node_firmware/runtime/model.h"
#include "protocol/codec.h"

namespace tinyedge::host {
namespace {

std::string with_id(std::string text, const std::string& id) {
  for (size_t pos = text.find("{id}"); pos != std::string::npos; pos = text.find("{id}", pos + id.size())) {
    text.replace(pos, 4, id);
  }
  return text;
}

MqttOptions mqtt_options(const std::string& id, const FleetOptions& o) {
  return MqttOptions{o.broker_url, id, with_id(o.username, id), with_id(o.password, id), o.keepalive_s};
}

uint32_t arena_bytes_of(const std::vector<uint8_t>& blob) {
  runtime::Model model;
  const runtime::Status status = runtime::Model::load(blob, model);
  if (status != runtime::Status::kOk) {
    throw std::runtime_error(std::string("model does not load: ") + runtime::to_string(status));
  }
  return model.arena_bytes();
}

// A distinct seed per node id, so simulated nodes do not all see the same signal.
uint32_t seed_of(const std::string& id) {
  uint32_t h = 2166136261u;
  for (char c : id) h = (h ^ static_cast<uint8_t>(c)) * 16777619u;
  return h;
}

bool has_embedding_head(const std::vector<uint8_t>& blob) {
  runtime::Model model;
  return runtime::Model::load(blob, model) == runtime::Status::kOk &&
         !enroll::find_embedding_head(model.front_end()).empty();
}

size_t input_bytes_of(const std::vector<uint8_t>& blob) {
  runtime::Model model;
  return runtime::Model::load(blob, model) == runtime::Status::kOk ? model.input_info().element_count : 0;
}

}  // namespace

VirtualNode::VirtualNode(std::string id, size_t index, const FleetOptions& options, SentLog* sent_log)
    : id_(std::move(id)),
      index_(index),
      options_(options),
      sent_log_(sent_log),
      platform_(0),
      bearer_(mqtt_options(id_, options), sent_log),
      arena_((std::max(arena_bytes_of(*options.model), options.arena_bytes) + sizeof(ArenaBlock) - 1) /
             sizeof(ArenaBlock)),
      engine_(arena()),
      self_test_(arena()),
      detector_ram_(options.audio ? options.detector_ram_bytes / 8 : 0),
      ring_storage_(options.ring_capacity),
      tx_(protocol::kMaxUplinkBytes),
      rx_(protocol::kMaxDownlinkBytes) {
  size_t flash_bytes = options_.flash_bytes;
  if (flash_bytes == 0) {
    // Two slots with 25 % room over the factory model (as on the MCU), boot record and journal
    // pages: a fleet of a thousand nodes keeps a thousand of these in memory.
    const size_t slot = (options_.model->size() * 5 / 4 + FileFlash::kPageBytes - 1) / FileFlash::kPageBytes;
    flash_bytes = (2 * std::max<size_t>(slot, 16) + 16) * FileFlash::kPageBytes;
  }
  if (options_.data_dir.empty()) {
    memory_flash_.assign(flash_bytes, 0xFF);
    flash_ = &ram_flash_.emplace(memory_flash_, FileFlash::kPageBytes, FileFlash::kWriteUnit);
  } else {
    file_flash_ = std::make_unique<FileFlash>(options_.data_dir / id_ / "flash.bin", flash_bytes);
    flash_ = file_flash_.get();
  }
  store_.emplace(*flash_);
  if ((options_.audio || options_.camera) && has_embedding_head(*options_.model)) set_up_enrollment();
  boot();
}

void VirtualNode::set_up_enrollment() {
  const enroll::EnrollConfig config{};
  // Room for every class at the most examples, with inputs up to twice the factory model's (an
  // update may widen the window), in each of the table's two banks.
  const size_t input = 2 * input_bytes_of(*options_.model);
  const size_t entry =
      enroll::entry_bytes(enroll::kMaxPrototypeDim, enroll::kMaxExamples, static_cast<uint32_t>(input));
  const size_t bank_pages = (config.max_classes * entry + FileFlash::kPageBytes - 1) / FileFlash::kPageBytes + 1;
  const size_t bytes = 2 * bank_pages * FileFlash::kPageBytes;
  app::Flash* flash = nullptr;
  if (options_.data_dir.empty()) {
    enroll_memory_.assign(bytes, 0xFF);
    flash = &enroll_ram_flash_.emplace(enroll_memory_, FileFlash::kPageBytes, FileFlash::kWriteUnit);
  } else {
    enroll_file_flash_ = std::make_unique<FileFlash>(options_.data_dir / id_ / "enrolled.bin", bytes);
    flash = enroll_file_flash_.get();
  }
  class_table_.emplace(*flash, 0, bytes);
  const enroll::EnrollStatus mounted = class_table_->mount();
  if (mounted != enroll::EnrollStatus::kOk) {
    throw std::runtime_error("node " + id_ +
                             ": enrolled-class table does not mount: " + std::string(enroll::to_string(mounted)));
  }
  enroller_.emplace(*class_table_, config);
  scorer_.emplace(*enroller_, config.max_classes);
  const std::string log_prefix = "node " + id_ + ": enrollment refused: ";
  app::ExampleSource* source = nullptr;
  if (options_.audio) {
    recordings_.emplace(options_.enroll_from, options_.audio->sample_rate_hz);
    recordings_->set_log_prefix(log_prefix);
    front_end_ram_.assign(options_.detector_ram_bytes / 8, 0);
    source = &examples_.emplace(
        *recordings_, std::span(reinterpret_cast<uint8_t*>(front_end_ram_.data()), front_end_ram_.size() * 8));
  } else {
    frames_.emplace(options_.enroll_from, engine_);
    frames_->set_log_prefix(log_prefix);
    source = &*frames_;
  }
  example_buffer_.assign(enroll::kMaxExamples * input, 0);
  enroll_service_.emplace(*enroller_, *source, example_buffer_);
}

VirtualNode::~VirtualNode() = default;

std::span<uint8_t> VirtualNode::arena() { return {arena_.data()->bytes, arena_.size() * sizeof(ArenaBlock)}; }

void VirtualNode::boot() {
  if (options_.data_dir.empty()) {
    // No persistent state: the wall clock still gives every start a new boot id.
    boot_id_ = static_cast<uint32_t>(
                   std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                       .count()) +
               (boot_id_ != 0 ? 1 : 0);
  } else {
    boot_id_ = next_boot_id(options_.data_dir / id_);
  }
  // The model comes from the slot store: the factory model only seeds an empty store, so a
  // model installed over the air survives a restart.
  const runtime::Status loaded = app::load_active_model(*store_, engine_, *options_.model);
  if (loaded != runtime::Status::kOk) {
    throw std::runtime_error("node " + id_ + ": no loadable model in its flash: " + runtime::to_string(loaded));
  }
  // Speech: the microphone and the detector, which configures itself from each model it finds
  // loaded. A model whose front-end this node cannot run is refused here (and by the self-test
  // of any update), never run.
  listener_.reset();
  microphone_.reset();
  const app::SpeechCapability speech{options_.audio ? options_.audio->sample_rate_hz : 0,
                                     detector_ram_.size() * sizeof(uint64_t)};
  self_test_.set_speech_capability(speech);
  const app::SpeechModelCheck check = app::check_speech_model(engine_.model(), speech);
  if (check.status != app::SpeechModelStatus::kOk && check.status != app::SpeechModelStatus::kNoFrontEnd) {
    std::string reason = app::to_string(check.status);
    if (check.status == app::SpeechModelStatus::kRecordRefused)
      reason += std::string(": ") + audio::to_string(check.audio);
    throw std::runtime_error("node " + id_ + ": model " + std::string(engine_.model().name()) + " refused: " + reason);
  }
  if (options_.audio) {
    microphone_.emplace(options_.audio, platform_, index_, options_.audio_loop);
    listener_.emplace(platform_, *microphone_, engine_,
                      std::span(reinterpret_cast<uint8_t*>(detector_ram_.data()), detector_ram_.size() * 8),
                      options_.detector);
    // An embedding model runs by nearest prototype over its trained and this node's enrolled
    // classes; the listener binds the scorer to each model it loads (recomputing the enrolled
    // prototypes after an update), and SpeechEnrollment gives enrollments the same front-end.
    if (scorer_ && examples_) listener_->set_scorer(&*scorer_);
  }
  // The sensor sizes its samples by the model's input tensor, so it comes after the model.
  if (options_.samples) {
    file_sensor_.emplace(options_.samples, engine_.input().size(), index_);
  } else {
    synthetic_.emplace(seed_of(id_));
  }
  ring_.emplace(ring_storage_);
  config_ = app::NodeConfig{};
  config_.node_id = id_.c_str();
  config_.hardware = options_.hardware.c_str();
  config_.firmware_version = 1;
  config_.boot_id = boot_id_;
  config_.sample_interval_ms = options_.sample_interval_ms;
  config_.report_interval_ms = options_.report_interval_ms;
  config_.batch_max = options_.batch_max;
  config_.ack_timeout_ms = options_.ack_timeout_ms;
  config_.telemetry_interval_ms = options_.telemetry_interval_ms;
  config_.top_k = options_.top_k;
  config_.arena_capacity = static_cast<uint32_t>(arena_.size() * sizeof(ArenaBlock));
  config_.slot_bytes = static_cast<uint32_t>(store_->slot_capacity());
  if (!options_.keys.empty()) config_.key_id = options_.keys.front().id;
  node_.reset();
  ota_client_.reset();
  node_ota_.reset();
  // A camera node runs an embedding model by nearest prototype (bound now, so enrollments find
  // it bound, and again for each model an update activates).
  classifier_.reset();
  app::InferenceEngine* engine = &engine_;
  if (options_.camera && scorer_) {
    classifier_.emplace(engine_, *scorer_);
    classifier_->refresh();
    if (classifier_->head_status() != enroll::EnrollStatus::kOk) {
      throw std::runtime_error(
          "node " + id_ + ": model " + std::string(engine_.model().name()) +
          ": embedding head refused: " + std::string(enroll::to_string(classifier_->head_status())));
    }
    engine = &*classifier_;
  }
  app::Sensor* sensor = file_sensor_ ? static_cast<app::Sensor*>(&*file_sensor_) : &*synthetic_;
  noisy_sensor_.reset();
  if (options_.input_noise > 0) sensor = &noisy_sensor_.emplace(*sensor, options_.input_noise, seed_of(id_) ^ boot_id_);
  node_.emplace(config_, platform_, *sensor, bearer_, *engine, *ring_, tx_, rx_);
  if (listener_) node_->set_event_source(&*listener_);
  app::OtaConfig ota;
  ota.keys = options_.keys;
  ota.rollback_keys = options_.rollback_keys;
  ota.decryption_key = options_.decryption_key ? &*options_.decryption_key : nullptr;
  ota.hardware = config_.hardware;
  ota.firmware_version = config_.firmware_version;
  ota.arena_bytes = config_.arena_capacity;
  node_ota_.emplace(platform_, *store_, engine_);
  ota_client_.emplace(ota, *store_, self_test_, *node_ota_);
  node_ota_->attach(*node_, *ota_client_);
  if (enroll_service_) {
    // EnrollCommands are answered here; every other downlink goes on to the OTA client.
    enroll_service_->set_node(&*node_);
    enroll_service_->set_next(&*node_ota_);
    // The embedding, front-end and shared-class trust (the package keys, the installed model's
    // hash) are bound to the model run now and again after each update activated in place.
    if (classifier_) {
      enrollment_ =
          &image_enrollment_.emplace(engine_, *classifier_, *scorer_, *enroll_service_, *store_, options_.keys);
    } else {
      enrollment_ = &speech_enrollment_.emplace(engine_, *listener_, *scorer_, *examples_, *enroll_service_, *store_,
                                                options_.keys);
    }
    enrollment_->refresh();
    node_->set_downlink_listener(enrollment_);
  }
}

void VirtualNode::step() {
  bearer_.maintain();
  if (classifier_) classifier_->refresh();
  node_->step();
  if (enrollment_ != nullptr) enrollment_->step();
  node_ota_->tick();
  if (platform_.take_reboot_request()) {
    if (sent_log_ != nullptr) {
      sent_log_->final_counts(id_, boot_id_, node_->counters().next_seq - 1,
                              static_cast<uint32_t>(node_->ring().size()));
    }
    boot();
  }
}

void VirtualNode::finish() {
  if (sent_log_ != nullptr) {
    sent_log_->final_counts(id_, boot_id_, node_->counters().next_seq - 1, static_cast<uint32_t>(node_->ring().size()));
  }
  bearer_.stop();
}

}  // namespace tinyedge::host
