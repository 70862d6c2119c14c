// Model::load: every check the node makes before it trusts a .tem blob.
#include "node_firmware/runtime/model.h"

#include <cstring>

#include "node_firmware/runtime/in_place.h"
#include "node_firmware/runtime/kernels/op_context.h"

namespace tinyedge::runtime {
namespace {

bool in_range(uint64_t offset, uint64_t bytes, uint64_t limit) { return offset <= limit && bytes <= limit - offset; }
bool aligned4(uint64_t v) { return (v & 3u) == 0; }

constexpr uint8_t kInputCount[] = {3, 3, 3, 1, 1, 2, 1, 1};
static_assert(sizeof(kInputCount) == static_cast<size_t>(Kernel::kCount));

// Largest dot-product length a kernel accepts: keeps |sum((x+offset)*w)| < 2^30 (no int32 overflow).
constexpr int64_t kMaxDotLength = 32768;
constexpr int32_t kMaxSoftmaxDepth = 256;

class Validator {
 public:
  Validator(std::span<const uint8_t> blob, const TemHeader& h, const TemTensor* tensors, const TemOp* ops)
      : blob_(blob), h_(h), tensors_(tensors), ops_(ops) {}

  Status tensors() const {
    for (uint16_t i = 0; i < h_.tensor_count; ++i) {
      const TemTensor& t = tensors_[i];
      if (t.type > static_cast<uint8_t>(TemType::kInt32)) return Status::kBadTensor;
      if (t.rank < 1 || t.rank > 4 || (t.flags & ~kTensorConstant) != 0) return Status::kBadTensor;
      uint64_t elements = 1;
      for (int d = 0; d < 4; ++d) {
        if (t.dims[d] == 0 || (d >= t.rank && t.dims[d] != 1)) return Status::kBadTensor;
        elements *= t.dims[d];
      }
      const uint64_t element_bytes = t.type == static_cast<uint8_t>(TemType::kInt32) ? 4 : 1;
      if (elements * element_bytes != t.bytes || elements > (uint64_t{1} << 24)) return Status::kBadTensor;
      if (t.type == static_cast<uint8_t>(TemType::kInt8) && (t.zero_point < -128 || t.zero_point > 127)) {
        return Status::kBadTensor;
      }
      if (t.flags & kTensorConstant) {
        if (!in_range(t.offset, t.bytes, blob_.size())) return Status::kBadTable;
        if (element_bytes == 4 && !aligned4(t.offset)) return Status::kMisaligned;
      } else {
        if (t.type != static_cast<uint8_t>(TemType::kInt8)) return Status::kBadTensor;  // activations are int8
        if (!in_range(t.offset, t.bytes, h_.arena_bytes)) return Status::kArenaOutOfRange;
      }
    }
    return Status::kOk;
  }

  Status ops() const {
    for (uint16_t i = 0; i < h_.op_count; ++i) {
      const Status s = op(ops_[i]);
      if (s != Status::kOk) return s;
    }
    return Status::kOk;
  }

  Status dataflow_and_arena() const {
    // Lifetimes in op steps; the graph input is live from the start, the output to the end.
    int32_t first[kMaxTensors];
    int32_t last[kMaxTensors];
    for (int i = 0; i < kMaxTensors; ++i) first[i] = last[i] = -1;
    first[h_.input_tensor] = 0;
    last[h_.input_tensor] = 0;
    for (uint16_t i = 0; i < h_.op_count; ++i) {
      const TemOp& o = ops_[i];
      for (uint8_t k = 0; k < o.input_count; ++k) {
        const uint16_t t = o.inputs[k];
        if (tensors_[t].flags & kTensorConstant) continue;
        if (first[t] < 0) return Status::kBadDataflow;  // read before written
        last[t] = i;
      }
      if (first[o.output] >= 0) return Status::kBadDataflow;  // written twice (or over the input)
      first[o.output] = i;
      last[o.output] = i;
    }
    if (first[h_.output_tensor] < 0) return Status::kBadDataflow;
    last[h_.output_tensor] = h_.op_count;

    for (uint16_t a = 0; a < h_.tensor_count; ++a) {
      if (first[a] < 0) continue;
      for (uint16_t b = static_cast<uint16_t>(a + 1); b < h_.tensor_count; ++b) {
        if (first[b] < 0) continue;
        if (first[a] > last[b] || first[b] > last[a]) continue;  // never live together
        const TemTensor& ta = tensors_[a];
        const TemTensor& tb = tensors_[b];
        if (ta.offset >= tb.offset + tb.bytes || tb.offset >= ta.offset + ta.bytes) continue;
        if (!overlap_allowed(a, b, first, last) && !overlap_allowed(b, a, first, last)) return Status::kArenaOverlap;
      }
    }
    return Status::kOk;
  }

