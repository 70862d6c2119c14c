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
  uint8_t type = 0;  // TemType
  uint8_t rank = 0;
  int32_t dims[kMaxRank] = {1, 1, 1, 1, 1, 1};
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
  // The front-end record the model carries (empty: the input is given as is).
  std::span<const uint8_t> front_end() const {
    return blob_.subspan(header_->front_end_offset, header_->front_end_bytes);
  }

  // Graph inputs and outputs (a model has at least one of each); index 0 unless told.
  uint16_t input_count() const { return header_->input_count; }
  uint16_t output_count() const { return header_->output_count; }
  uint16_t input_tensor(uint16_t i = 0) const { return io_[i < input_count() ? i : 0]; }
  uint16_t output_tensor(uint16_t i = 0) const { return io_[input_count() + (i < output_count() ? i : 0)]; }
  TensorInfo input_info(uint16_t i = 0) const { return info(input_tensor(i)); }
  TensorInfo output_info(uint16_t i = 0) const { return info(output_tensor(i)); }

  size_t label_count() const { return header_->label_count; }
  std::string_view label(size_t i) const;  // empty when out of range

  // Raw access for the interpreter (valid after a successful load).
  uint16_t tensor_count() const { return header_->tensor_count; }
  uint16_t op_count() const { return header_->op_count; }
  const TemTensor& tensor(size_t i) const { return tensors_[i]; }
  const TemOp& op(size_t i) const { return ops_[i]; }
  // Operand tensor indices of op i (an input may be kNoTensor: absent optional input).
  std::span<const uint16_t> op_inputs(size_t i) const { return {operands(ops_[i]), ops_[i].input_count}; }
  std::span<const uint16_t> op_outputs(size_t i) const {
    return {operands(ops_[i]) + ops_[i].input_count, ops_[i].output_count};
  }
  std::span<const uint8_t> op_params(size_t i) const {
    return {blob_.data() + ops_[i].params_offset, ops_[i].params_bytes};
  }
  const uint8_t* data() const { return blob_.data(); }

 private:
  std::string_view string_at(const TemString& s) const {
    return {reinterpret_cast<const char*>(blob_.data()) + s.offset, s.bytes};
  }
  TensorInfo info(uint16_t index) const;
  const uint16_t* operands(const TemOp& o) const {
    return reinterpret_cast<const uint16_t*>(blob_.data() + o.operands_offset);
  }

  std::span<const uint8_t> blob_;
  const TemHeader* header_ = nullptr;
  const TemTensor* tensors_ = nullptr;
  const TemOp* ops_ = nullptr;
  const TemString* labels_ = nullptr;
  const uint16_t* io_ = nullptr;
};

}  // namespace tinyedge::runtime
