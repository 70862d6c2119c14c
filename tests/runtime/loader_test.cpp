// Model::load against every kind of corruption: a corrupt or hostile .tem must be refused with
// the right status and never read out of bounds (this binary also runs under ASan/UBSan).
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "node_firmware/runtime/interpreter.h"
#include "node_firmware/runtime/kernels/basic_params.h"
#include "node_firmware/runtime/model.h"
#include "node_firmware/runtime/tem_format.h"
#include "tests/runtime/tiny_model.h"

namespace tinyedge::testing {
namespace {

using runtime::Status;
using runtime::TemHeader;
using runtime::TemOp;
using runtime::TemTensor;

// A mutable, 4-aligned copy of the tiny model.
class Blob {
 public:
  Blob() : words_((kTinyModelTemSize + 3) / 4), size_(kTinyModelTemSize) {
    std::memcpy(words_.data(), kTinyModelTem, kTinyModelTemSize);
  }
  uint8_t* data() { return reinterpret_cast<uint8_t*>(words_.data()); }
  std::span<const uint8_t> span(size_t n) const { return {reinterpret_cast<const uint8_t*>(words_.data()), n}; }
  std::span<const uint8_t> span() const { return span(size_); }
  TemHeader& header() { return *reinterpret_cast<TemHeader*>(data()); }
  TemTensor& tensor(size_t i) { return reinterpret_cast<TemTensor*>(data() + header().tensors_offset)[i]; }
  TemOp& op(size_t i) { return reinterpret_cast<TemOp*>(data() + header().ops_offset)[i]; }
  uint16_t* operands(const TemOp& o) { return reinterpret_cast<uint16_t*>(data() + o.operands_offset); }
  uint16_t& input(const TemOp& o, size_t k) { return operands(o)[k]; }
  uint16_t& output(const TemOp& o) { return operands(o)[o.input_count]; }
  runtime::BasicOpParams& params(const TemOp& o) {
    return *reinterpret_cast<runtime::BasicOpParams*>(data() + o.params_offset);
  }
  uint16_t* io() { return reinterpret_cast<uint16_t*>(data() + header().io_offset); }
  uint16_t& graph_output() { return io()[header().input_count]; }
  Status load() const {
    runtime::Model m;
    return runtime::Model::load(span(), m);
  }
  size_t size() const { return size_; }

  // First op of the given kernel.
  TemOp& op_of(runtime::Kernel k) {
    for (uint16_t i = 0; i < header().op_count; ++i) {
      if (op(i).kernel == static_cast<uint16_t>(k)) return op(i);
    }
    ADD_FAILURE() << "tiny model has no kernel " << static_cast<int>(k);
    return op(0);
  }