 private:
  bool is_activation(uint16_t t) const { return t < h_.tensor_count && !(tensors_[t].flags & kTensorConstant); }
  bool is_const(uint16_t t, TemType type) const {
    return t < h_.tensor_count && (tensors_[t].flags & kTensorConstant) && tensors_[t].type == static_cast<uint8_t>(type);
  }

  // `in` dies at the op that produces `out`: may they share bytes?
  bool overlap_allowed(uint16_t in, uint16_t out, const int32_t* first, const int32_t* last) const {
    const int32_t step = first[out];
    if (last[in] != step || step >= h_.op_count) return false;
    const TemOp& o = ops_[step];
    if (o.output != out) return false;
    const TemTensor& ti = tensors_[in];
    const TemTensor& to = tensors_[out];
    switch (static_cast<Kernel>(o.kernel)) {
      case Kernel::kAdd:
      case Kernel::kSoftmax:
      case Kernel::kReshape:
        return (o.inputs[0] == in || (o.kernel == static_cast<uint8_t>(Kernel::kAdd) && o.inputs[1] == in)) &&
               ti.offset == to.offset;
      case Kernel::kConv2D:
      case Kernel::kDepthwiseConv2D:
      case Kernel::kAveragePool2D:
      case Kernel::kMaxPool2D: {
        if (o.inputs[0] != in) return false;
        const Shape4 si = shape_of(ti);
        const Shape4 so = shape_of(to);
        if (si.n != 1) return false;
        const WindowGeometry g{si.h, si.w * si.c, so.h, so.w * so.c, o.stride_h, o.pad_top};
        return static_cast<int64_t>(ti.offset) - static_cast<int64_t>(to.offset) >= in_place_gap(g);
      }
      default:
        return false;
    }
  }

  Status quant_table(const TemOp& o, uint32_t expected_a, uint32_t expected_b, bool shifts_nonpositive) const {
    if (o.quant_count != expected_a && o.quant_count != expected_b) return Status::kBadQuantization;
    if (!aligned4(o.quant_offset)) return Status::kMisaligned;
    if (!in_range(o.quant_offset, uint64_t{o.quant_count} * 8, blob_.size())) return Status::kBadTable;
    const uint8_t* base = blob_.data() + o.quant_offset;
    for (uint32_t k = 0; k < o.quant_count; ++k) {
      int32_t m = 0;
      int32_t s = 0;
      std::memcpy(&m, base + 4 * k, 4);
      std::memcpy(&s, base + 4 * (o.quant_count + k), 4);
      if (m < 0 || s < -31 || s > 30 || (shifts_nonpositive && s > 0)) return Status::kBadQuantization;
    }
    return Status::kOk;
  }

  Status packed(const TemOp& o, uint32_t expected_bytes, uint32_t transposed_bytes = 0) const {
    if (o.packed_bytes == 0) return o.packing == 0 ? Status::kOk : Status::kBadParams;
    if (o.packing == static_cast<uint8_t>(TemPacking::kBias)) {
      if (o.packed_bytes != expected_bytes) return Status::kBadParams;
    } else if (o.packing == static_cast<uint8_t>(TemPacking::kBiasTransposedConv) && transposed_bytes != 0) {
      if (o.packed_bytes != expected_bytes + transposed_bytes) return Status::kBadParams;
    } else {
      return Status::kBadParams;
    }
    if (!aligned4(o.packed_offset)) return Status::kMisaligned;
    if (!in_range(o.packed_offset, o.packed_bytes, blob_.size())) return Status::kBadTable;
    return Status::kOk;
  }

  static bool clamp_ok(const TemOp& o) {
    return o.act_min >= -128 && o.act_max <= 127 && o.act_min <= o.act_max && o.output_offset >= -128 &&
           o.output_offset <= 127 && o.input_offset >= -127 && o.input_offset <= 128;
  }

