#include "node_firmware/app/node.h"

#include <cstring>
#include <string_view>

#include "node_firmware/app/uplink_writer.h"
#include "protocol/codec.h"

namespace tinyedge::app {
namespace {

// `a` is at or after `b` on a wrapping millisecond clock.
bool reached(uint32_t now, uint32_t deadline) { return static_cast<int32_t>(now - deadline) >= 0; }

void copy_string(char* dst, size_t capacity, std::string_view src) {
  size_t n = 0;
  while (n < src.size() && src[n] != '\0' && n + 1 < capacity) {
    dst[n] = src[n];
    ++n;
  }
  dst[n] = '\0';
}

constexpr uint32_t kProtocolMaxBatch =
    sizeof(tinyedge_v1_InferenceResults::results) / sizeof(tinyedge_v1_InferenceResults::results[0]);
constexpr uint32_t kProtocolMaxRunnersUp =
    sizeof(tinyedge_v1_InferenceResult::runners_up) / sizeof(tinyedge_v1_InferenceResult::runners_up[0]);

}  // namespace

Node::Node(const NodeConfig& config, Platform& platform, Sensor& sensor, Bearer& bearer, InferenceEngine& engine,
           ResultRing& ring, std::span<uint8_t> tx, std::span<uint8_t> rx)
    : config_(config),
      platform_(platform),
      sensor_(sensor),
      bearer_(bearer),
      engine_(engine),
      ring_(ring),
      tx_(tx),
      rx_(rx) {
  if (config_.batch_max == 0) config_.batch_max = 1;
  if (config_.batch_max > kProtocolMaxBatch) config_.batch_max = kProtocolMaxBatch;
  if (config_.top_k == 0) config_.top_k = 1;
  if (config_.top_k > kProtocolMaxRunnersUp + 1) config_.top_k = kProtocolMaxRunnersUp + 1;
  if (config_.max_uplinks_per_step == 0) config_.max_uplinks_per_step = 1;
  if (config_.max_uplinks_in_flight == 0) config_.max_uplinks_in_flight = 1;
  if (config_.max_uplinks_in_flight > kMaxWindow) config_.max_uplinks_in_flight = kMaxWindow;
  if (config_.ack_timeout_ms == 0) config_.ack_timeout_ms = 1;
  if (config_.ack_timeout_max_ms < config_.ack_timeout_ms) config_.ack_timeout_max_ms = config_.ack_timeout_ms;
  // Seeded from the boot and the node id as well, so that nodes whose port has little entropy
  // (identical boards, an emulator) still draw different jitter.
  jitter_state_ = config_.boot_id * 2654435761u;
  for (const char* c = config_.node_id; c != nullptr && *c != '\0'; ++c)
    jitter_state_ = (jitter_state_ ^ static_cast<uint8_t>(*c)) * 16777619u;
  boot_ms_ = platform_.now_ms();
  ack_wait_ms_ = ack_wait_ms(0);
  next_sample_ms_ = boot_ms_;
  next_telemetry_ms_ = boot_ms_ + config_.telemetry_interval_ms;
}

bool Node::send_message(uint32_t tag, const pb_msgdesc_t* fields, const void* message, uint32_t seq) {
  const UplinkHeader header{seq, config_.boot_id, config_.node_id};
  const protocol::CodecResult encoded = encode_uplink_message(header, tag, fields, message, tx_);
  if (!encoded.ok) return false;
  if (!bearer_.send(tx_.first(encoded.size))) {
    ++counters_.send_failures;
    return false;
  }
  ++counters_.uplinks_sent;
  return true;
}

void Node::step() {
  // Downlinks first: an Ack frees ring space before this step's inference needs it.
  for (int i = 0; i < 8; ++i) {
    const std::span<const uint8_t> downlink = bearer_.receive_view(rx_);
    if (downlink.empty()) break;
    handle_downlink(downlink);
  }

  const bool connected = bearer_.connected();
  if (connected && !was_connected_) on_connected();
  was_connected_ = connected;

  uint32_t now = platform_.now_ms();
  if (events_ != nullptr && events_->active()) {
    if (sampling_) take_events();
    now = platform_.now_ms();
  } else if (sampling_ && (!sampled_once_ || reached(now, next_sample_ms_))) {
    sampled_once_ = true;
    // Keep the cadence, but never try to catch up a backlog of missed samples.
    next_sample_ms_ += config_.sample_interval_ms;
    if (reached(now, next_sample_ms_)) next_sample_ms_ = now + config_.sample_interval_ms;
    infer_once();
    now = platform_.now_ms();
  }

  if (!connected) return;

  if (ring_.sent() > 0 && reached(now, waiting_ack_since_ms_ + ack_wait_ms_)) {
    // No Ack in time: resend from the oldest, but wait longer before the next try, so that an
    // outage costs a handful of resends instead of one per timeout.
    rewind();
    ++counters_.resends;
    ++counters_.ack_timeouts;
    if (timeouts_in_a_row_ < 31) ++timeouts_in_a_row_;
    ack_wait_ms_ = ack_wait_ms(timeouts_in_a_row_);
  }
  send_due_results();

  if (reached(now, next_telemetry_ms_)) {
    next_telemetry_ms_ = now + config_.telemetry_interval_ms;
    send_telemetry();
  }
}

void Node::on_connected() {
  if (ever_connected_) ++counters_.reconnects;
  ever_connected_ = true;
  restart_session();
}

void Node::restart_session() {
  // Anything sent before may be lost: resend everything unacknowledged, without waiting out a
  // back-off earned on the old link.
  if (ring_.sent() > 0) ++counters_.resends;
  rewind();
  timeouts_in_a_row_ = 0;
  ack_wait_ms_ = ack_wait_ms(0);
  send_hello();
}

void Node::rewind() {
  ring_.rewind();
  in_flight_ = 0;
}

uint32_t Node::ack_wait_ms(uint32_t timeouts) {
  uint32_t wait = config_.ack_timeout_ms;
  for (uint32_t i = 0; i < timeouts && wait < config_.ack_timeout_max_ms; ++i) wait *= 2;
  if (wait > config_.ack_timeout_max_ms) wait = config_.ack_timeout_max_ms;
  // Jitter: up to half as long again, drawn from xorshift32 stirred with the port's entropy.
  jitter_state_ ^= platform_.entropy();
  if (jitter_state_ == 0) jitter_state_ = 0x9E3779B9u;
  jitter_state_ ^= jitter_state_ << 13;
  jitter_state_ ^= jitter_state_ >> 17;
  jitter_state_ ^= jitter_state_ << 5;
  return wait + jitter_state_ % (wait / 2 + 1);
}

void Node::on_ack_progress(uint32_t through_seq) {
  waiting_ack_since_ms_ = platform_.now_ms();
  timeouts_in_a_row_ = 0;
  ack_wait_ms_ = ack_wait_ms(0);
  uint32_t done = 0;
  while (done < in_flight_ && static_cast<int32_t>(in_flight_last_seq_[done] - through_seq) <= 0) ++done;
  for (uint32_t i = done; i < in_flight_; ++i) in_flight_last_seq_[i - done] = in_flight_last_seq_[i];
  in_flight_ -= done;
}

void Node::answer_challenge(const tinyedge_v1_LinkChallenge& challenge) {
  if (prover_ == nullptr) return;
  tinyedge_v1_LinkProof proof = tinyedge_v1_LinkProof_init_zero;
  static_assert(sizeof proof.mac.bytes == kLinkProofBytes);
  const std::string_view node_id = config_.node_id != nullptr ? config_.node_id : "";
  if (!prover_->prove({challenge.nonce.bytes, challenge.nonce.size}, node_id, config_.boot_id,
                      std::span<uint8_t, kLinkProofBytes>(proof.mac.bytes, kLinkProofBytes))) {
    return;
  }
  proof.mac.size = kLinkProofBytes;
  if (!send_message(tinyedge_v1_Uplink_link_proof_tag, tinyedge_v1_LinkProof_fields, &proof)) return;
  ++counters_.link_proofs;
  // The gateway ignored everything this link said before the proof: start over on it.
  restart_session();
}

bool Node::send_hello() {
  tinyedge_v1_Hello hello = tinyedge_v1_Hello_init_zero;
  copy_string(hello.hardware, sizeof(hello.hardware), config_.hardware != nullptr ? config_.hardware : "");
  hello.firmware_version = config_.firmware_version;
  if (engine_.ready()) {
    const ModelInfo info = engine_.info();
    hello.model_id = info.model_id;
    hello.model_version = info.version;
    copy_string(hello.model_name, sizeof(hello.model_name), info.name);
  }
  hello.slot_bytes = config_.slot_bytes;
  hello.arena_bytes = config_.arena_capacity;
  const size_t key_bytes =
      config_.key_id.size() < sizeof(hello.key_id.bytes) ? config_.key_id.size() : sizeof(hello.key_id.bytes);
  if (key_bytes > 0) std::memcpy(hello.key_id.bytes, config_.key_id.data(), key_bytes);
  hello.key_id.size = static_cast<pb_size_t>(key_bytes);
  return send_message(tinyedge_v1_Uplink_hello_tag, tinyedge_v1_Hello_fields, &hello);
}

bool Node::send_telemetry() {
  tinyedge_v1_Telemetry t = tinyedge_v1_Telemetry_init_zero;
  t.uptime_s = (platform_.now_ms() - boot_ms_) / 1000;
  t.inferences = counters_.inferences;
  t.free_ram_bytes = platform_.free_ram_bytes();
  t.last_latency_us = counters_.last_latency_us;
  t.dropped_results = static_cast<uint32_t>(ring_.dropped());
  t.pending_results = static_cast<uint32_t>(ring_.size());
  t.reconnects = counters_.reconnects;
  t.failed_inferences = counters_.failed_inferences;
  t.input_inferences = input_stats_.inferences();
  t.input_values = input_stats_.values();
  t.input_sum = input_stats_.sum();
  t.input_sum_squares = input_stats_.sum_squares();
  if (!send_message(tinyedge_v1_Uplink_telemetry_tag, tinyedge_v1_Telemetry_fields, &t)) return false;
  // Only a period that went out is forgotten: one the link refused is reported with the next.
  input_stats_.reset();
  return true;
}

void Node::take_events() {
  for (int i = 0; i < 4; ++i) {
    StreamEvent event;
    if (!events_->poll(event)) break;
    const ModelInfo model = engine_.info();
    StoredResult result;
    result.seq = counters_.next_seq++;
    // Never in the future (a source that runs ahead of the clock): uplinks carry the age.
    const uint32_t now = platform_.now_ms();
    result.at_ms = static_cast<int32_t>(now - event.at_ms) < 0 ? now : event.at_ms;
    result.latency_us = event.latency_us;
    result.sample_id = event.sample_id;
    result.model_id = model.model_id;
    result.model_version = model.version;
    result.count = 1;
    result.classes[0] = ClassScore{event.label, event.score};
    counters_.last_latency_us = event.latency_us;
    ring_.push(result);
  }
  counters_.inferences = events_->inferences();
  counters_.failed_inferences = events_->failed_inferences();
}

bool Node::infer_once() {
  if (!engine_.ready()) return false;
  StoredResult result;
  if (!sensor_.read(engine_.input(), result.sample_id)) return false;
  const ModelInfo model = engine_.info();
  // Before invoke(): a model may compute in place over its input tensor. An input the sums cannot
  // take (overflow) is left out of them; the inference itself still runs.
  if (!input_stats_.add(engine_.input(), model.model_id, model.version)) ++counters_.inputs_unsummed;
  const uint32_t start = platform_.now_us();
  const bool ok = engine_.invoke();
  const uint32_t latency = platform_.now_us() - start;
  if (!ok) {
    ++counters_.failed_inferences;
    return false;
  }
  result.model_id = model.model_id;
  result.model_version = model.version;
  result.seq = counters_.next_seq++;
  result.at_ms = platform_.now_ms();
  result.latency_us = latency;
  result.count = static_cast<uint8_t>(
      top_k(engine_.output(), engine_.output_zero_point(), std::span<ClassScore>(result.classes, config_.top_k)));
  ++counters_.inferences;
  counters_.last_latency_us = latency;
  ring_.push(result);
  return true;
}

bool Node::results_due(uint32_t now) const {
  if (ring_.unsent() == 0) return false;
  if (ring_.unsent() >= config_.batch_max) return true;
  // Fresh results wait up to the report interval for company; resent ones are older than that.
  return reached(now, ring_.unsent_at(0).at_ms + config_.report_interval_ms);
}

namespace {

// The first `n` unsent results of the ring, as protocol results aged relative to `now`.
class RingResults final : public ResultSource {
 public:
  RingResults(const ResultRing& ring, size_t n, uint32_t now) : ring_(ring), n_(n), now_(now) {}
  size_t count() const override { return n_; }
  void fill(size_t index, tinyedge_v1_InferenceResult& r) const override {
    const StoredResult& s = ring_.unsent_at(index);
    r.label = s.count > 0 ? s.classes[0].label : 0;
    r.score = s.count > 0 ? s.classes[0].score : 0;
    r.latency_us = s.latency_us;
    r.age_ms = now_ - s.at_ms;
    r.sample_id = s.sample_id;
    r.runners_up_count = static_cast<pb_size_t>(s.count > 1 ? s.count - 1 : 0);
    for (pb_size_t j = 0; j < r.runners_up_count; ++j) {
      r.runners_up[j].label = s.classes[j + 1].label;
      r.runners_up[j].score = s.classes[j + 1].score;
    }
  }

