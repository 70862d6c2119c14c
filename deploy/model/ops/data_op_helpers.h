// Helpers shared by the lowerings of the arithmetic, data-movement, reduction and conversion ops
// (ops/add.cpp .. ops/cast.cpp): constant index inputs read as integers, quantised operands of
// either int8 or int16, activation clamps for both types, and shape text for messages.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "deploy/model/lowering.h"

namespace tinyedge::model {

// An int32/int64 constant (axes, paddings, permutations, begin/end/strides) as integers.
inline std::vector<int64_t> constant_ints(const LowerContext& c, int index, const char* what) {
  if (index < 0) c.fail(std::string(what) + " input is absent");
  const Tensor& t = c.tensor(index);
  if (!t.is_constant())
    c.fail(std::string(what) + " must be a constant (computed at run time is not supported)", index);
  if (t.type != DataType::kInt32 && t.type != DataType::kInt64)
    c.fail(std::string(what) + " must be int32 or int64", index);
  const size_t width = t.type == DataType::kInt64 ? 8 : 4;
  std::vector<int64_t> v(t.data.size() / width);
  for (size_t i = 0; i < v.size(); ++i) {
    uint64_t x = 0;
    for (size_t b = 0; b < width; ++b) x |= uint64_t{t.data[i * width + b]} << (8 * b);
    v[i] = width == 4 ? static_cast<int32_t>(static_cast<uint32_t>(x)) : static_cast<int64_t>(x);
  }
  return v;
}

inline bool is_quantised_type(DataType t) { return t == DataType::kInt8 || t == DataType::kInt16; }

// An int8/int16 operand with per-tensor quantisation (activation or constant), of `type`.
inline const Tensor& quantised(const LowerContext& c, int index, DataType type) {
  if (index < 0) c.fail("a required input is absent");
  const Tensor& t = c.tensor(index);
  if (!t.is_constant()) return c.activation(index, type);
  if (t.type != type)
    c.fail(std::string(type_name(t.type)) + " constant where " + type_name(type) + " is needed", index);
  if (t.quant.scales.size() != 1 || t.quant.zero_points.size() != 1 || !(t.quant.scales[0] > 0)) {
    c.fail("needs per-tensor quantisation", index);
  }
  return t;
}

// The tensor an op moves without arithmetic (any type; int8/int16 per-tensor quantised).
inline const Tensor& moved(const LowerContext& c, int index) {
  if (index < 0) c.fail("a required input is absent");
  const Tensor& t = c.tensor(index);
  if (is_quantised_type(t.type)) return quantised(c, index, t.type);
  if (!t.is_constant() && t.type != DataType::kInt32 && t.type != DataType::kFloat32 && t.type != DataType::kBool &&
      t.type != DataType::kInt64) {
    c.fail(std::string(type_name(t.type)) + ": type not supported here", index);
  }
  return t;
}

// Data moved unchanged keeps its quantisation: TFLite requires input and output to match.
inline void same_quantisation(const LowerContext& c, const Tensor& a, const Tensor& out, int out_index) {
  if (a.type != out.type)
    c.fail(std::string("output type ") + type_name(out.type) + " differs from the input's " + type_name(a.type),
           out_index);
  if (!is_quantised_type(a.type)) return;
  if (scale_of(a) != scale_of(out) || zp_of(a) != zp_of(out)) {
    c.fail("input and output quantisation must match (scale " + std::to_string(scale_of(a)) + " zero point " +
               std::to_string(zp_of(a)) + " vs scale " + std::to_string(scale_of(out)) + " zero point " +
               std::to_string(zp_of(out)) + ")",
           out_index);
  }
}

struct Clamp {
  int32_t min, max;
};
// TFLite's CalculateActivationRangeQuantized for int8 and int16 outputs.
inline Clamp activation_clamp(Activation act, const Tensor& out) {
  const int32_t lo = out.type == DataType::kInt16 ? -32768 : -128, hi = out.type == DataType::kInt16 ? 32767 : 127;
  const float scale = scale_of(out);
  const int32_t zp = zp_of(out);
  auto q = [&](float f) { return zp + static_cast<int32_t>(std::round(f / scale)); };
  switch (act) {
    case Activation::kRelu:
      return {std::max(lo, q(0.0f)), hi};
    case Activation::kRelu6:
      return {std::max(lo, q(0.0f)), std::min(hi, q(6.0f))};
    case Activation::kReluN1To1:
      return {std::max(lo, q(-1.0f)), std::min(hi, q(1.0f))};
    case Activation::kNone:
      break;
  }
  return {lo, hi};
}

inline std::string shape_text(const std::vector<int32_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
  return r + "]";
}

// An axis in [-rank, rank) made non-negative.
inline int32_t resolve_axis(const LowerContext& c, int64_t axis, size_t rank, int tensor) {
  const auto r = static_cast<int64_t>(rank);
  if (axis < -r || axis >= r)
    c.fail("axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank), tensor);
  return static_cast<int32_t>(axis < 0 ? axis + r : axis);
}

// a and b broadcast (right-aligned, dims equal or 1) to exactly the output's shape, rank <= 6.
inline void check_broadcast(const LowerContext& c, const Tensor& a, const Tensor& b, const Tensor& out) {
  const size_t rank = std::max(a.shape.size(), b.shape.size());
  std::vector<int32_t> shape(rank);
  bool ok = rank <= 6;
  for (size_t d = 0; d < rank && ok; ++d) {
    const size_t pa = rank - a.shape.size(), pb = rank - b.shape.size();
    const int32_t da = d < pa ? 1 : a.shape[d - pa], db = d < pb ? 1 : b.shape[d - pb];
    ok = da == db || da == 1 || db == 1;
    shape[d] = std::max(da, db);
  }
  if (!ok || shape != out.shape) {
    c.fail("shapes " + shape_text(a.shape) + " and " + shape_text(b.shape) + " do not broadcast to the output's " +
               shape_text(out.shape),
           c.out());
  }
}

inline void need_rank_at_most_6(const LowerContext& c, const Tensor& t, int index) {
  if (t.shape.size() > 6) c.fail("rank " + std::to_string(t.shape.size()) + " above 6", index);
}

}  // namespace tinyedge::model
