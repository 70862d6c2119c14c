// A validated, read-only view of a .tem blob. load() checks every offset, size, index and
// parameter against the blob's length and the arena size before anything is dereferenced, and
// keeps only a pointer: the model executes in place (e.g. straight from flash), no copy.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "node_firmware/runtime/status.h"
#include "node_firmware/runtime/tem_format.h"

namespace tinyedge::runtime {

struct TensorInfo {
  uint8_t rank = 0;
  int32_t dims[4] = {1, 1, 1, 1};
  float scale = 0.0f;
  int32_t zero_point = 0;
  size_t element_count = 0;
};

class Model {
 public:
  // Validates `blob` completely; on success `out` refers to it (the blob must outlive `out`).
  // On failure `out` is left unchanged.
  static Status load(std::span<const uint8_t> blob, Model& out);

  bool loaded() const { return header_ != nullptr; }
  uint32_t model_id() const { return header_->model_id; }
  uint32_t version() const { return header_->model_version; }
  std::string_view name() const { return string_at(header_->name); }
  std::string_view input_description() const { return string_at(header_->input_description); }
  uint32_t arena_bytes() const { return header_->arena_bytes; }
  uint32_t weights_bytes() const { return header_->weights_bytes; }
  size_t blob_bytes() const { return blob_.size(); }

  TensorInfo input_info() const { return info(header_->input_tensor); }
  TensorInfo output_info() const { return info(header_->output_tensor); }

  size_t label_count() const { return header_->label_count; }
  std::string_view label(size_t i) const;  // empty when out of range

  // Raw access for the interpreter (valid after a successful load).
  uint16_t tensor_count() const { return header_->tensor_count; }
  uint16_t op_count() const { return header_->op_count; }
  const TemTensor& tensor(size_t i) const { return tensors_[i]; }
  const TemOp& op(size_t i) const { return ops_[i]; }
  uint16_t input_tensor() const { return header_->input_tensor; }
  uint16_t output_tensor() const { return header_->output_tensor; }
  const uint8_t* data() const { return blob_.data(); }

 private:
  std::string_view string_at(const TemString& s) const {
    return {reinterpret_cast<const char*>(blob_.data()) + s.offset, s.bytes};
  }
  TensorInfo info(uint16_t index) const;

  std::span<const uint8_t> blob_;
  const TemHeader* header_ = nullptr;
  const TemTensor* tensors_ = nullptr;
  const TemOp* ops_ = nullptr;
  const TemString* labels_ = nullptr;
};

}  // namespace tinyedge::runtime
