// Model::load: every check the node makes before it trusts a .tem blob. The checks every op
// shares live here; what one kernel needs is checked by that kernel's validate() (kernels/*.cpp).
#include "node_firmware/runtime/model.h"

#include "node_firmware/runtime/in_place.h"
#include "node_firmware/runtime/kernel_table.h"
#include "node_firmware/runtime/kernels/basic_params.h"

namespace tinyedge::runtime {
namespace {

bool in_range(uint64_t offset, uint64_t bytes, uint64_t limit) { return offset <= limit && bytes <= limit - offset; }
bool aligned(uint64_t v, uint64_t a) { return v % a == 0; }
bool aligned4(uint64_t v) { return (v & 3u) == 0; }
constexpr uint64_t kMaxElements = uint64_t{1} << 24;

class Validator {
 public:
  Validator(std::span<const uint8_t> blob, const TemHeader& h, const TemTensor* tensors, const TemOp* ops,
            const uint16_t* io)
      : blob_(blob), h_(h), tensors_(tensors), ops_(ops), io_(io) {}

  Status tensors() const {
    for (uint16_t i = 0; i < h_.tensor_count; ++i) {
      const TemTensor& t = tensors_[i];
      if (t.type >= static_cast<uint8_t>(TemType::kCount)) return Status::kBadTensor;
      if (t.rank > kMaxRank || (t.flags & ~(kTensorConstant | kTensorPersistent)) != 0) return Status::kBadTensor;
      if ((t.flags & kTensorConstant) && (t.flags & kTensorPersistent)) return Status::kBadTensor;
      uint64_t elements = 1;
      for (int d = 0; d < kMaxRank; ++d) {
        if (t.dims[d] == 0 || (d >= t.rank && t.dims[d] != 1)) return Status::kBadTensor;
        elements *= t.dims[d];
        if (elements > kMaxElements) return Status::kBadTensor;
      }
      const uint32_t element_size = element_bytes(t.type);
      if (elements * element_size != t.bytes) return Status::kBadTensor;
      if (t.type == static_cast<uint8_t>(TemType::kInt8) && (t.zero_point < -128 || t.zero_point > 127)) {
        return Status::kBadTensor;
      }
      if (t.type == static_cast<uint8_t>(TemType::kInt16) && (t.zero_point < -32768 || t.zero_point > 32767)) {
        return Status::kBadTensor;
      }
      if (!aligned(t.offset, element_size < 4 ? element_size : 4)) return Status::kMisaligned;
      if (t.flags & kTensorConstant) {
        if (!in_range(t.offset, t.bytes, blob_.size())) return Status::kBadTable;
      } else if (!in_range(t.offset, t.bytes, h_.arena_bytes)) {
        return Status::kArenaOutOfRange;
      }
    }
    return Status::kOk;
  }