  Status op(const TemOp& o) const {
    if (o.kernel >= static_cast<uint8_t>(Kernel::kCount)) return Status::kBadOp;
    const Kernel kernel = static_cast<Kernel>(o.kernel);
    if (o.input_count != kInputCount[o.kernel]) return Status::kBadOp;
    for (int k = 0; k < 3; ++k) {
      if (k < o.input_count ? o.inputs[k] >= h_.tensor_count : o.inputs[k] != kNoTensor) return Status::kBadIndex;
    }
    if (!is_activation(o.inputs[0]) || !is_activation(o.output)) return Status::kBadIndex;
    if (!clamp_ok(o)) return Status::kBadParams;
    const Shape4 in = shape_of(tensors_[o.inputs[0]]);
    const Shape4 out = shape_of(tensors_[o.output]);
    const TemTensor& tin = tensors_[o.inputs[0]];
    const TemTensor& tout = tensors_[o.output];

    switch (kernel) {
      case Kernel::kConv2D:
      case Kernel::kDepthwiseConv2D: {
        if (!is_const(o.inputs[1], TemType::kInt8) || !is_const(o.inputs[2], TemType::kInt32)) return Status::kBadIndex;
        const TemTensor& tf = tensors_[o.inputs[1]];
        const TemTensor& tb = tensors_[o.inputs[2]];
        if (tin.rank != 4 || tout.rank != 4 || tf.rank != 4 || tb.rank != 1) return Status::kBadShape;
        const Shape4 f = shape_of(tf);
        if (in.n != out.n || tb.dims[0] != out.c) return Status::kBadShape;
        if (kernel == Kernel::kConv2D) {
          if (f.c != in.c || f.n != out.c) return Status::kBadShape;
          if (int64_t{f.h} * f.w * f.c > kMaxDotLength) return Status::kTooLarge;
        } else {
          if (f.n != 1 || f.c != out.c || o.depth_multiplier < 1 || out.c != in.c * o.depth_multiplier) {
            return Status::kBadShape;
          }
          if (int64_t{f.h} * f.w > kMaxDotLength) return Status::kTooLarge;
        }
        if (o.stride_h < 1 || o.stride_w < 1 || o.dilation_h < 1 || o.dilation_w < 1) return Status::kBadParams;
        if (Status s = quant_table(o, 1, static_cast<uint32_t>(out.c), false); s != Status::kOk) return s;
        return packed(o, static_cast<uint32_t>(out.c) * 4, kernel == Kernel::kConv2D ? tf.bytes : 0);
      }
      case Kernel::kFullyConnected: {
        if (!is_const(o.inputs[1], TemType::kInt8) || !is_const(o.inputs[2], TemType::kInt32)) return Status::kBadIndex;
        const TemTensor& tf = tensors_[o.inputs[1]];
        const TemTensor& tb = tensors_[o.inputs[2]];
        if (tf.rank != 2 || tb.rank != 1) return Status::kBadShape;
        const int32_t units = tf.dims[0];
        const int32_t depth = tf.dims[1];
        if (tb.dims[0] != units || depth > kMaxDotLength) return Status::kBadShape;
        const int32_t in_elements = in.elements();
        if (in_elements % depth != 0) return Status::kBadShape;
        if (static_cast<int64_t>(in_elements / depth) * units != out.elements() || out.c != units) return Status::kBadShape;
        if (Status s = quant_table(o, 1, static_cast<uint32_t>(units), false); s != Status::kOk) return s;
        return packed(o, static_cast<uint32_t>(units) * 4);
      }
      case Kernel::kAveragePool2D:
      case Kernel::kMaxPool2D:
        if (tin.rank != 4 || tout.rank != 4 || in.n != out.n || in.c != out.c) return Status::kBadShape;
        if (o.stride_h < 1 || o.stride_w < 1 || o.filter_h < 1 || o.filter_w < 1) return Status::kBadParams;
        return o.packed_bytes == 0 && o.packing == 0 ? Status::kOk : Status::kBadParams;
      case Kernel::kAdd: {
        if (!is_activation(o.inputs[1])) return Status::kBadIndex;
        if (tensors_[o.inputs[1]].bytes != tin.bytes || tout.bytes != tin.bytes) return Status::kBadShape;
        if (o.input2_offset < -127 || o.input2_offset > 128) return Status::kBadParams;
        if (o.extra[0] < 0 || o.extra[0] > 20 || o.extra[1] < 0 || o.extra[3] < 0) return Status::kBadQuantization;
        if (o.extra[2] > 0 || o.extra[2] < -31 || o.extra[4] > 0 || o.extra[4] < -31) return Status::kBadQuantization;
        return quant_table(o, 1, 1, true);
      }
      case Kernel::kReshape:
        return tin.bytes == tout.bytes ? Status::kOk : Status::kBadShape;
      case Kernel::kSoftmax:
        if (tin.bytes != tout.bytes || in.c != out.c || in.c > kMaxSoftmaxDepth) return Status::kBadShape;
        if (o.extra[0] < 0 || o.extra[1] < 0 || o.extra[1] > 30 || o.extra[2] > 0) return Status::kBadQuantization;
        return Status::kOk;
      case Kernel::kCount:
        break;
    }
    return Status::kBadOp;
  }

