// What training knew that the .tem does not carry: written beside the model as <model>.train.json
// (float accuracy, so `model eval` can print the float-to-int8 drop; anomaly threshold; settings).
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>

namespace tinyedge::train {

std::filesystem::path report_path(const std::filesystem::path& model);

struct TrainReport {
  std::string kind;  // "image" or "anomaly"
  std::string arch;
  int epochs = 0;
  std::uint64_t seed = 0;
  double train_seconds = 0;
  double float_metric = 0;  // accuracy (image) or held-out AUC (anomaly)
  double int8_metric = 0;
  double threshold = 0;     // anomaly only
};

void write_report(const std::filesystem::path& model, const TrainReport& report);
std::optional<TrainReport> read_report(const std::filesystem::path& model);  // nullopt if absent

void write_bytes(const std::filesystem::path& path, std::span<const std::uint8_t> bytes);

}  // namespace tinyedge::train
