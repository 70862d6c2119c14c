// The compiler: TFLite import errors name the op and tensor, graph errors name the op, the
// checked-in tiny model is current, and the offline plan beats TFLite Micro's arena.
#include <flatbuffers/flatbuffers.h>
#include <gtest/gtest.h>

#include "deploy/model/planner.h"
#include "tests/runtime/model_helpers.h"
#include "tests/runtime/shared_models.h"
#include "tests/runtime/tiny_graph.h"
#include "tests/runtime/tiny_model.h"
#include "tflite_subset_generated.h"

namespace tinyedge::testing {
namespace {

TEST(Compiler, CheckedInTinyModelIsCurrent) {
  const auto c = model::compile(tiny_graph(), tiny_metadata());
  ASSERT_EQ(c.tem.size(), kTinyModelTemSize) << "regenerate: gen_tiny_model > tests/runtime/tiny_model_tem.cpp";
  EXPECT_EQ(0, std::memcmp(c.tem.data(), kTinyModelTem, kTinyModelTemSize))
      << "regenerate: gen_tiny_model > tests/runtime/tiny_model_tem.cpp";
}

TEST(Compiler, FrontEndRecordTravelsInTheModel) {
  model::ModelMetadata meta = tiny_metadata();
  meta.front_end = {1, 2, 3, 4, 5, 6, 7, 8};
  const auto c = model::compile(tiny_graph(), meta);
  runtime::Model m;
  ASSERT_EQ(runtime::Model::load(c.tem, m), runtime::Status::kOk);
  ASSERT_EQ(m.front_end().size(), meta.front_end.size()) << "the record's length must survive compilation";
  EXPECT_TRUE(std::equal(meta.front_end.begin(), meta.front_end.end(), m.front_end().begin()));
  EXPECT_EQ((m.front_end().data() - m.data()) % 4, 0) << "the record must be 4-aligned";
  runtime::Model plain;
  ASSERT_EQ(runtime::Model::load(model::compile(tiny_graph(), tiny_metadata()).tem, plain), runtime::Status::kOk);
  EXPECT_TRUE(plain.front_end().empty()) << "a model without a front-end must say so";
}

TEST(Compiler, ImportRejectsNonTflite) {
  const std::vector<uint8_t> junk(100, 0x5A);
  try {
    model::import_tflite(junk);
    FAIL() << "accepted junk";
  } catch (const model::ImportError& e) {
    EXPECT_NE(std::string(e.what()).find("not a valid TensorFlow Lite"), std::string::npos) << e.what();
  }
}

// A one-op TFLite model with the given builtin code, built with the same schema subset.
std::vector<uint8_t> one_op_tflite(int32_t builtin, int8_t tensor_type = 9) {
  namespace fb = tinyedge::tflite_fb;
  flatbuffers::FlatBufferBuilder b;
  std::vector<flatbuffers::Offset<fb::Tensor>> tensors;
  for (const char* name : {"x", "y"}) {
    const std::vector<int32_t> shape{1, 4};
    const auto q = fb::CreateQuantizationParameters(b, 0, 0, b.CreateVector(std::vector<float>{0.1f}),
                                                    b.CreateVector(std::vector<int64_t>{0}));
    tensors.push_back(fb::CreateTensor(b, b.CreateVector(shape), tensor_type, 0, b.CreateString(name), q));
  }
  const std::vector<int32_t> ins{0}, outs{1};
  const auto op = fb::CreateOperator(b, 0, b.CreateVector(ins), b.CreateVector(outs));
  const auto sg = fb::CreateSubGraph(b, b.CreateVector(tensors), b.CreateVector(ins), b.CreateVector(outs),
                                     b.CreateVector(std::vector<flatbuffers::Offset<fb::Operator>>{op}));
  const auto code = fb::CreateOperatorCode(b, static_cast<int8_t>(builtin < 127 ? builtin : 127), 0, 1, builtin);
  const auto m = fb::CreateModel(b, 3, b.CreateVector(std::vector<flatbuffers::Offset<fb::OperatorCode>>{code}),
                                 b.CreateVector(std::vector<flatbuffers::Offset<fb::SubGraph>>{sg}), 0,
                                 b.CreateVector(std::vector<flatbuffers::Offset<fb::Buffer>>{fb::CreateBuffer(b)}));
  fb::FinishModelBuffer(b, m);
  return {b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()};
}

TEST(Compiler, UnsupportedOpIsNamedWithItsTensor) {
  try {
    model::import_tflite(one_op_tflite(89));  // REDUCE_MIN
    FAIL() << "accepted REDUCE_MIN";
  } catch (const model::ImportError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("op 0"), std::string::npos) << msg;
    EXPECT_NE(msg.find("REDUCE_MIN"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'y'"), std::string::npos) << msg;
  }
}

TEST(Compiler, FloatTensorsAreRefusedByName) {
  try {
    model::import_tflite(one_op_tflite(25, /*FLOAT32*/ 0));
    FAIL() << "accepted a float model";
  } catch (const model::ImportError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("SOFTMAX"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'x'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("float32: type not supported"), std::string::npos) << msg;
  }
}

// Two chained ops: x -(first)-> y -(second)-> z, x of the given type.
std::vector<uint8_t> two_op_tflite(int32_t first, int32_t second, int8_t x_type) {
  namespace fb = tinyedge::tflite_fb;
  flatbuffers::FlatBufferBuilder b;
  std::vector<flatbuffers::Offset<fb::Tensor>> tensors;
  for (const char* name : {"x", "y", "z"}) {
    const std::vector<int32_t> shape{1, 4};
    const auto q = fb::CreateQuantizationParameters(b, 0, 0, b.CreateVector(std::vector<float>{0.1f}),
                                                    b.CreateVector(std::vector<int64_t>{0}));
    tensors.push_back(
        fb::CreateTensor(b, b.CreateVector(shape), name[0] == 'x' ? x_type : 9, 0, b.CreateString(name), q));
  }
  const std::vector<int32_t> x{0}, y{1}, z{2};
  const std::vector<flatbuffers::Offset<fb::Operator>> ops{
      fb::CreateOperator(b, 0, b.CreateVector(x), b.CreateVector(y)),
      fb::CreateOperator(b, 1, b.CreateVector(y), b.CreateVector(z))};
  const auto sg =
      fb::CreateSubGraph(b, b.CreateVector(tensors), b.CreateVector(x), b.CreateVector(z), b.CreateVector(ops));
  std::vector<flatbuffers::Offset<fb::OperatorCode>> codes;
  for (int32_t code : {first, second}) {
    codes.push_back(fb::CreateOperatorCode(b, static_cast<int8_t>(code < 127 ? code : 127), 0, 1, code));
  }
  const auto m =
      fb::CreateModel(b, 3, b.CreateVector(codes), b.CreateVector(std::vector<flatbuffers::Offset<fb::SubGraph>>{sg}),
                      0, b.CreateVector(std::vector<flatbuffers::Offset<fb::Buffer>>{fb::CreateBuffer(b)}));
  fb::FinishModelBuffer(b, m);
  return {b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()};
}

TEST(Compiler, ImportReportsEveryUnsupportedOpAndTypeAtOnce) {
  // A uint8 op 126 followed by a REDUCE_MIN (89 in the public schema): both ops and the uint8 tensor, by TFLite name,
  // in one error.
  try {
    model::import_tflite(two_op_tflite(126, 89, /*UINT8*/ 3));
    FAIL() << "accepted BATCH_MATMUL and REDUCE_MIN";
  } catch (const model::ImportError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("3 problems"), std::string::npos) << msg;
    EXPECT_NE(msg.find("op 0 BATCH_MATMUL: not supported"), std::string::npos) << msg;
    EXPECT_NE(msg.find("op 1 REDUCE_MIN: not supported"), std::string::npos) << msg;
    EXPECT_NE(msg.find("tensor 0 'x' uint8: type not supported"), std::string::npos) << msg;
  }
}

TEST(Compiler, GraphErrorsNameTheOp) {
  model::Graph g = tiny_graph();
  g.tensors[g.ops[0].outputs[0]].shape = {1, 5, 6, 4};  // SAME conv cannot produce 5 rows from 6
  try {
    model::compile(g, tiny_metadata());
    FAIL() << "accepted a wrong output shape";
  } catch (const model::CompileError& e) {
    EXPECT_NE(std::string(e.what()).find("op 0 (CONV_2D)"), std::string::npos) << e.what();
  }
  model::Graph h = tiny_graph();
  h.ops[3].inputs = {h.ops[3].inputs[0]};  // ADD with one input
  EXPECT_THROW(model::compile(h, tiny_metadata()), model::CompileError);
  model::Graph k = tiny_graph();
  std::swap(k.ops[0], k.ops[1]);  // reads before written
  EXPECT_THROW(model::compile(k, tiny_metadata()), model::CompileError);
}

TEST(Planner, SeparatesLiveBuffersAndUsesInPlaceGaps) {
  // a -> b -> c chain; b may overlap a with gap 10, c may sit exactly on b.
  std::vector<model::PlanBuffer> bufs{{100, 0, 1}, {100, 1, 2}, {100, 2, 3}};
  const auto none = model::plan_arena(bufs, {});
  EXPECT_EQ(none.arena_bytes, 200u);
  const auto inplace = model::plan_arena(bufs, {{0, 1, false, 10}, {1, 2, true, 0}});
  EXPECT_EQ(inplace.arena_bytes, 110u);
  EXPECT_GE(static_cast<int64_t>(inplace.offsets[0]) - inplace.offsets[1], 10);
  EXPECT_EQ(inplace.offsets[1], inplace.offsets[2]);
}

class ArenaVsTflm : public ::testing::TestWithParam<std::pair<const char*, uint32_t>> {};

TEST_P(ArenaVsTflm, ArenaIsWellUnderTfliteMicro) {
  const auto [name, tflm_m4] = GetParam();
  const auto path = shared_models_dir() / (std::string(name) + ".tflite");
  TINYEDGE_REQUIRE_SHARED(path);
  const auto bytes = read_bytes(path);
  const auto planned = compile_tflite(bytes, true);
  const auto plain = compile_tflite(bytes, false);
  EXPECT_LE(planned.arena_bytes, plain.arena_bytes);
  EXPECT_LE(planned.arena_bytes, tflm_m4 * 7 / 10)
      << name << ": arena " << planned.arena_bytes << " vs TFLM " << tflm_m4;
  // The plain plan (no in-place) must still run bit-exactly: same outputs as the in-place plan.
  Runner a, b;
  ASSERT_EQ(a.load(planned.tem), runtime::Status::kOk);
  ASSERT_EQ(b.load(plain.tem), runtime::Status::kOk);
  for (size_t i = 0; i < a.interp.input().size(); ++i) {
    a.interp.input()[i] = b.interp.input()[i] = static_cast<int8_t>((i * 37) ^ (i >> 3));
  }
  ASSERT_EQ(a.interp.invoke(), runtime::Status::kOk);
  ASSERT_EQ(b.interp.invoke(), runtime::Status::kOk);
  EXPECT_EQ(0, std::memcmp(a.interp.output().data(), b.interp.output().data(), a.interp.output().size()));
}

INSTANTIATE_TEST_SUITE_P(MlperfTiny, ArenaVsTflm,
                         ::testing::Values(std::make_pair("kws_ref_model", 22772u),
                                           std::make_pair("vww_96_int8", 100660u),
                                           std::make_pair("pretrainedResnet_quant", 54340u),
                                           std::make_pair("ad01_int8", 2260u)));

}  // namespace
}  // namespace tinyedge::testing