 private:
  std::vector<uint32_t> words_;
  size_t size_;
};

TEST(Loader, TinyModelLoadsAndRuns) {
  Blob b;
  runtime::Model m;
  ASSERT_EQ(runtime::Model::load(b.span(), m), Status::kOk);
  EXPECT_EQ(m.name(), "tiny");
  EXPECT_EQ(m.model_id(), 7u);
  EXPECT_EQ(m.version(), 3u);
  EXPECT_EQ(m.label_count(), 5u);
  EXPECT_EQ(m.label(2), "c");
  EXPECT_EQ(m.label(9), "");
  EXPECT_EQ(m.input_description(), "6x6 RGB test pattern");
  EXPECT_EQ(m.input_info().element_count, 6u * 6 * 3);
  EXPECT_EQ(m.output_info().element_count, 5u);
  EXPECT_EQ(m.output_info().zero_point, -128);
  std::vector<uint32_t> arena(m.arena_bytes() / 4 + 1);
  runtime::Interpreter interp;
  ASSERT_EQ(interp.init(m, {reinterpret_cast<uint8_t*>(arena.data()), arena.size() * 4}), Status::kOk);
  for (size_t i = 0; i < interp.input().size(); ++i) interp.input()[i] = static_cast<int8_t>(i * 7);
  ASSERT_EQ(interp.invoke(), Status::kOk);
  int sum = 0;
  for (int8_t v : interp.output()) sum += v + 128;
  EXPECT_NEAR(sum, 256, 5) << "softmax outputs should sum to ~1.0";
}

TEST(Loader, RefusesEveryTruncation) {
  Blob b;
  for (size_t n = 0; n < b.size(); ++n) {
    runtime::Model m;
    const Status s = runtime::Model::load(b.span(n), m);
    ASSERT_NE(s, Status::kOk) << "accepted a model truncated to " << n << " of " << b.size() << " bytes";
    EXPECT_FALSE(m.loaded());
  }
}

TEST(Loader, TruncationReportsTruncated) {
  Blob b;
  runtime::Model m;
  EXPECT_EQ(runtime::Model::load(b.span(10), m), Status::kTruncated);
  EXPECT_EQ(runtime::Model::load(b.span(b.size() - 1), m), Status::kTruncated);
}

TEST(Loader, RefusesBadMagicAndVersion) {
  Blob a;
  a.header().magic ^= 1;
  EXPECT_EQ(a.load(), Status::kBadMagic);
  Blob b;
  b.header().format_version = 99;
  EXPECT_EQ(b.load(), Status::kUnsupportedVersion);
}

TEST(Loader, RefusesMisalignedBlob) {
  // The same bytes one past a 4-byte boundary.
  std::vector<uint32_t> words(kTinyModelTemSize / 4 + 2);
  uint8_t* p = reinterpret_cast<uint8_t*>(words.data()) + 1;
  std::memcpy(p, kTinyModelTem, kTinyModelTemSize);
  runtime::Model m;
  EXPECT_EQ(runtime::Model::load({p, kTinyModelTemSize}, m), Status::kMisaligned);
}

TEST(Loader, RefusesTablesOutsideTheBlob) {
  Blob a;
  a.header().tensors_offset = static_cast<uint32_t>(a.size() - 8);
  EXPECT_EQ(a.load(), Status::kBadTable);
  Blob b;
  b.header().ops_offset = 0xFFFFFFF0u;
  EXPECT_EQ(b.load(), Status::kBadTable);
  Blob c;
  c.header().tensor_count = 0;
  EXPECT_EQ(c.load(), Status::kBadTable);
  Blob d;
  d.header().op_count = 5000;
  EXPECT_EQ(d.load(), Status::kTooLarge);
  Blob e;
  e.header().tensors_offset += 2;
  EXPECT_EQ(e.load(), Status::kMisaligned);
}

TEST(Loader, RefusesBadMetadata) {
  Blob a;
  a.header().name.bytes = 0x7FFFFFFF;
  EXPECT_EQ(a.load(), Status::kBadMetadata);
  Blob b;
  b.header().label_count = 60000;
  EXPECT_EQ(b.load(), Status::kBadMetadata);
  Blob c;
  reinterpret_cast<runtime::TemString*>(c.data() + c.header().labels_offset)[1].offset = 0xFFFFFFFEu;
  EXPECT_EQ(c.load(), Status::kBadMetadata);
}

TEST(Loader, FrontEndRecordMustLieInsideTheBlobAndBeAligned) {
  Blob ok;  // a record over the header's own first 8 bytes: in range, aligned, opaque to the runtime
  ok.header().front_end_offset = 0;
  ok.header().front_end_bytes = 8;
  runtime::Model m;
  ASSERT_EQ(runtime::Model::load(ok.span(), m), Status::kOk);
  EXPECT_EQ(m.front_end().size(), 8u) << "the record the header names is what the model hands out";
  Blob past;
  past.header().front_end_offset = static_cast<uint32_t>(past.size() - 4);
  past.header().front_end_bytes = 8;
  EXPECT_EQ(past.load(), Status::kBadMetadata);
  Blob huge;
  huge.header().front_end_offset = 4;
  huge.header().front_end_bytes = 0xFFFFFFFCu;
  EXPECT_EQ(huge.load(), Status::kBadMetadata);
  Blob odd;
  odd.header().front_end_offset = 2;
  odd.header().front_end_bytes = 4;
  EXPECT_EQ(odd.load(), Status::kMisaligned);
}

TEST(Loader, RefusesConstantDataOutsideTheBlob) {
  Blob b;
  for (uint16_t i = 0; i < b.header().tensor_count; ++i) {
    if (b.tensor(i).flags & runtime::kTensorConstant) {
      b.tensor(i).offset = static_cast<uint32_t>(b.size() - 4);
      break;
    }
  }
  EXPECT_EQ(b.load(), Status::kBadTable);
}

TEST(Loader, RefusesInconsistentTensors) {
  Blob a;
  a.tensor(0).bytes += 1;
  EXPECT_EQ(a.load(), Status::kBadTensor);
  Blob b;
  b.tensor(0).rank = 7;
  EXPECT_EQ(b.load(), Status::kBadTensor);
  Blob c;
  c.tensor(0).dims[1] = 0;
  EXPECT_EQ(c.load(), Status::kBadTensor);
  Blob d;
  d.tensor(0).type = 9;
  EXPECT_EQ(d.load(), Status::kBadTensor);
}

TEST(Loader, RefusesActivationsOutsideTheArena) {
  Blob b;
  b.tensor(b.graph_output()).offset = b.header().arena_bytes;
  EXPECT_EQ(b.load(), Status::kArenaOutOfRange);
}

TEST(Loader, RefusesOverlappingLiveActivations) {
  // The residual ADD reads the depthwise output and the 1x1 conv output: both are live at once.
  Blob b;
  const TemOp& add = b.op_of(runtime::Kernel::kAdd);
  b.tensor(b.input(add, 1)).offset = b.tensor(b.input(add, 0)).offset;
  EXPECT_EQ(b.load(), Status::kArenaOverlap);
}

TEST(Loader, RefusesInPlaceWithoutEnoughGap) {
  // The first conv's output may not overlap its input beyond what in_place.h allows.
  Blob b;
  const TemOp& conv = b.op(0);
  TemTensor& out = b.tensor(b.output(conv));
  out.offset = b.tensor(b.input(conv, 0)).offset;  // exactly over the input: row 0 would clobber rows still to read
  const Status s = b.load();
  EXPECT_TRUE(s == Status::kArenaOverlap || s == Status::kArenaOutOfRange) << runtime::to_string(s);
}

TEST(Loader, RefusesBadIndices) {
  Blob a;
  a.input(a.op(0), 0) = 999;
  EXPECT_EQ(a.load(), Status::kBadIndex);
  Blob b;
  b.input(b.op(0), 1) = b.input(b.op(0), 0);  // filter must be a constant
  EXPECT_EQ(b.load(), Status::kBadIndex);
  Blob c;
  c.io()[0] = 300;
  EXPECT_EQ(c.load(), Status::kBadIndex);
  Blob d;
  d.output(d.op(0)) = d.input(d.op(0), 1);  // writing a constant
  EXPECT_EQ(d.load(), Status::kBadIndex);
  Blob e;
  e.input(e.op(0), 2) = runtime::kNoTensor;  // conv's bias is not optional
  EXPECT_EQ(e.load(), Status::kBadIndex);
  Blob f;
  f.tensor(f.output(f.op(0))).flags = runtime::kTensorPersistent;  // ops write activations only
  EXPECT_EQ(f.load(), Status::kBadIndex);
}

TEST(Loader, RefusesBadGraphInputsAndOutputs) {
  Blob a;
  a.header().input_count = 0;
  EXPECT_EQ(a.load(), Status::kBadIndex);
  Blob b;
  b.graph_output() = b.io()[0];  // the same tensor twice
  EXPECT_EQ(b.load(), Status::kBadIndex);
  Blob c;
  c.header().output_count = 200;
  EXPECT_EQ(c.load(), Status::kTooLarge);
  Blob d;
  d.header().io_offset = static_cast<uint32_t>(d.size() - 2);  // the list runs past the end
  EXPECT_EQ(d.load(), Status::kBadTable);
  Blob e;
  e.graph_output() = e.input(e.op(0), 1);  // a constant
  EXPECT_EQ(e.load(), Status::kBadIndex);
}

TEST(Loader, RefusesOtherFormatVersions) {
  // Version 1 files (fixed three-input op records) must be re-imported, not misread.
  for (uint16_t version : {uint16_t{1}, uint16_t{3}}) {
    Blob a;
    a.header().format_version = version;
    EXPECT_EQ(a.load(), Status::kUnsupportedVersion) << version;
  }
  Blob b;
  b.header().header_bytes = 64;
  EXPECT_EQ(b.load(), Status::kUnsupportedVersion);
}

TEST(Loader, RefusesBadKernelsAndOperandCounts) {
  Blob a;
  a.op(0).kernel = 2000;
  EXPECT_EQ(a.load(), Status::kBadOp);
  Blob b;
  b.op(0).input_count = 2;  // conv with two inputs (and its output slot now reads the bias)
  const Status s = b.load();
  EXPECT_TRUE(s == Status::kBadOp || s == Status::kBadIndex) << runtime::to_string(s);
  Blob c;
  c.op(0).output_count = 0;
  EXPECT_EQ(c.load(), Status::kBadOp);
  Blob d;
  d.op(0).input_count = 200;  // beyond kMaxOperands
  EXPECT_EQ(d.load(), Status::kBadOp);
  Blob e;
  e.op(0).operands_offset = static_cast<uint32_t>(e.size() - 2);
  EXPECT_EQ(e.load(), Status::kBadTable);
  Blob f;
  f.op(0).operands_offset += 1;
  EXPECT_EQ(f.load(), Status::kMisaligned);
}

TEST(Loader, RefusesBadParamsBlobs) {
  Blob a;
  a.op(0).params_bytes -= 4;  // not the kernel's params struct
  EXPECT_EQ(a.load(), Status::kBadParams);
  Blob b;
  b.op(0).params_offset = static_cast<uint32_t>(b.size() - 8);
  EXPECT_EQ(b.load(), Status::kBadTable);
  Blob c;
  c.op(0).params_offset += 2;
  EXPECT_EQ(c.load(), Status::kMisaligned);
}

TEST(Loader, RefusesBadOpParams) {
  Blob a;
  a.params(a.op(0)).stride_h = 0;
  EXPECT_EQ(a.load(), Status::kBadParams);
  Blob b;
  b.params(b.op(0)).act_min = 100;
  b.params(b.op(0)).act_max = 50;
  EXPECT_EQ(b.load(), Status::kBadParams);
  Blob c;
  c.params(c.op(0)).output_offset = 300;
  EXPECT_EQ(c.load(), Status::kBadParams);
  Blob d;
  d.params(d.op_of(runtime::Kernel::kDepthwiseConv2D)).depth_multiplier = 3;
  EXPECT_EQ(d.load(), Status::kBadShape);
  Blob e;
  e.params(e.op_of(runtime::Kernel::kMaxPool2D)).filter_w = 0;
  EXPECT_EQ(e.load(), Status::kBadParams);
  Blob f;
  f.params(f.op_of(runtime::Kernel::kSoftmax)).extra[1] = 40;  // beta left shift
  EXPECT_EQ(f.load(), Status::kBadQuantization);
  Blob g;
  g.params(g.op_of(runtime::Kernel::kAdd)).extra[0] = 31;  // left shift would overflow
  EXPECT_EQ(g.load(), Status::kBadQuantization);
}

TEST(Loader, RefusesBadRequantisationTables) {
  Blob a;
  a.op(0).quant_count = 3;  // neither 1 nor the channel count
  EXPECT_EQ(a.load(), Status::kBadQuantization);
  Blob b;
  b.op(0).quant_offset = static_cast<uint32_t>(b.size() - 4);
  EXPECT_EQ(b.load(), Status::kBadTable);
  Blob c;
  int32_t* shifts = reinterpret_cast<int32_t*>(c.data() + c.op(0).quant_offset) + c.op(0).quant_count;
  shifts[0] = 45;
  EXPECT_EQ(c.load(), Status::kBadQuantization);
  Blob d;
  d.op(0).packed_bytes = 8;
  EXPECT_EQ(d.load(), Status::kBadParams);
}

TEST(Loader, RefusesBadShapes) {
  Blob a;
  const TemOp& fc = a.op_of(runtime::Kernel::kFullyConnected);
  TemTensor& filter = a.tensor(a.input(fc, 1));
  filter.dims[1] = 3;  // depth no longer divides the input
  filter.bytes = filter.dims[0] * 3;
  EXPECT_EQ(a.load(), Status::kBadShape);
}

TEST(Loader, RefusesBrokenDataflow) {
  // Swap the first two ops: the depthwise conv would read the conv output before it exists.
  Blob b;
  std::swap(b.op(0), b.op(1));
  EXPECT_EQ(b.load(), Status::kBadDataflow);
  Blob c;
  c.output(c.op(1)) = c.output(c.op(0));  // written twice
  const Status s = c.load();
  EXPECT_TRUE(s == Status::kBadDataflow || s == Status::kBadShape) << runtime::to_string(s);
}

TEST(Loader, FailedLoadLeavesModelUnchanged) {
  Blob good;
  runtime::Model m;
  ASSERT_EQ(runtime::Model::load(good.span(), m), Status::kOk);
  Blob bad;
  bad.header().magic = 0;
  EXPECT_NE(runtime::Model::load(bad.span(), m), Status::kOk);
  EXPECT_EQ(m.name(), "tiny");
}

TEST(Loader, EverySingleByteCorruptionIsRefusedOrRunsSafely) {
  // Flip each byte of the header, tables and parameters (not the weights, whose values are free):
  // either the loader refuses, or the model runs within its arena (ASan/UBSan would catch the rest).
  Blob ref;
  std::vector<std::pair<size_t, size_t>> ranges = {
      {0, ref.header().ops_offset + ref.header().op_count * sizeof(TemOp)},
      {ref.header().io_offset, ref.header().io_offset + 2u * (ref.header().input_count + ref.header().output_count)}};
  for (uint16_t k = 0; k < ref.header().op_count; ++k) {
    const TemOp& o = ref.op(k);
    ranges.push_back({o.operands_offset, o.operands_offset + 2u * (o.input_count + o.output_count)});
    ranges.push_back({o.params_offset, o.params_offset + o.params_bytes});
  }
  std::vector<size_t> positions;
  for (auto [begin, end] : ranges) {
    for (size_t i = begin; i < end; ++i) positions.push_back(i);
  }
  const size_t limit = positions.size();
  size_t refused = 0;
  for (size_t i : positions) {
    for (uint8_t x : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xFF}}) {
      Blob b;
      b.data()[i] ^= x;
      runtime::Model m;
      if (runtime::Model::load(b.span(), m) != Status::kOk) {
        ++refused;
        continue;
      }
      if (m.arena_bytes() > (1u << 20)) continue;  // a larger arena is legal, just not worth allocating here
      std::vector<uint32_t> arena(m.arena_bytes() / 4 + 1);
      runtime::Interpreter interp;
      ASSERT_EQ(interp.init(m, {reinterpret_cast<uint8_t*>(arena.data()), arena.size() * 4}), Status::kOk);
      EXPECT_EQ(interp.invoke(), Status::kOk);
    }
  }
  EXPECT_GT(refused, limit) << "most structural corruptions should be refused";
}

