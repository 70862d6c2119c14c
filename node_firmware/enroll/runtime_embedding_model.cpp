#include "node_firmware/enroll/runtime_embedding_model.h"

#include <cstring>

#include "node_firmware/enroll/prototype_math.h"

namespace tinyedge::enroll {

EnrollStatus RuntimeEmbeddingModel::bind(const runtime::Model& model, std::span<uint8_t> arena) {
  if (!model.loaded()) return EnrollStatus::kBadHead;
  EmbeddingHead head;
  if (const EnrollStatus s = decode_embedding_head(find_embedding_head(model.front_end()), head);
      s != EnrollStatus::kOk)
    return s;
  const runtime::TensorInfo in = model.input_info();
  const runtime::TensorInfo out = model.output_info();
  const bool output_ok = out.type == static_cast<uint8_t>(runtime::TemType::kInt8) ||
                         out.type == static_cast<uint8_t>(runtime::TemType::kInt16);
  if (in.type != static_cast<uint8_t>(runtime::TemType::kInt8) || !output_ok || out.element_count != head.dim ||
      model.label_count() != head.class_count)
    return EnrollStatus::kBadHead;
  if (interpreter_.init(model, arena) != runtime::Status::kOk) return EnrollStatus::kModelFailed;
  model_ = &model;
  head_ = head;
  input_quantization_ = {in.scale, in.zero_point};
  output_type_ = out.type;
  output_zero_point_ = out.zero_point;
  return EnrollStatus::kOk;
}

EnrollStatus RuntimeEmbeddingModel::embed(std::span<int16_t> unit_q14) {
  if (!model_ || unit_q14.size() != head_.dim) return EnrollStatus::kBadHead;
  if (interpreter_.invoke() != runtime::Status::kOk) return EnrollStatus::kModelFailed;
  const std::span<const int8_t> raw = interpreter_.output();
  int32_t centred[kMaxEmbeddingDim];
  for (size_t i = 0; i < head_.dim; ++i) {
    int32_t q;
    if (output_type_ == static_cast<uint8_t>(runtime::TemType::kInt16)) {
      int16_t v;
      std::memcpy(&v, raw.data() + 2 * i, 2);
      q = v;
    } else {
      q = raw[i];
    }
    centred[i] = q - output_zero_point_;
  }
  return normalize_q14(std::span<const int32_t>(centred, head_.dim), unit_q14) ? EnrollStatus::kOk
                                                                               : EnrollStatus::kSilentExample;
}

}  // namespace tinyedge::enroll