namespace tinyedge::testing {
namespace {

TEST(Compiler, GraphWithTwoInputsCompilesLoadsAndRuns) {
  // simple_add_model's shape of graph: ADD of two graph inputs.
  model::Graph g;
  const int a = g.add_activation("a", {1, 8}, 0.05f, 3);
  const int b = g.add_activation("b", {1, 8}, 0.1f, -2);
  const int y = g.add_activation("y", {1, 8}, 0.12f, 1);
  g.add_op(model::OpKind::kAdd, {a, b}, y);
  g.inputs = {a, b};
  g.outputs = {y};
  const auto c = model::compile(g, {});
  std::vector<uint32_t> words((c.tem.size() + 3) / 4);
  std::memcpy(words.data(), c.tem.data(), c.tem.size());
  runtime::Model m;
  ASSERT_EQ(runtime::Model::load({reinterpret_cast<const uint8_t*>(words.data()), c.tem.size()}, m),
            runtime::Status::kOk);
  ASSERT_EQ(m.input_count(), 2);
  ASSERT_EQ(m.output_count(), 1);
  EXPECT_NE(m.input_tensor(0), m.input_tensor(1));
  std::vector<uint32_t> arena(m.arena_bytes() / 4 + 1);
  runtime::Interpreter in;
  ASSERT_EQ(in.init(m, {reinterpret_cast<uint8_t*>(arena.data()), arena.size() * 4}), runtime::Status::kOk);
  ASSERT_EQ(in.input(0).size(), 8u);
  ASSERT_EQ(in.input(1).size(), 8u);
  EXPECT_TRUE(in.input(2).empty());
  for (int8_t& v : in.input(0)) v = 40;
  for (int8_t& v : in.input(1)) v = -2;  // b's zero point: adds nothing
  ASSERT_EQ(in.invoke(), runtime::Status::kOk);
  const std::vector<int8_t> a_only(in.output().begin(), in.output().end());
  // (40 - 3) * 0.05 / 0.12 + 1 = 16.4 -> 16
  for (int8_t v : a_only) EXPECT_EQ(v, 16);
  for (int8_t& v : in.input(0)) v = 40;  // the arena may reuse nothing of the inputs: write both again
  for (int8_t& v : in.input(1)) v = 10;
  ASSERT_EQ(in.invoke(), runtime::Status::kOk);
  // + (10 + 2) * 0.1 / 0.12 = 10 -> 26
  for (int8_t v : in.output()) EXPECT_EQ(v, 26);
}

}  // namespace
}  // namespace tinyedge::testing

