// The OTA client with the real runtime behind its self-test: an MLPerf Tiny model imported to
// .tem, packaged with the TFLite Micro reference output's SHA-256 as the expected result.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "deploy/model/compile.h"
#include "deploy/model/tflite_import.h"
#include "node_firmware/app/runtime_self_test.h"
#include "node_firmware/runtime/interpreter.h"
#include "node_firmware/runtime/model.h"
#include "node_firmware/runtime/tem_format.h"
#include "ota/payload_identity.h"
#include "tests/ota/ota_harness.h"

namespace tinyedge::ota::testing {
namespace {

// ota/ reads a payload's identity at fixed offsets without depending on the runtime: they must be
// the runtime's own .tem header layout.
static_assert(kTemMagic == runtime::kTemMagic);
static_assert(kTemMagicOffset == offsetof(runtime::TemHeader, magic));
static_assert(kTemModelIdOffset == offsetof(runtime::TemHeader, model_id));
static_assert(kTemVersionOffset == offsetof(runtime::TemHeader, model_version));
static_assert(kPayloadIdentityBytes <= sizeof(runtime::TemHeader));

constexpr size_t kPage = 4096;
constexpr size_t kFlashBytes = 160 * kPage;

std::filesystem::path models_dir() {
  if (const char* env = std::getenv("TINYEDGE_SHARED_MODELS")) return env;
  return "../shared/models";
}

bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

#define REQUIRE_SHARED_FILE(path)                                                              \
  do {                                                                                         \
    if (!std::filesystem::exists(path)) {                                                      \
      if (in_ci()) FAIL() << "missing " << (path) << " (CI=true: ../shared must be present)"; \
      GTEST_SKIP() << "skipped: " << (path) << " not found (no ../shared/models in this clone)"; \
    }                                                                                          \
  } while (0)

std::vector<uint8_t> import_tem(const std::filesystem::path& tflite, uint32_t version) {
  model::ModelMetadata meta;
  meta.name = "ad01";
  meta.model_id = 4;
  meta.version = version;
  return model::compile(model::import_tflite(read_file(tflite)), meta).tem;
}

struct Rig {
  Rig() : flash(storage, kPage, 8), store(flash), self_test(arena_bytes()) {}
  std::span<uint8_t> arena_bytes() { return {reinterpret_cast<uint8_t*>(arena.data()), arena.size() * 4}; }

  std::vector<uint8_t> storage = std::vector<uint8_t>(kFlashBytes, 0xFF);
  std::vector<uint32_t> arena = std::vector<uint32_t>(64 * 1024);
  FaultFlash flash;
  app::SlotStore store;
  app::RuntimeSelfTest self_test;
  RecordingLink link;
};

class OtaRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tflite = models_dir() / "ad01_int8.tflite";
    input_path = models_dir() / "vectors" / "ad01_int8" / "in_000.bin";
    output_path = models_dir() / "vectors" / "ad01_int8" / "out_000.bin";
    for (const auto& p : {tflite, input_path, output_path}) REQUIRE_SHARED_FILE(p);
    v1_tem = import_tem(tflite, 1);
    v2_tem = import_tem(tflite, 2);
    input = read_file(input_path);
    reference_output = read_file(output_path);
  }

  Package package(const std::vector<uint8_t>& tem, uint32_t version, const Digest& expected) {
    PackageSpec spec;
    spec.model_id = 4;
    spec.version = version;
    spec.model_name = "ad01";
    spec.payload = tem;
    spec.arena_bytes = 32768;
    spec.self_test_input = input;
    spec.self_test_output_sha256 = expected;
    return create_package(spec, key);
  }

  std::unique_ptr<app::OtaClient> client(Rig& rig) {
    config.keys = std::span(&trusted, 1);
    config.hardware = "host-sim";
    config.firmware_version = 1;
    config.arena_bytes = static_cast<uint32_t>(rig.arena.size() * 4);
    return std::make_unique<app::OtaClient>(config, rig.store, rig.self_test, rig.link);
  }

  std::filesystem::path tflite, input_path, output_path;
  std::vector<uint8_t> v1_tem, v2_tem, input, reference_output;
  SigningKey key = SigningKey::generate();
  TrustedKey trusted = make_trusted_key(key.public_point());
  app::OtaConfig config;
};

