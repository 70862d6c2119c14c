// The text a drift watch's baselines are kept as in the store (drift_baseline_store.h), and the
// checks on reading it back: a row damaged or written by something else is refused with the
// reason, and the watch learns that baseline again rather than judge against nonsense.
#pragma once
#include <optional>
#include <string>

#include "gateway/drift/drift_detector.h"
#include "gateway/drift/input_drift.h"

namespace tinyedge::drift {

// {"labels": [[label, results], ...], "scores": [16 bin counts]}
std::string encode(const ResultBaseline& baseline);
// {"mean": [sum, squares], "stddev": [sum, squares]}; doubles written to round trip exactly.
std::string encode(const InputBaseline& baseline);

// `results` / `periods`: the count the store keeps beside the text; the text must add up to it.
// nullopt with `error` set when the text is not a baseline this watch could have learnt.
std::optional<ResultBaseline> decode_result_baseline(const std::string& text, uint64_t results, std::string& error);
std::optional<InputBaseline> decode_input_baseline(const std::string& text, uint64_t periods, std::string& error);

}  // namespace tinyedge::drift