namespace tinyedge::testing {
namespace {

runtime::Status load_words(const model::CompiledModel& c, std::vector<uint32_t>& words, runtime::Model& m) {
  words.assign((c.tem.size() + 3) / 4, 0);
  std::memcpy(words.data(), c.tem.data(), c.tem.size());
  return runtime::Model::load({reinterpret_cast<const uint8_t*>(words.data()), c.tem.size()}, m);
}

TEST(Compiler, ShapeFoldsAtCompileTime) {
  // x -> SHAPE -> s (int32 [2]); RESHAPE(x, s) -> y: SHAPE becomes a constant, one op is left.
  model::Graph g;
  const int x = g.add_activation("x", {2, 4}, 0.1f, 0);
  model::Tensor s;
  s.name = "s";
  s.type = model::DataType::kInt32;
  s.shape = {2};
  const int st = g.add_tensor(s);
  const int y = g.add_activation("y", {1, 8}, 0.1f, 0);
  g.ops.push_back({static_cast<model::OpKind>(77), {x}, {st}, {}});
  g.add_op(model::OpKind::kReshape, {x, st}, y);
  g.inputs = {x};
  g.outputs = {y};
  const auto c = model::compile(g, {});
  EXPECT_EQ(c.op_count, 1u) << "SHAPE was not folded";
}

TEST(Compiler, PersistentTensorGetsItsOwnBytesForTheWholeRun) {
  // y = ADD(x, state) with state persistent (TFLite is_variable): it is read before anything
  // writes it, keeps its own arena bytes and is flagged for the runtime to zero at init.
  model::Graph g;
  const int x = g.add_activation("x", {1, 16}, 0.1f, 0);
  const int state = g.add_activation("state", {1, 16}, 0.1f, 0);
  g.tensors[state].persistent = true;
  const int y = g.add_activation("y", {1, 16}, 0.2f, 0);
  g.add_op(model::OpKind::kAdd, {x, state}, y);
  g.inputs = {x};
  g.outputs = {y};
  const auto c = model::compile(g, {});
  EXPECT_EQ(c.arena_bytes, 32u) << "x and y share 16 bytes (ADD runs in place), state has 16 of its own";
  std::vector<uint32_t> words;
  runtime::Model m;
  ASSERT_EQ(load_words(c, words, m), runtime::Status::kOk);
  int persistent = 0;
  for (uint16_t i = 0; i < m.tensor_count(); ++i) {
    if (!(m.tensor(i).flags & runtime::kTensorPersistent)) continue;
    ++persistent;
    const uint32_t at = m.tensor(i).offset;
    EXPECT_NE(at, m.tensor(m.input_tensor()).offset) << "state overlaps the input";
    EXPECT_NE(at, m.tensor(m.output_tensor()).offset) << "state overlaps the output";
  }
  EXPECT_EQ(persistent, 1);
}

TEST(Compiler, LoweringProblemsNameTheOpByItsIndexInTheFile) {
  // op 0 is unsupported (left out of the graph); op 1's SOFTMAX output quantisation is wrong:
  // the message must say op 1, as the user's file numbers it.
  try {
    model::import_tflite(two_op_tflite(126, 25, /*INT8*/ 9));
    FAIL() << "accepted BATCH_MATMUL";
  } catch (const model::ImportError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("op 1 (SOFTMAX), tensor 2 'z': int8 softmax output must have scale 1/256"), std::string::npos)
        << msg;
  }
}

TEST(Compiler, ImportMapsEveryRuntimeTensorType) {
  // An int16 SOFTMAX imports its tensors as int16 and reaches SOFTMAX's lowering, which names the
  // output quantisation it needs (not an unknown tensor type).
  try {
    model::import_tflite(one_op_tflite(25, /*INT16*/ 7));
    FAIL() << "accepted an int16 softmax with output scale 0.1";
  } catch (const model::ImportError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("op 0 (SOFTMAX), tensor 1 'y': int16 softmax output must have scale 1/32768 and zero point 0"),
              std::string::npos)
        << msg;
  }
}

}  // namespace
}  // namespace tinyedge::testing
