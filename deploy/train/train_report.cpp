#include "deploy/train/train_report.h"

#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace tinyedge::train {

std::filesystem::path report_path(const std::filesystem::path& model) {
  auto p = model;
  return p.replace_extension(".train.json");
}

void write_report(const std::filesystem::path& model, const TrainReport& r) {
  nlohmann::ordered_json j{{"kind", r.kind},
                           {"arch", r.arch},
                           {"epochs", r.epochs},
                           {"seed", r.seed},
                           {"train_seconds", r.train_seconds},
                           {"float_metric", r.float_metric},
                           {"int8_metric", r.int8_metric},
                           {"threshold", r.threshold}};
  const auto s = j.dump(2) + "\n";
  write_bytes(report_path(model), {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
}

std::optional<TrainReport> read_report(const std::filesystem::path& model) {
  const auto path = report_path(model);
  std::ifstream in(path);
  if (!in) return std::nullopt;
  try {
    const auto j = nlohmann::json::parse(in);
    TrainReport r;
    r.kind = j.at("kind").get<std::string>();
    r.arch = j.at("arch").get<std::string>();
    r.epochs = j.at("epochs").get<int>();
    r.seed = j.at("seed").get<std::uint64_t>();
    r.train_seconds = j.at("train_seconds").get<double>();
    r.float_metric = j.at("float_metric").get<double>();
    r.int8_metric = j.at("int8_metric").get<double>();
    r.threshold = j.at("threshold").get<double>();
    return r;
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path.string() + ": " + e.what());
  }
}

// Through a temporary file beside the target, renamed into place: a failed or interrupted write
// never leaves a half-written model or report under the real name.
void write_bytes(const std::filesystem::path& path, std::span<const std::uint8_t> bytes) {
  auto tmp = path;
  tmp += ".partial-" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + path.string());
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out.flush()) {
      out.close();
      std::error_code ignored;
      std::filesystem::remove(tmp, ignored);
      throw std::runtime_error("write failed: " + path.string());
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw std::runtime_error("cannot write " + path.string() + ": " + ec.message());
  }
}

}  // namespace tinyedge::train
