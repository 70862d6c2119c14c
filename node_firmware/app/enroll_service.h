// The node's side of fleet enrollment: an EnrollCommand downlink (start / remove / list) runs
// through the Enroller and is answered with an EnrollmentStatus uplink. Examples come from an
// ExampleSource: the host node reads image files, a board port its camera or a button press.
// Other downlinks go on to the next listener (the OTA client).
#pragma once
#include <cstdint>
#include <span>
#include <string_view>

#include "node_firmware/app/node.h"
#include "node_firmware/enroll/enroller.h"
#include "ota/keys.h"
#include "ota/sha256.h"
#include "tinyedge.pb.h"

namespace tinyedge::app {

class ExampleSource {
 public:
  // Writes example `index` (0-based) for an enrollment of `label` into `out` (one model input,
  // in the model's input quantisation). kBadExamples if there is no such example.
  [[nodiscard]] virtual enroll::EnrollStatus capture(std::string_view label, uint32_t index, std::span<int8_t> out) = 0;

 protected:
  ~ExampleSource() = default;
};

tinyedge_v1_EnrollRefusal to_refusal(enroll::EnrollStatus status);

class EnrollService final : public DownlinkListener {
 public:
  // `examples` holds the captured examples of one enrollment (max_examples * input bytes).
  EnrollService(enroll::Enroller& enroller, ExampleSource& source, std::span<int8_t> examples)
      : enroller_(enroller), source_(source), examples_(examples) {}

  // The model the node runs, or none (then every command is refused: no embedding model).
  void set_model(enroll::EmbeddingModel* model) { model_ = model; }
  void set_node(Node* node) { node_ = node; }
  void set_next(DownlinkListener* next) { next_ = next; }
  // What a shared class (EnrollShare) is checked against: the package keys the node trusts for
  // updates, and the SHA-256 of the installed model (the slot store's, checked at boot: no hashing
  // here). `model_sha256` must outlive the service; null: every share is refused (other embedding).
  void set_share_trust(std::span<const ota::TrustedKey> keys, const uint8_t* model_sha256) {
    keys_ = keys;
    model_sha256_ = model_sha256;
  }

  // Runs one command and describes the outcome.
  void handle(const tinyedge_v1_EnrollCommand& command, tinyedge_v1_EnrollmentStatus& status);
  // Checks a shared class in the order that trusts no unsigned byte: decode, key by id, signature
  // over the exact bytes, then replay, embedding model, label, table (the Enroller).
  void handle_share(const tinyedge_v1_EnrollShare& share, tinyedge_v1_EnrollmentStatus& status);
  // The report of the `i`-th shared class the last model change dropped (action DROPPED, its
  // label, refusal NOT_RECOMPUTABLE, the classes held now); false past the last.
  bool dropped_report(size_t i, tinyedge_v1_EnrollmentStatus& status) const;
  // Sends every dropped_report() through the node, and forgets them once all went out (a link
  // that is down keeps them for the next call). ModelEnrollment::step() calls it each loop: the
  // node passes no Ack to its listeners, so after an update no downlink may come for a long time.
  void report_dropped();
  void on_downlink(const tinyedge_v1_Downlink& downlink) override;
  // The answer on_downlink() gave (and sent) last.
  const tinyedge_v1_EnrollmentStatus& last_status() const { return status_; }

 private:
  void fill_common(tinyedge_v1_EnrollmentStatus& status) const;
  enroll::EnrollStatus accept_share(const tinyedge_v1_EnrollShare& share, tinyedge_v1_EnrollmentStatus& status);

  enroll::Enroller& enroller_;
  ExampleSource& source_;
  std::span<int8_t> examples_;
  enroll::EmbeddingModel* model_ = nullptr;
  Node* node_ = nullptr;
  DownlinkListener* next_ = nullptr;
  std::span<const ota::TrustedKey> keys_;
  const uint8_t* model_sha256_ = nullptr;
  tinyedge_v1_SharedClass shared_ = tinyedge_v1_SharedClass_init_zero;  // decode buffer (no stack)
  tinyedge_v1_EnrollmentStatus status_ = tinyedge_v1_EnrollmentStatus_init_zero;
};

}  // namespace tinyedge::app