TEST_F(OtaRuntimeTest, RealModelPassesGoldenSelfTestAndRunsFromItsSlot) {
  Rig rig;
  ASSERT_EQ(rig.store.provision(v1_tem, 4, 1), app::StoreStatus::kOk);
  auto ota = client(rig);
  ChunkServer server(package(v2_tem, 2, sha256(reference_output)), 512);
  serve(*ota, server, rig.link, &rig.flash);
  ASSERT_EQ(ota->state(), tinyedge_v1_OtaState_OTA_ACTIVATED)
      << to_string(ota->last_reason()) << " (runtime: " << runtime::to_string(rig.self_test.last_status()) << ")";

  // The activated model runs in place from flash and gives TFLite Micro's reference output.
  runtime::Model model;
  ASSERT_EQ(runtime::Model::load(rig.store.active_model(), model), runtime::Status::kOk);
  EXPECT_EQ(model.version(), 2u);
  runtime::Interpreter interpreter;
  ASSERT_EQ(interpreter.init(model, rig.arena_bytes()), runtime::Status::kOk);
  std::memcpy(interpreter.input().data(), input.data(), input.size());
  ASSERT_EQ(interpreter.invoke(), runtime::Status::kOk);
  const auto out = interpreter.output();
  ASSERT_EQ(out.size(), reference_output.size());
  EXPECT_EQ(std::memcmp(out.data(), reference_output.data(), out.size()), 0);

  const uint64_t wire = rig.link.uplink_bytes + rig.link.downlink_bytes;
  std::cout << "[ wire ] ad01 .tem " << v2_tem.size() << " B over 512-byte chunks: downlink " << rig.link.downlink_bytes
            << " B, uplink " << rig.link.uplink_bytes << " B, total " << wire << " B = "
            << static_cast<double>(wire) / static_cast<double>(v2_tem.size()) << "x payload\n";
}

TEST_F(OtaRuntimeTest, WrongGoldenOutputFailsSelfTestAndOldModelRuns) {
  Rig rig;
  ASSERT_EQ(rig.store.provision(v1_tem, 4, 1), app::StoreStatus::kOk);
  auto ota = client(rig);
  auto wrong = reference_output;
  wrong[0] ^= 1;  // one output value off by one bit
  ChunkServer server(package(v2_tem, 2, sha256(wrong)), 512);
  serve(*ota, server, rig.link, &rig.flash);
  EXPECT_EQ(ota->state(), tinyedge_v1_OtaState_OTA_FAILED);
  EXPECT_EQ(ota->last_reason(), Reason::kSelfTestFailed);
  ASSERT_EQ(rig.store.mount(), app::StoreStatus::kOk);
  EXPECT_EQ(rig.store.active()->version, 1u);
}

TEST_F(OtaRuntimeTest, PayloadThatIsNotAModelIsRefusedAsBadModel) {
  Rig rig;
  ASSERT_EQ(rig.store.provision(v1_tem, 4, 1), app::StoreStatus::kOk);
  auto ota = client(rig);
  PackageSpec spec;
  spec.model_id = 4;
  spec.version = 2;
  spec.payload = tem_payload(30000, 5, 4, 2);  // signed, hashed, names model 4 v2, but does not load
  ChunkServer server(create_package(spec, key), 512);
  serve(*ota, server, rig.link, &rig.flash);
  EXPECT_EQ(ota->state(), tinyedge_v1_OtaState_OTA_FAILED);
  EXPECT_EQ(ota->last_reason(), Reason::kBadModel);
  ASSERT_EQ(rig.store.mount(), app::StoreStatus::kOk);
  EXPECT_EQ(rig.store.active()->version, 1u);
}

// A real imported model (model 4 v2) in a fleet-signed package whose manifest says model 99:
// the node reads the slot's .tem header after the hash and refuses before the self-test.
TEST_F(OtaRuntimeTest, RealModelUnderAnotherModelIdIsRefusedBeforeActivation) {
  PayloadIdentity identity;
  ASSERT_EQ(read_payload_identity(v2_tem, identity), Reason::kOk);
  EXPECT_EQ(identity.model_id, 4u);
  EXPECT_EQ(identity.version, 2u);
  Rig rig;
  ASSERT_EQ(rig.store.provision(v1_tem, 4, 1), app::StoreStatus::kOk);
  auto ota = client(rig);
  const Package honest = package(v2_tem, 2, sha256(reference_output));
  const Package relabelled = rollout::testing::resign_manifest(honest, key, [](Manifest& m) { m.model_id = 99; });
  ChunkServer server(relabelled, 512);
  serve(*ota, server, rig.link, &rig.flash);
  EXPECT_EQ(ota->state(), tinyedge_v1_OtaState_OTA_FAILED);
  EXPECT_EQ(ota->last_reason(), Reason::kModelMismatch) << to_string(ota->last_reason());
  ASSERT_EQ(rig.store.mount(), app::StoreStatus::kOk);
  EXPECT_EQ(rig.store.active()->version, 1u) << "the old model must keep running";
  EXPECT_EQ(rig.store.active()->model_id, 4u);
}

}  // namespace
}  // namespace tinyedge::ota::testing
