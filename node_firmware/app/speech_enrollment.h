// A speech node's enrollment follows the model it runs. What an EnrollService needs from the model
// (the embedding to enroll into, the front-end that cuts the examples, the installed model's
// SHA-256 a shared class must name) changes when an update is activated in place (NodeOta loads
// the new slot without a reboot); bound once at boot, the examples would be cut with the old
// front-end and shares checked against the old model's hash. This listener sits in front of the
// EnrollService and re-binds it before the first downlink that follows a model change.
#pragma once
#include <span>

#include "node_firmware/app/enroll_service.h"
#include "node_firmware/app/model_watch.h"
#include "node_firmware/app/node.h"
#include "node_firmware/app/prototype_scorer.h"
#include "node_firmware/app/recording_examples.h"
#include "node_firmware/app/runtime_engine.h"
#include "node_firmware/app/slot_store.h"
#include "node_firmware/app/speech_listener.h"
#include "ota/keys.h"

namespace tinyedge::app {

class SpeechEnrollment final : public DownlinkListener {
 public:
  // `keys`: the package keys the node trusts for updates (a shared class is signed with one).
  SpeechEnrollment(RuntimeEngine& engine, SpeechListener& listener, PrototypeScorer& scorer,
                   RecordingExamples& examples, EnrollService& service, const SlotStore& store,
                   std::span<const ota::TrustedKey> keys)
      : engine_(engine),
        listener_(listener),
        scorer_(scorer),
        examples_(examples),
        service_(service),
        store_(store),
        keys_(keys) {}

  // Binds the service to the model the engine holds now, if it is not the one bound last time:
  // the listener checks it first (and binds the scorer, recomputing the enrolled classes); a model
  // the listener does not run as an embedding leaves every enrollment refused (no embedding model).
  void refresh() {
    if (!watch_.changed(engine_)) return;
    const bool embedding = listener_.active() && listener_.model_check().embedding;
    if (embedding) examples_.set_front_end(listener_.model_check().front_end);
    service_.set_model(embedding ? &scorer_ : nullptr);
    const SlotInfo* slot = store_.active();
    service_.set_share_trust(keys_, embedding && slot != nullptr ? slot->sha256 : nullptr);
  }
  void on_downlink(const tinyedge_v1_Downlink& downlink) override {
    refresh();
    service_.on_downlink(downlink);
  }

 private:
  RuntimeEngine& engine_;
  SpeechListener& listener_;
  PrototypeScorer& scorer_;
  RecordingExamples& examples_;
  EnrollService& service_;
  const SlotStore& store_;
  std::span<const ota::TrustedKey> keys_;
  ModelWatch watch_;
};

}  // namespace tinyedge::app