  // Graph inputs and outputs: distinct activations (not constant, not persistent).
  Status graph_io() const {
    const uint32_t n = uint32_t{h_.input_count} + h_.output_count;
    for (uint32_t k = 0; k < n; ++k) {
      if (io_[k] >= h_.tensor_count || tensors_[io_[k]].flags != 0) return Status::kBadIndex;
      for (uint32_t j = 0; j < k; ++j) {
        if (io_[j] == io_[k]) return Status::kBadIndex;
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
    // Lifetimes in op steps: graph inputs live from the start, outputs and persistent tensors to
    // the end. int16 keeps this at 2 KB of stack (op counts stay below 2^15).
    static_assert(kMaxOps < 0x7FFF);
    int16_t first[kMaxTensors];
    int16_t last[kMaxTensors];
    for (int i = 0; i < kMaxTensors; ++i) first[i] = last[i] = -1;
    const auto end = static_cast<int16_t>(h_.op_count);
    for (uint16_t i = 0; i < h_.tensor_count; ++i) {
      if (tensors_[i].flags & kTensorPersistent) {
        first[i] = 0;
        last[i] = end;
      }
    }
    for (uint16_t k = 0; k < h_.input_count; ++k) first[io_[k]] = last[io_[k]] = 0;
    for (uint16_t i = 0; i < h_.op_count; ++i) {
      const TemOp& o = ops_[i];
      const uint16_t* operands = operands_of(o);
      for (uint8_t k = 0; k < o.input_count; ++k) {
        const uint16_t t = operands[k];
        if (t == kNoTensor || tensors_[t].flags & (kTensorConstant | kTensorPersistent)) continue;
        if (first[t] < 0) return Status::kBadDataflow;  // read before written
        last[t] = static_cast<int16_t>(i);
      }
      for (uint8_t k = 0; k < o.output_count; ++k) {
        const uint16_t t = operands[o.input_count + k];
        if (first[t] >= 0) return Status::kBadDataflow;  // written twice (or over a graph input)
        first[t] = last[t] = static_cast<int16_t>(i);
      }
    }
    for (uint16_t k = 0; k < h_.output_count; ++k) {
      const uint16_t t = io_[h_.input_count + k];
      if (first[t] < 0) return Status::kBadDataflow;  // never produced
      last[t] = end;
    }

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
  const uint16_t* operands_of(const TemOp& o) const {
    return reinterpret_cast<const uint16_t*>(blob_.data() + o.operands_offset);
  }

  // `in` dies at the op that produces `out`: may they share bytes? The kernel's registration says.
  bool overlap_allowed(uint16_t in, uint16_t out, const int16_t* first, const int16_t* last) const {
    const int16_t step = first[out];
    if (last[in] != step || step >= h_.op_count || (tensors_[in].flags & kTensorPersistent)) return false;
    const TemOp& o = ops_[step];
    const uint16_t* operands = operands_of(o);
    if (o.output_count < 1 || operands[o.input_count] != out) return false;
    const KernelRegistration* k = find_kernel(o.kernel);  // validated: never nullptr
    const TemTensor& ti = tensors_[in];
    const TemTensor& to = tensors_[out];
    switch (k->in_place) {
      case InPlace::kSameOffset:
        for (uint8_t j = 0; j < o.input_count; ++j) {
          if (operands[j] == in) return ti.offset == to.offset;
        }
        return false;
      case InPlace::kWindow: {
        // Windowed kernels take BasicOpParams (their validate() checked the size).
        if (o.input_count < 1 || operands[0] != in || o.params_bytes != sizeof(BasicOpParams)) return false;
        const auto* p = reinterpret_cast<const BasicOpParams*>(blob_.data() + o.params_offset);
        const Shape4 si = shape_of(ti);
        const Shape4 so = shape_of(to);
        if (si.n != 1) return false;
        // Rows in bytes: int16 (16x8) rows are twice as long as their element counts.
        const int32_t in_row = si.w * si.c * static_cast<int32_t>(element_bytes(ti.type));
        const int32_t out_row = so.w * so.c * static_cast<int32_t>(element_bytes(to.type));
        const WindowGeometry g{si.h, in_row, so.h, out_row, p->stride_h, p->pad_top};
        return static_cast<int64_t>(ti.offset) - static_cast<int64_t>(to.offset) >= in_place_gap(g);
      }
      case InPlace::kNever:
        break;
    }
    return false;
  }

  Status op(const TemOp& o) const {
    // Operands, params, quant table and packed data lie inside the blob, aligned.
    if (o.input_count > kMaxOperands || o.output_count < 1 || o.output_count > kMaxOperands) return Status::kBadOp;
    const uint64_t operand_count = uint64_t{o.input_count} + o.output_count;
    if (!aligned(o.operands_offset, 2) || !aligned4(o.params_offset)) return Status::kMisaligned;
    if (!in_range(o.operands_offset, operand_count * 2, blob_.size())) return Status::kBadTable;
    if (!in_range(o.params_offset, o.params_bytes, blob_.size())) return Status::kBadTable;
    if (o.quant_count > 0) {
      if (!aligned4(o.quant_offset)) return Status::kMisaligned;
      if (!in_range(o.quant_offset, uint64_t{o.quant_count} * 8, blob_.size())) return Status::kBadTable;
    }
    if (o.packed_bytes > 0) {
      if (!aligned4(o.packed_offset)) return Status::kMisaligned;
      if (!in_range(o.packed_offset, o.packed_bytes, blob_.size())) return Status::kBadTable;
    }
    const uint16_t* operands = operands_of(o);
    for (uint8_t k = 0; k < o.input_count; ++k) {
      if (operands[k] != kNoTensor && operands[k] >= h_.tensor_count) return Status::kBadIndex;
    }
    for (uint8_t k = 0; k < o.output_count; ++k) {
      const uint16_t t = operands[o.input_count + k];
      if (t >= h_.tensor_count || tensors_[t].flags != 0) return Status::kBadIndex;  // outputs are activations
    }
    const KernelRegistration* kernel = find_kernel(o.kernel);
    if (kernel == nullptr) return Status::kBadOp;  // unknown, or not linked into this build
    ValidateContext v;
    v.blob = blob_;
    v.tensor_count = h_.tensor_count;
    v.tensors = tensors_;
    v.op = &o;
    v.inputs = operands;
    v.outputs = operands + o.input_count;
    return kernel->validate(v);
  }

  std::span<const uint8_t> blob_;
  const TemHeader& h_;
  const TemTensor* tensors_;
  const TemOp* ops_;
  const uint16_t* io_;
};

}  // namespace

Status Model::load(std::span<const uint8_t> blob, Model& out) {
  if (blob.size() < 8) return Status::kTruncated;
  if (reinterpret_cast<uintptr_t>(blob.data()) % alignof(TemHeader) != 0) return Status::kMisaligned;
  const auto* h = reinterpret_cast<const TemHeader*>(blob.data());
  if (h->magic != kTemMagic) return Status::kBadMagic;
  // Version first: an old file is named as such, whatever its length.
  if (h->format_version != kTemFormatVersion) return Status::kUnsupportedVersion;
  if (blob.size() < sizeof(TemHeader)) return Status::kTruncated;
  if (h->header_bytes != sizeof(TemHeader)) return Status::kUnsupportedVersion;
  if (h->blob_bytes > blob.size()) return Status::kTruncated;
  if (h->blob_bytes != blob.size()) return Status::kBadTable;
  if (h->tensor_count == 0 || h->op_count == 0) return Status::kBadTable;
  if (h->tensor_count > kMaxTensors || h->op_count > kMaxOps) return Status::kTooLarge;
  if (h->input_count == 0 || h->output_count == 0) return Status::kBadIndex;
  if (h->input_count > kMaxGraphIo || h->output_count > kMaxGraphIo) return Status::kTooLarge;
  if (!aligned4(h->tensors_offset) || !aligned4(h->ops_offset) || !aligned4(h->labels_offset) ||
      !aligned(h->io_offset, 2) || (h->front_end_bytes != 0 && !aligned4(h->front_end_offset))) {
    return Status::kMisaligned;
  }
  if (!in_range(h->tensors_offset, uint64_t{h->tensor_count} * sizeof(TemTensor), blob.size()))
    return Status::kBadTable;
  if (!in_range(h->ops_offset, uint64_t{h->op_count} * sizeof(TemOp), blob.size())) return Status::kBadTable;
  if (!in_range(h->io_offset, (uint64_t{h->input_count} + h->output_count) * 2, blob.size())) return Status::kBadTable;
  if (!in_range(h->name.offset, h->name.bytes, blob.size()) ||
      !in_range(h->input_description.offset, h->input_description.bytes, blob.size()) ||
      !in_range(h->labels_offset, uint64_t{h->label_count} * sizeof(TemString), blob.size()) ||
      !in_range(h->front_end_offset, h->front_end_bytes, blob.size())) {
    return Status::kBadMetadata;
  }
  const auto* labels = reinterpret_cast<const TemString*>(blob.data() + h->labels_offset);
  for (uint16_t i = 0; i < h->label_count; ++i) {
    if (!in_range(labels[i].offset, labels[i].bytes, blob.size())) return Status::kBadMetadata;
  }

  const auto* tensors = reinterpret_cast<const TemTensor*>(blob.data() + h->tensors_offset);
  const auto* ops = reinterpret_cast<const TemOp*>(blob.data() + h->ops_offset);
  const auto* io = reinterpret_cast<const uint16_t*>(blob.data() + h->io_offset);
  const Validator v(blob, *h, tensors, ops, io);
  if (Status s = v.graph_io(); s != Status::kOk) return s;
  if (Status s = v.tensors(); s != Status::kOk) return s;
  if (Status s = v.ops(); s != Status::kOk) return s;
  if (Status s = v.dataflow_and_arena(); s != Status::kOk) return s;

  out.blob_ = blob;
  out.header_ = h;
  out.tensors_ = tensors;
  out.ops_ = ops;
  out.labels_ = labels;
  out.io_ = io;
  return Status::kOk;
}

std::string_view Model::label(size_t i) const {
  if (i >= header_->label_count) return {};
  return string_at(labels_[i]);
}

TensorInfo Model::info(uint16_t index) const {
  const TemTensor& t = tensors_[index];
  TensorInfo info;
  info.type = t.type;
  info.rank = t.rank;
  info.element_count = 1;
  for (int d = 0; d < kMaxRank; ++d) {
    info.dims[d] = static_cast<int32_t>(t.dims[d]);
    info.element_count *= t.dims[d];
  }
  info.scale = t.scale;
  info.zero_point = t.zero_point;
  return info;
}

}  // namespace tinyedge::runtime