TEST(Interpreter, RefusesSmallOrMisalignedArenaAndUninitialisedUse) {
  Blob b;
  runtime::Model m;
  ASSERT_EQ(runtime::Model::load(b.span(), m), Status::kOk);
  std::vector<uint32_t> arena(m.arena_bytes() / 4 + 2);
  runtime::Interpreter interp;
  EXPECT_EQ(interp.invoke(), Status::kNotInitialised);
  EXPECT_TRUE(interp.input().empty());
  EXPECT_EQ(interp.init(m, {reinterpret_cast<uint8_t*>(arena.data()), m.arena_bytes() - 1}), Status::kArenaTooSmall);
  EXPECT_EQ(interp.init(m, {reinterpret_cast<uint8_t*>(arena.data()) + 1, m.arena_bytes()}), Status::kArenaTooSmall);
  EXPECT_EQ(interp.init(m, {reinterpret_cast<uint8_t*>(arena.data()), m.arena_bytes()}), Status::kOk);
  EXPECT_EQ(interp.invoke_ops(3, 2), Status::kBadIndex);
}

TEST(Status, EveryStatusHasAName) {
  for (int s = 0; s <= static_cast<int>(Status::kNotInitialised); ++s) {
    EXPECT_STRNE(runtime::to_string(static_cast<Status>(s)), "unknown status") << s;
  }
}

}  // namespace
}  // namespace tinyedge::testing
