#include "deploy/model/graph.h"

#include <cstring>

#include "deploy/model/op_table.h"

namespace tinyedge::model {

std::string to_string(OpKind kind) { return op_name(static_cast<int32_t>(kind)); }

size_t Tensor::element_count() const {
  size_t n = 1;
  for (int32_t d : shape) n *= static_cast<size_t>(d < 0 ? 0 : d);
  return n;
}

int Graph::add_activation(std::string name, std::vector<int32_t> shape, float scale, int32_t zero_point) {
  Tensor t;
  t.name = std::move(name);
  t.shape = std::move(shape);
  t.quant.scales = {scale};
  t.quant.zero_points = {zero_point};
  return add_tensor(std::move(t));
}

int Graph::add_int8_weights(std::string name, std::vector<int32_t> shape, std::span<const int8_t> values,
                            std::vector<float> scales, int axis) {
  Tensor t;
  t.name = std::move(name);
  t.shape = std::move(shape);
  t.quant.zero_points.assign(scales.size(), 0);
  t.quant.scales = std::move(scales);
  t.quant.axis = axis;
  t.data.resize(values.size());
  std::memcpy(t.data.data(), values.data(), values.size());
  return add_tensor(std::move(t));
}

int Graph::add_int32_bias(std::string name, std::span<const int32_t> values, std::vector<float> scales) {
  Tensor t;
  t.name = std::move(name);
  t.type = DataType::kInt32;
  t.shape = {static_cast<int32_t>(values.size())};
  t.quant.zero_points.assign(scales.size(), 0);
  t.quant.scales = std::move(scales);
  t.data.resize(values.size() * 4);
  for (size_t i = 0; i < values.size(); ++i) {
    const auto v = static_cast<uint32_t>(values[i]);
    for (int b = 0; b < 4; ++b) t.data[i * 4 + b] = static_cast<uint8_t>(v >> (8 * b));
  }
  return add_tensor(std::move(t));
}

size_t Tensor::element_bytes() const {
  switch (type) {
    case DataType::kInt8:
    case DataType::kBool:
      return 1;
    case DataType::kInt16:
      return 2;
    case DataType::kInt32:
    case DataType::kFloat32:
      return 4;
    case DataType::kInt64:
      return 8;
  }
  return 1;
}

}  // namespace tinyedge::model
