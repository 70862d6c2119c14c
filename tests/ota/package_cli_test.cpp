// `tinyedge keys` / `tinyedge package` end to end through the real binary.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "node_firmware/runtime/model.h"
#include "ota/package.h"
#include "ota/sha256.h"
#include "ota/signing_key.h"
#include "tests/rollout/test_packages.h"
#include "tests/runtime/tiny_model.h"

namespace {

namespace fs = std::filesystem;

struct Result {
  int status;
  std::string output;
};

Result tinyedge(const std::string& args) {
  const std::string command = std::string(TINYEDGE_CLI) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  std::array<char, 512> buffer;
  while (pipe && fgets(buffer.data(), buffer.size(), pipe)) output += buffer.data();
  const int status = pipe ? pclose(pipe) : -1;
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

class PackageCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("tinyedge_pkg_cli_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::ofstream(dir / "m.tem", std::ios::binary)
        .write(reinterpret_cast<const char*>(tinyedge::testing::kTinyModelTem), tinyedge::testing::kTinyModelTemSize);
    std::ofstream(dir / "junk.tem", std::ios::binary).write("not a model", 11);
    tinyedge::runtime::Model model;
    ASSERT_EQ(tinyedge::runtime::Model::load(
                  std::span(tinyedge::testing::kTinyModelTem, tinyedge::testing::kTinyModelTemSize), model),
              tinyedge::runtime::Status::kOk);
    std::ofstream(dir / "in.bin", std::ios::binary) << std::string(model.input_info().element_count, '\x05');
    version = std::to_string(model.version());
    model_id = model.model_id();
  }
  void TearDown() override { fs::remove_all(dir); }
  std::string p(const std::string& name) const { return (dir / name).string(); }
  fs::path dir;
  std::string version;    // the one m.tem carries
  uint32_t model_id = 0;  // likewise
};

TEST_F(PackageCliTest, KeysPackageVerifyInspect) {
  auto r = tinyedge("keys generate --out " + p("fleet"));
  ASSERT_EQ(r.status, 0) << r.output;
  struct stat st {};
  ASSERT_EQ(::stat(p("fleet.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "private key must be readable by its owner only";
  EXPECT_TRUE(fs::exists(p("fleet.pub")));
  std::ifstream id_file(p("fleet.keyid"));
  std::string id;
  id_file >> id;
  EXPECT_EQ(id.size(), 16u);
  EXPECT_NE(r.output.find(id), std::string::npos);

  r = tinyedge("keys generate --out " + p("fleet"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("already exists"), std::string::npos) << r.output;

  // A package claims the version its model carries, or it is refused.
  const std::string other_version = std::to_string(std::stoul(version) + 2);
  r = tinyedge("package create --model " + p("m.tem") + " --version " + other_version + " --key " + p("fleet.key") +
               " -o " + p("m.tep"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("is version " + version + ", not " + other_version), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(p("m.tep")));

  r = tinyedge("package create --model " + p("m.tem") + " --version " + version + " --key " + p("fleet.key") +
               " --self-test " + p("in.bin") + " --hardware host-sim -o " + p("m.tep"));
  ASSERT_EQ(r.status, 0) << r.output;
  const auto manifest = tinyedge::ota::manifest_of(tinyedge::ota::read_package_file(p("m.tep")));
  EXPECT_EQ(manifest.self_test_output_sha256.size, 32) << "the runtime's output digest is in the manifest";
  EXPECT_GT(manifest.arena_bytes, 0u) << "arena size read from the .tem";
  r = tinyedge("package verify " + p("m.tep") + " --pub " + p("fleet.pub"));
  EXPECT_EQ(r.status, 0) << r.output;
  r = tinyedge("package inspect " + p("m.tep"));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("version       " + version), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(id), std::string::npos) << r.output;

  // Another fleet's key, and a payload byte changed: both refused with the reason.
  ASSERT_EQ(tinyedge("keys generate --out " + p("other")).status, 0);
  r = tinyedge("package verify " + p("m.tep") + " --pub " + p("other.pub"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("unknown signing key"), std::string::npos) << r.output;
  auto bytes = tinyedge::ota::read_file(p("m.tep"));
  bytes[bytes.size() - 10] ^= 0x01;
  std::ofstream(p("bad.tep"), std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  r = tinyedge("package verify " + p("bad.tep") + " --pub " + p("fleet.pub"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("SHA-256 mismatch"), std::string::npos) << r.output;
  // Not a package at all.
  r = tinyedge("package inspect " + p("fleet.pub"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("not a TinyEdge package"), std::string::npos) << r.output;
  // Not a model, and a self-test input of the wrong size.
  r = tinyedge("package create --model " + p("junk.tem") + " --version 4 --key " + p("fleet.key") + " -o " + p("n.tep"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("not a loadable .tem"), std::string::npos) << r.output;
  r = tinyedge("package create --model " + p("m.tem") + " --version " + version + " --key " + p("fleet.key") +
               " --self-test " + p("m.tem") + " -o " + p("n.tep"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("input"), std::string::npos) << r.output;
  // A public key where the private key belongs: refused, nothing written.
  r = tinyedge("package create --model " + p("m.tem") + " --version " + version + " --key " + p("fleet.pub") +
               " --arena-bytes 1000 -o " + p("n.tep"));
  EXPECT_EQ(r.status, 1);
  EXPECT_FALSE(fs::exists(p("n.tep")));
}

// --compress: the package carries the encoded payload, inspect says so, verify decodes it and checks
// the installed bytes' digest; a wrong block size and a damaged block are refused with the reason.
TEST_F(PackageCliTest, CompressedPackageVerifiesAndInspectsAndDamageIsRefused) {
  // Keys from the library, to keep this test to three runs of the CLI.
  const auto key = tinyedge::ota::SigningKey::generate();
  std::ofstream(p("fleet.key")) << key.private_pem();
  std::ofstream(p("fleet.pub")) << key.public_pem();
  auto r = tinyedge("package create --model " + p("m.tem") + " --version " + version + " --key " + p("fleet.key") +
                    " --compress --block-bytes 256 -o " + p("c.tep"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("on the wire"), std::string::npos) << r.output;
  const auto package = tinyedge::ota::read_package_file(p("c.tep"));
  const auto manifest = tinyedge::ota::manifest_of(package);
  EXPECT_EQ(manifest.encoding, tinyedge_v1_PayloadEncoding_PAYLOAD_LZ_BLOCKS);
  EXPECT_EQ(manifest.wire_block_bytes, 256u);
  EXPECT_EQ(manifest.payload_size, tinyedge::testing::kTinyModelTemSize);
  EXPECT_EQ(tinyedge::ota::installed_payload(package),
            std::vector<uint8_t>(tinyedge::testing::kTinyModelTem,
                                 tinyedge::testing::kTinyModelTem + tinyedge::testing::kTinyModelTemSize));
  r = tinyedge("package inspect " + p("c.tep"));
  EXPECT_NE(r.output.find("lz-blocks, " + std::to_string(manifest.wire_size) + " bytes on the wire in 256-byte blocks"),
            std::string::npos)
      << r.output;

  // The first block's output offset (the first wire byte: the file's end minus the wire) off the grid.
  auto bytes = tinyedge::ota::read_file(p("c.tep"));
  bytes[bytes.size() - manifest.wire_size] ^= 0x01;
  std::ofstream(p("bad.tep"), std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  r = tinyedge("package verify " + p("bad.tep") + " --pub " + p("fleet.pub"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("block 0 (wire offset 0) does not decode"), std::string::npos) << r.output;
}

// --encrypt-for: keys generate --encryption makes the pair; the package inspects as encrypted for its
// key id, verifies without the key (signature and manifest only, said so) and fully with it, and
// another fleet's key is refused by name.
TEST_F(PackageCliTest, EncryptedPackageInspectsAndVerifiesWithAndWithoutTheDecryptionKey) {
  const auto key = tinyedge::ota::SigningKey::generate();
  std::ofstream(p("fleet.key")) << key.private_pem();
  std::ofstream(p("fleet.pub")) << key.public_pem();
  const auto other = tinyedge::ota::SigningKey::generate();
  std::ofstream(p("other.key")) << other.private_pem();
  auto r = tinyedge("keys generate --encryption --out " + p("enc"));
  ASSERT_EQ(r.status, 0) << r.output;
  std::string key_id;
  std::ifstream(p("enc.keyid")) >> key_id;
  r = tinyedge("package create --model " + p("m.tem") + " --version " + version + " --key " + p("fleet.key") +
               " --compress --block-bytes 256 --encrypt-for " + p("enc.pub") + " -o " + p("e.tep"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("encrypted for key " + key_id), std::string::npos) << r.output;
  r = tinyedge("package inspect " + p("e.tep"));
  EXPECT_NE(r.output.find("AES-128-CTR, content key wrapped (ECIES P-256) for key " + key_id), std::string::npos)
      << r.output;
  r = tinyedge("package verify " + p("e.tep") + " --pub " + p("fleet.pub"));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("not checked without --decryption-key"), std::string::npos) << r.output;
  r = tinyedge("package verify " + p("e.tep") + " --pub " + p("fleet.pub") + " --decryption-key " + p("enc.key"));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.find("not checked"), std::string::npos) << r.output;
  r = tinyedge("package verify " + p("e.tep") + " --pub " + p("fleet.pub") + " --decryption-key " + p("other.key"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("encrypted for key " + key_id + ": the decryption key given"), std::string::npos) << r.output;
}

// --from: a delta against the base package's installed bytes; inspect names the base digest, verify
// checks it only against that base, and a delta cannot serve as a base itself.
TEST_F(PackageCliTest, DeltaPackageFromABaseVerifiesOnlyAgainstThatBase) {
  const auto key = tinyedge::ota::SigningKey::generate();
  std::ofstream(p("fleet.key")) << key.private_pem();
  std::ofstream(p("fleet.pub")) << key.public_pem();
  // v2: the same weights re-released under the next version (the header is all that changes).
  std::vector<uint8_t> v2(tinyedge::testing::kTinyModelTem,
                          tinyedge::testing::kTinyModelTem + tinyedge::testing::kTinyModelTemSize);
  const uint32_t next = static_cast<uint32_t>(std::stoul(version)) + 1;
  tinyedge::rollout::testing::stamp_tem_identity(v2, model_id, next);
  std::ofstream(p("v2.tem"), std::ios::binary).write(reinterpret_cast<const char*>(v2.data()), v2.size());
  auto r = tinyedge("package create --model " + p("m.tem") + " --version " + version + " --key " + p("fleet.key") +
                    " --compress -o " + p("v1.tep"));
  ASSERT_EQ(r.status, 0) << r.output;
  r = tinyedge("package create --model " + p("v2.tem") + " --version " + std::to_string(next) + " --key " +
               p("fleet.key") + " --from " + p("v1.tep") + " --block-bytes 256 -o " + p("d.tep"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("delta against"), std::string::npos) << r.output;
  const auto package = tinyedge::ota::read_package_file(p("d.tep"));
  const auto manifest = tinyedge::ota::manifest_of(package);
  EXPECT_EQ(manifest.encoding, tinyedge_v1_PayloadEncoding_PAYLOAD_LZ_DELTA);
  const auto base_digest = tinyedge::ota::sha256(
      std::span(tinyedge::testing::kTinyModelTem, tinyedge::testing::kTinyModelTemSize));
  EXPECT_TRUE(tinyedge::ota::digest_equal(base_digest, std::span(manifest.base_sha256.bytes, 32)))
      << "the manifest must name v1's installed digest";
  EXPECT_LT(package.payload.size(), 200u) << "an unchanged body costs a few bytes per block";
  r = tinyedge("package inspect " + p("d.tep"));
  EXPECT_NE(r.output.find("lz-delta, " + std::to_string(manifest.wire_size) + " bytes on the wire"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("delta base    sha256 " + tinyedge::ota::hex(base_digest)), std::string::npos) << r.output;

  r = tinyedge("package verify " + p("d.tep") + " --pub " + p("fleet.pub") + " --base " + p("v1.tep"));
  EXPECT_EQ(r.status, 0) << r.output;
  r = tinyedge("package verify " + p("d.tep") + " --pub " + p("fleet.pub"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("needs its base model"), std::string::npos) << r.output;
  r = tinyedge("package create --model " + p("v2.tem") + " --version " + std::to_string(next) + " --key " +
               p("fleet.key") + " -o " + p("v2.tep"));
  ASSERT_EQ(r.status, 0) << r.output;
  r = tinyedge("package verify " + p("d.tep") + " --pub " + p("fleet.pub") + " --base " + p("v2.tep"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("not this delta's base"), std::string::npos) << r.output;
  r = tinyedge("package create --model " + p("v2.tem") + " --version " + std::to_string(next) + " --key " +
               p("fleet.key") + " --from " + p("d.tep") + " -o " + p("dd.tep"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("itself a delta"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(p("dd.tep")));
}

// The manifest and the payload's .tem header must name the same model: `package create`
// refuses another --model-id, and `package verify` refuses a signed package whose manifest
// disagrees with its payload (the check the gateway runs on upload, from the same function).
TEST_F(PackageCliTest, ManifestAndPayloadMustNameTheSameModel) {
  ASSERT_EQ(tinyedge("keys generate --out " + p("fleet")).status, 0);
  const std::string other_id = std::to_string(model_id + 92);
  auto r = tinyedge("package create --model " + p("m.tem") + " --version " + version + " --key " + p("fleet.key") +
                    " --model-id " + other_id + " -o " + p("m.tep"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("model mismatch"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--model-id " + other_id), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(p("m.tep"))) << "a package was written for the wrong model id";

  // The matching id (or none) is fine.
  r = tinyedge("package create --model " + p("m.tem") + " --version " + version + " --key " + p("fleet.key") +
               " --model-id " + std::to_string(model_id) + " -o " + p("m.tep"));
  ASSERT_EQ(r.status, 0) << r.output;

  // Signed by the fleet key, hash intact, manifest naming model id + 92: verify refuses it.
  const auto key = tinyedge::ota::SigningKey::from_pem([&] {
    const auto bytes = tinyedge::ota::read_file(p("fleet.key"));
    return std::string(bytes.begin(), bytes.end());
  }());
  const auto good = tinyedge::ota::read_package_file(p("m.tep"));
  const uint32_t other = model_id + 92;
  tinyedge::ota::write_package_file(p("other.tep"),
                                    tinyedge::rollout::testing::resign_manifest(
                                        good, key, [other](tinyedge::ota::Manifest& m) { m.model_id = other; }));
  r = tinyedge("package verify " + p("other.tep") + " --pub " + p("fleet.pub"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("model mismatch"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("model " + other_id + " v" + version), std::string::npos) << r.output;
  r = tinyedge("package verify " + p("m.tep") + " --pub " + p("fleet.pub"));
  EXPECT_EQ(r.status, 0) << r.output;
}

}  // namespace