  std::span<const uint8_t> blob_;
  const TemHeader& h_;
  const TemTensor* tensors_;
  const TemOp* ops_;
};

}  // namespace

Status Model::load(std::span<const uint8_t> blob, Model& out) {
  if (blob.size() < sizeof(TemHeader)) return Status::kTruncated;
  if (reinterpret_cast<uintptr_t>(blob.data()) % alignof(TemHeader) != 0) return Status::kMisaligned;
  const auto* h = reinterpret_cast<const TemHeader*>(blob.data());
  if (h->magic != kTemMagic) return Status::kBadMagic;
  if (h->format_version != kTemFormatVersion || h->header_bytes != sizeof(TemHeader)) return Status::kUnsupportedVersion;
  if (h->blob_bytes > blob.size()) return Status::kTruncated;
  if (h->blob_bytes != blob.size()) return Status::kBadTable;
  if (h->tensor_count == 0 || h->op_count == 0) return Status::kBadTable;
  if (h->tensor_count > kMaxTensors || h->op_count > kMaxOps) return Status::kTooLarge;
  if (!aligned4(h->tensors_offset) || !aligned4(h->ops_offset) || !aligned4(h->labels_offset)) return Status::kMisaligned;
  if (!in_range(h->tensors_offset, uint64_t{h->tensor_count} * sizeof(TemTensor), blob.size())) return Status::kBadTable;
  if (!in_range(h->ops_offset, uint64_t{h->op_count} * sizeof(TemOp), blob.size())) return Status::kBadTable;
  if (!in_range(h->name.offset, h->name.bytes, blob.size()) ||
      !in_range(h->input_description.offset, h->input_description.bytes, blob.size()) ||
      !in_range(h->labels_offset, uint64_t{h->label_count} * sizeof(TemString), blob.size())) {
    return Status::kBadMetadata;
  }
  const auto* labels = reinterpret_cast<const TemString*>(blob.data() + h->labels_offset);
  for (uint16_t i = 0; i < h->label_count; ++i) {
    if (!in_range(labels[i].offset, labels[i].bytes, blob.size())) return Status::kBadMetadata;
  }
  if (h->input_tensor >= h->tensor_count || h->output_tensor >= h->tensor_count) return Status::kBadIndex;

  const auto* tensors = reinterpret_cast<const TemTensor*>(blob.data() + h->tensors_offset);
  const auto* ops = reinterpret_cast<const TemOp*>(blob.data() + h->ops_offset);
  const Validator v(blob, *h, tensors, ops);
  if (Status s = v.tensors(); s != Status::kOk) return s;
  if (tensors[h->input_tensor].flags & kTensorConstant || tensors[h->output_tensor].flags & kTensorConstant) {
    return Status::kBadIndex;
  }
  if (Status s = v.ops(); s != Status::kOk) return s;
  if (Status s = v.dataflow_and_arena(); s != Status::kOk) return s;

  out.blob_ = blob;
  out.header_ = h;
  out.tensors_ = tensors;
  out.ops_ = ops;
  out.labels_ = labels;
  return Status::kOk;
}

std::string_view Model::label(size_t i) const {
  if (i >= header_->label_count) return {};
  return string_at(labels_[i]);
}

TensorInfo Model::info(uint16_t index) const {
  const TemTensor& t = tensors_[index];
  TensorInfo info;
  info.rank = t.rank;
  info.element_count = 1;
  for (int d = 0; d < 4; ++d) {
    info.dims[d] = t.dims[d];
    info.element_count *= t.dims[d];
  }
  info.scale = t.scale;
  info.zero_point = t.zero_point;
  return info;
}

}  // namespace tinyedge::runtime
