// What the embedding trainers and the enrollment evaluations share with the node: an input's
// embedding as the node computes it, and the node's enrolled-class table on a flash in RAM.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "deploy/train/runtime_eval.h"
#include "node_firmware/app/flash.h"
#include "node_firmware/enroll/class_table.h"
#include "node_firmware/enroll/enroller.h"

namespace tinyedge::train {

// The embedding of one quantised input as the node computes it: q - zero point, Q14 unit vector
// (all zeros when the output is all zero point).
std::vector<std::int16_t> unit_embedding(TemRunner& runner, std::span<const std::int8_t> input);

// Two banks of 4 KB pages, room for `classes` classes of `examples` examples of `input_bytes`
// each, and an Enroller (the node's defaults, as many classes as it allows) bound to `model`.
// Throws std::runtime_error when the table does not mount or the model is refused.
class RamClassTable {
 public:
  RamClassTable(enroll::EmbeddingModel& model, std::size_t classes, std::size_t examples, std::size_t input_bytes);
  RamClassTable(const RamClassTable&) = delete;
  RamClassTable& operator=(const RamClassTable&) = delete;
  enroll::Enroller& enroller() { return enroller_; }

 private:
  std::vector<std::uint8_t> storage_;
  app::MemoryFlash flash_;
  enroll::ClassTable table_;
  enroll::Enroller enroller_;
};

}  // namespace tinyedge::train
