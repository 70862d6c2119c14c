#include "deploy/train/node_enrollment.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "node_firmware/enroll/prototype_math.h"

namespace tinyedge::train {
namespace {

constexpr std::size_t kPage = 4096;

// Two banks of whole pages, each holding the header and every class's entry.
std::size_t table_bytes(std::size_t dim, std::size_t classes, std::size_t examples, std::size_t input_bytes) {
  const std::size_t bank =
      enroll::kBankHeaderBytes + classes * enroll::entry_bytes(dim, static_cast<std::uint8_t>(examples), input_bytes);
  return 2 * (bank / kPage + 1) * kPage;
}

enroll::EnrollConfig node_config() {
  enroll::EnrollConfig config;
  config.max_classes = static_cast<std::uint8_t>(enroll::kMaxEnrolledClasses);
  return config;
}

}  // namespace

std::vector<std::int16_t> unit_embedding(TemRunner& runner, std::span<const std::int8_t> input) {
  const auto out = runner.run(input);
  const auto zp = runner.model().output_info().zero_point;
  std::vector<std::int32_t> centred(out.size());
  for (std::size_t i = 0; i < out.size(); ++i) centred[i] = out[i] - zp;
  std::vector<std::int16_t> unit(out.size());
  if (!enroll::normalize_q14(centred, unit)) std::fill(unit.begin(), unit.end(), 0);
  return unit;
}

RamClassTable::RamClassTable(enroll::EmbeddingModel& model, std::size_t classes, std::size_t examples,
                             std::size_t input_bytes)
    : storage_(table_bytes(model.head().dim, classes, examples, input_bytes), 0xFF),
      flash_(storage_, kPage, 8),
      table_(flash_, 0, storage_.size()),
      enroller_(table_, node_config()) {
  if (table_.mount() != enroll::EnrollStatus::kOk) throw std::runtime_error("class table does not mount");
  std::size_t recomputed = 0;
  if (const auto s = enroller_.attach(model, recomputed); s != enroll::EnrollStatus::kOk)
    throw std::runtime_error(std::string("attach: ") + enroll::to_string(s));
}

}  // namespace tinyedge::train
