// JSON and CSV shapes of the store's rows, as the API documents them.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "dashboard_api/model_catalog.h"
#include "gateway/store/query.h"

namespace tinyedge::dashboard {

// `labels`: the labels of the event's model version (null: label_name is null). Scores also go out
// as probabilities (score / 255).
nlohmann::json to_json(const gateway::EventRow& e, const LabelList& labels = nullptr);
nlohmann::json to_json(const gateway::NodeRow& n, int64_t now_ms);
nlohmann::json to_json(const gateway::LabelBucket& b);
nlohmann::json to_json(const gateway::LatencyStats& s);
nlohmann::json to_json(const gateway::TelemetryRow& t);
nlohmann::json to_json(const gateway::OtaStatusRow& o);  // state and reason by name
std::string csv_header();
std::string to_csv(const gateway::EventRow& e, const LabelList& labels = nullptr);
std::string iso8601(int64_t ms);

}  // namespace tinyedge::dashboard
