// A node's enrollment follows the model it runs. What an EnrollService needs from the model (the
// embedding to enroll into, the installed model's SHA-256 a shared class must name, and for speech
// the front-end that cuts the examples) changes when an update is activated in place (NodeOta
// loads the new slot without a reboot); bound once at boot, shares would be checked against the
// old model's hash and speech examples cut with the old front-end. This listener sits in front of
// the EnrollService and re-binds it before the first downlink that follows a model change; the
// node's kind (speech, camera) says only whether the new model is an embedding it runs.
#pragma once
#include <span>

#include "node_firmware/app/enroll_service.h"
#include "node_firmware/app/model_watch.h"
#include "node_firmware/app/node.h"
#include "node_firmware/app/prototype_scorer.h"
#include "node_firmware/app/runtime_engine.h"
#include "node_firmware/app/slot_store.h"
#include "ota/keys.h"

namespace tinyedge::app {

class ModelEnrollment : public DownlinkListener {
 public:
  // `keys`: the package keys the node trusts for updates (a shared class is signed with one).
  ModelEnrollment(RuntimeEngine& engine, PrototypeScorer& scorer, EnrollService& service, const SlotStore& store,
                  std::span<const ota::TrustedKey> keys)
      : engine_(engine), scorer_(scorer), service_(service), store_(store), keys_(keys) {}

  // Binds the service to the model the engine holds now, if it is not the one bound last time; a
  // model the node does not run as an embedding leaves every enrollment and share refused.
  void refresh() {
    if (!watch_.changed(engine_)) return;
    const bool embedding = bind_embedding();
    service_.set_model(embedding ? &scorer_ : nullptr);
    const SlotInfo* slot = store_.active();
    service_.set_share_trust(keys_, embedding && slot != nullptr ? slot->sha256 : nullptr);
  }
  // Once per loop, after Node::step(): an update activated in place is bound at once (the
  // classes recomputed, shared ones it cannot recompute dropped), and the drops are reported.
  void step() {
    refresh();
    service_.report_dropped();
  }
  void on_downlink(const tinyedge_v1_Downlink& downlink) override {
    refresh();
    service_.on_downlink(downlink);
  }

 protected:
  ~ModelEnrollment() = default;
  // The node's kind checks the model the engine holds now (binding the scorer to it, recomputing
  // the enrolled classes) and binds what else its examples need; true: it runs as an embedding.
  virtual bool bind_embedding() = 0;

 private:
  RuntimeEngine& engine_;
  PrototypeScorer& scorer_;
  EnrollService& service_;
  const SlotStore& store_;
  std::span<const ota::TrustedKey> keys_;
  ModelWatch watch_;
};

}  // namespace tinyedge::app
