// Hands the input sums of each Telemetry ingest accepted (and checked: uplink_validator) to the
// drift watch. Runs on the io_context thread: add_input only queues.
#pragma once
#include <string>

#include "gateway/drift/drift_monitor.h"
#include "gateway/ingest/ingest.h"

namespace tinyedge::drift {

class TelemetryInputs final : public gateway::UplinkObserver {
 public:
  explicit TelemetryInputs(DriftMonitor& monitor) : monitor_(monitor) {}
  void on_uplink(const gateway::UplinkContext& context, const tinyedge_v1_Uplink& uplink) override {
    if (context.kind != gateway::UplinkKind::kTelemetry) return;
    const auto& t = uplink.payload.telemetry;
    if (t.input_values == 0) return;  // not reported: an older node, or no inference in the period
    monitor_.add_input(std::string(context.node_id), {t.input_values, t.input_sum, t.input_sum_squares});
  }

 private:
  DriftMonitor& monitor_;
};

}  // namespace tinyedge::drift
