// The portable node: sample -> infer -> report. A port builds one Node from its platform, sensor,
// bearer and engine, then calls step() from its main loop as often as it likes; step() never
// blocks and never allocates.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "node_firmware/app/bearer.h"
#include "node_firmware/app/event_source.h"
#include "node_firmware/app/inference_engine.h"
#include "node_firmware/app/input_stats.h"
#include "node_firmware/app/link_prover.h"
#include "node_firmware/app/platform.h"
#include "node_firmware/app/result_ring.h"
#include "node_firmware/app/sensor.h"
#include "tinyedge.pb.h"

namespace tinyedge::app {

struct NodeConfig {
  const char* node_id = "";  // goes into every Uplink (empty on links where the id is implicit)
  const char* hardware = "";
  uint32_t firmware_version = 1;
  uint32_t boot_id = 1;                 // distinct per boot; seqs restart at 1 with each boot
  uint32_t sample_interval_ms = 1000;   // one inference per interval
  uint32_t report_interval_ms = 1000;   // longest a result waits to be batched
  uint32_t batch_max = 8;               // results per uplink (<= 16, the protocol's bound)
  uint32_t ack_timeout_ms = 5000;       // resend unacknowledged results after this; doubles per
                                        // resend without an Ack (plus up to 50 % jitter)...
  uint32_t ack_timeout_max_ms = 60000;  // ...up to this, so an outage costs a few resends, not one per timeout
  uint32_t max_uplinks_in_flight = 4;   // result uplinks sent and not yet acked, at most (1..8)
  uint32_t telemetry_interval_ms = 60000;
  uint32_t top_k = 3;                 // classes per result (1..5)
  uint32_t slot_bytes = 0;            // for Hello
  uint32_t arena_capacity = 0;        // for Hello: RAM the node can give an arena
  uint32_t max_uplinks_per_step = 4;  // bounds the work one step() does after a long outage
  std::span<const uint8_t> key_id;    // for Hello: the fleet key the node trusts (first 8 bytes used)
};

struct NodeCounters {
  uint32_t inferences = 0;
  uint32_t failed_inferences = 0;
  uint32_t last_latency_us = 0;
  uint32_t reconnects = 0;
  uint32_t uplinks_sent = 0;
  uint32_t send_failures = 0;
  uint32_t downlinks = 0;
  uint32_t bad_downlinks = 0;
  uint32_t acks = 0;
  uint32_t resends = 0;          // rewinds (reconnect, ack timeout or a new link session)
  uint32_t ack_timeouts = 0;     // rewinds because no Ack came in time (each one backs off further)
  uint32_t link_proofs = 0;      // LinkChallenges answered
  uint32_t next_seq = 1;         // seq the next result will get
  uint32_t inputs_unsummed = 0;  // inputs left out of the telemetry's input sums (they would overflow)
};

// Gets the downlinks the node itself does not handle (UpdateOffer, Chunk, Command CANCEL_UPDATE):
// the OTA client. It may send uplinks (OtaStatus, ChunkRequest) through Node::send_message.
class DownlinkListener {
 public:
  virtual void on_downlink(const tinyedge_v1_Downlink& downlink) = 0;

 protected:
  ~DownlinkListener() = default;
};

class Node {
 public:
  // `tx` holds one encoded uplink, `rx` one encoded downlink (kMaxDownlinkBytes fits anything;
  // it may be empty with a bearer that hands out downlinks in place, see Bearer::receive_view).
  Node(const NodeConfig& config, Platform& platform, Sensor& sensor, Bearer& bearer, InferenceEngine& engine,
       ResultRing& ring, std::span<uint8_t> tx, std::span<uint8_t> rx);

  void set_downlink_listener(DownlinkListener* listener) { listener_ = listener; }
  // Serial links: answers the gateway's LinkChallenge with the node's link key. Without one the
  // node ignores challenges (and a gateway that requires a proof never binds its link).
  void set_link_prover(LinkProver* prover) { prover_ = prover; }
  // A streaming detector (speech): while it is active for the loaded model, its events are the
  // node's results and the sample-interval inference is not run.
  void set_event_source(EventSource* source) { events_ = source; }

  // One pass of the main loop: downlinks, connection edges, a due inference, due uplinks.
  void step();

  // Sends Uplink{seq, boot_id, node_id, payload field `tag` = `message` (described by `fields`)}.
  // False if it could not be encoded into the tx buffer or the bearer refused it.
  bool send_message(uint32_t tag, const pb_msgdesc_t* fields, const void* message, uint32_t seq = 0);

  // Runs one inference now and queues its result (step() does this on the sample interval).
  bool infer_once();
  bool send_telemetry();

  const NodeCounters& counters() const { return counters_; }
  const ResultRing& ring() const { return ring_; }
  const NodeConfig& config() const { return config_; }
  void set_report_interval_ms(uint32_t ms) { config_.report_interval_ms = ms; }
  // Stops/resumes taking samples (e.g. to drain the ring before a clean shutdown).
  void set_sampling(bool on) { sampling_ = on; }

 private:
  void on_connected();
  // The link (re)started: everything unacknowledged may be lost, say Hello and resend promptly.
  void restart_session();
  void answer_challenge(const tinyedge_v1_LinkChallenge& challenge);
  void handle_downlink(std::span<const uint8_t> bytes);
  void on_ack_progress(uint32_t through_seq);
  // Marks everything unacknowledged for resending and forgets what was in flight.
  void rewind();
  // How long to wait for an Ack after `timeouts` resends in a row without one.
  uint32_t ack_wait_ms(uint32_t timeouts);
  bool send_hello();
  bool send_due_results();
  bool results_due(uint32_t now) const;
  // Queues the events the source has now (a few per step, so one step stays short).
  void take_events();

  NodeConfig config_;
  Platform& platform_;
  Sensor& sensor_;
  Bearer& bearer_;
  InferenceEngine& engine_;
  ResultRing& ring_;
  std::span<uint8_t> tx_;
  std::span<uint8_t> rx_;
  DownlinkListener* listener_ = nullptr;
  LinkProver* prover_ = nullptr;
  EventSource* events_ = nullptr;
  NodeCounters counters_;
  InputStats input_stats_;  // this telemetry period's input sums

  bool was_connected_ = false;
  bool ever_connected_ = false;
  bool sampling_ = true;
  bool sampled_once_ = false;
  uint32_t next_sample_ms_ = 0;
  uint32_t next_telemetry_ms_ = 0;
  uint32_t waiting_ack_since_ms_ = 0;  // when the oldest sent-but-unacked result was (re)sent
  uint32_t timeouts_in_a_row_ = 0;     // ack timeouts since the last Ack that freed something
  uint32_t ack_wait_ms_ = 0;           // the current (backed-off, jittered) ack timeout
  uint32_t jitter_state_ = 0;          // xorshift state, stirred with the platform's entropy
  static constexpr uint32_t kMaxWindow = 8;
  uint32_t in_flight_last_seq_[kMaxWindow] = {};  // last seq of each unacked result uplink, oldest first
  uint32_t in_flight_ = 0;
  uint32_t boot_ms_ = 0;

  tinyedge_v1_Downlink downlink_;
};

}  // namespace tinyedge::app