 private:
  const ResultRing& ring_;
  size_t n_;
  uint32_t now_;
};

}  // namespace

bool Node::send_due_results() {
  // Forget uplinks whose results the ring no longer holds (acked, or dropped when it was full).
  while (in_flight_ > 0 && (ring_.sent() == 0 || static_cast<int32_t>(in_flight_last_seq_[0] - ring_.at(0).seq) < 0)) {
    for (uint32_t i = 1; i < in_flight_; ++i) in_flight_last_seq_[i - 1] = in_flight_last_seq_[i];
    --in_flight_;
  }
  for (uint32_t n = 0; n < config_.max_uplinks_per_step; ++n) {
    const uint32_t now = platform_.now_ms();
    if (!results_due(now)) return true;
    // A window: after an outage the backlog goes out as the gateway acks it, not all at once.
    if (in_flight_ >= config_.max_uplinks_in_flight) return true;
    // One uplink names one model: a batch ends where an update switched models.
    const StoredResult& first = ring_.unsent_at(0);
    uint32_t limit = static_cast<uint32_t>(ring_.unsent());
    if (limit > config_.batch_max) limit = config_.batch_max;
    uint32_t batch = 1;
    while (batch < limit && ring_.unsent_at(batch).model_id == first.model_id &&
           ring_.unsent_at(batch).model_version == first.model_version)
      ++batch;
    const uint32_t model_id = first.model_id, model_version = first.model_version;
    const UplinkHeader header{first.seq, config_.boot_id, config_.node_id};
    bool sent = false;
    // If the encoded batch does not fit the tx buffer, halve it until it does.
    for (; batch > 0 && !sent; batch /= 2) {
      const RingResults results(ring_, batch, now);
      const protocol::CodecResult encoded = encode_uplink_results(header, model_id, model_version, results, tx_);
      if (!encoded.ok) continue;
      if (!bearer_.send(tx_.first(encoded.size))) {
        ++counters_.send_failures;
        return false;
      }
      ++counters_.uplinks_sent;
      if (ring_.sent() == 0) waiting_ack_since_ms_ = now;
      ring_.mark_sent(batch);
      in_flight_last_seq_[in_flight_++] = first.seq + batch - 1;
      sent = true;
    }
    if (!sent) return false;
  }
  return true;
}

void Node::handle_downlink(std::span<const uint8_t> bytes) {
  ++counters_.downlinks;
  if (!protocol::decode_downlink(bytes, downlink_).ok) {
    ++counters_.bad_downlinks;
    return;
  }
  switch (downlink_.which_payload) {
    case tinyedge_v1_Downlink_ack_tag: {
      const tinyedge_v1_Ack& ack = downlink_.payload.ack;
      // An Ack for another boot (a stale one from before a reboot) says nothing about ours.
      if (ack.boot_id != config_.boot_id) return;
      ++counters_.acks;
      if (ring_.ack(ack.through_seq) > 0) on_ack_progress(ack.through_seq);
      return;
    }
    case tinyedge_v1_Downlink_link_challenge_tag:
      answer_challenge(downlink_.payload.link_challenge);
      return;
    case tinyedge_v1_Downlink_command_tag: {
      const tinyedge_v1_Command& cmd = downlink_.payload.command;
      switch (cmd.kind) {
        case tinyedge_v1_Command_Kind_SET_REPORT_INTERVAL_MS:
          if (cmd.value > 0) config_.report_interval_ms = cmd.value;
          return;
        case tinyedge_v1_Command_Kind_SEND_TELEMETRY:
          send_telemetry();
          return;
        case tinyedge_v1_Command_Kind_REBOOT:
          platform_.request_reboot();
          return;
        default:
          break;
      }
      break;
    }
    default:
      break;
  }
  if (listener_ != nullptr) listener_->on_downlink(downlink_);
}

}  // namespace tinyedge::app
