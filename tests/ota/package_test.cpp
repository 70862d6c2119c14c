#include "ota/package.h"

#include <gtest/gtest.h>

#include "ota/chunk_server.h"
#include "ota/package_verify.h"
#include "ota/signing_key.h"
#include "ota/verify.h"
#include "tests/rollout/test_packages.h"

namespace tinyedge::ota {
namespace {

std::vector<uint8_t> pattern(size_t size, uint32_t seed) {
  std::vector<uint8_t> bytes(size);
  for (auto& b : bytes) {
    seed = seed * 1664525u + 1013904223u;
    b = static_cast<uint8_t>(seed >> 24);
  }
  return bytes;
}

PackageSpec spec(uint32_t version) {
  PackageSpec s;
  s.model_id = 7;
  s.version = version;
  s.model_name = "ad01";
  s.payload = pattern(5000, version);
  rollout::testing::stamp_tem_identity(s.payload, s.model_id, version);
  s.hardware = {"host-sim", "mps2-an386"};
  s.arena_bytes = 4096;
  s.self_test_input = pattern(64, 99);
  s.self_test_output_sha256 = sha256(s.self_test_input);
  s.created_at = 1700000000;
  return s;
}

class PackageTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    key_ = new SigningKey(SigningKey::generate());
    other_ = new SigningKey(SigningKey::generate());
  }
  static void TearDownTestSuite() {
    delete key_;
    delete other_;
  }
  TrustedKey trusted() const { return make_trusted_key(key_->public_point()); }
  static SigningKey* key_;
  static SigningKey* other_;
};
SigningKey* PackageTest::key_ = nullptr;
SigningKey* PackageTest::other_ = nullptr;

TEST_F(PackageTest, SignedManifestVerifiesAndCarriesEveryField) {
  const Package package = create_package(spec(3), *key_);
  const TrustedKey key = trusted();
  Manifest m;
  ASSERT_EQ(verify_manifest(std::span(&key, 1), package.manifest, package.signature, m), Reason::kOk);
  EXPECT_EQ(m.model_id, 7u);
  EXPECT_EQ(m.version, 3u);
  EXPECT_STREQ(m.model_name, "ad01");
  EXPECT_EQ(m.payload_size, 5000u);
  EXPECT_TRUE(digest_equal(std::span(m.payload_sha256.bytes, m.payload_sha256.size), sha256(package.payload)));
  ASSERT_EQ(m.hardware_count, 2);
  EXPECT_STREQ(m.hardware[1], "mps2-an386");
  EXPECT_EQ(m.arena_bytes, 4096u);
  EXPECT_EQ(m.self_test_input.size, 64);
  EXPECT_EQ(m.created_at, 1700000000u);
  EXPECT_TRUE(std::equal(key.id.begin(), key.id.end(), m.key_id.bytes));
}

TEST_F(PackageTest, FileRoundTripAndStructuralErrors) {
  const Package package = create_package(spec(3), *key_);
  const auto bytes = encode_package(package);
  const Package back = parse_package(bytes);
  EXPECT_EQ(back.manifest, package.manifest);
  EXPECT_EQ(back.signature, package.signature);
  EXPECT_EQ(back.payload, package.payload);

  auto truncated = bytes;
  truncated.pop_back();
  EXPECT_THROW(parse_package(truncated), PackageError);
  auto longer = bytes;
  longer.push_back(0);
  EXPECT_THROW(parse_package(longer), PackageError);
  auto bad_magic = bytes;
  bad_magic[0] = 'X';
  EXPECT_THROW(parse_package(bad_magic), PackageError);
  auto huge_manifest = bytes;
  huge_manifest[7] = 0x7f;
  EXPECT_THROW(parse_package(huge_manifest), PackageError);
}

TEST_F(PackageTest, UnknownKeyAndForeignSignatureAreRefused) {
  const TrustedKey key = trusted();
  Manifest m;
  const Package foreign = create_package(spec(3), *other_);
  EXPECT_EQ(verify_manifest(std::span(&key, 1), foreign.manifest, foreign.signature, m), Reason::kUnknownKey);
  // The right key id but the other key's signature (a forged manifest claiming our id).
  Package forged = create_package(spec(3), *key_);
  forged.signature = other_->sign(sha256(forged.manifest));
  EXPECT_EQ(verify_manifest(std::span(&key, 1), forged.manifest, forged.signature, m), Reason::kBadSignature);
}

TEST_F(PackageTest, TamperedSignatureIsRefused) {
  // Exhaustive flips run through the node's client in ota_client_test; here one per DER part.
  const Package package = create_package(spec(3), *key_);
  const TrustedKey key = trusted();
  Manifest m;
  for (size_t byte : {size_t{0}, size_t{1}, size_t{5}, package.signature.size() - 1}) {
    auto signature = package.signature;
    signature[byte] ^= 0x10;
    EXPECT_EQ(verify_manifest(std::span(&key, 1), package.manifest, signature, m), Reason::kBadSignature) << byte;
  }
  EXPECT_EQ(verify_manifest(std::span(&key, 1), package.manifest, {}, m), Reason::kBadSignature);
}

TEST_F(PackageTest, RollbackGrantVerifiesAndBindsItsFields) {
  const Digest target = sha256(pattern(10, 1));
  const auto grant = create_rollback_grant(7, 3, 2, target, 1700000001, *key_);
  const TrustedKey key = trusted();
  RollbackGrant g;
  ASSERT_EQ(verify_rollback_grant(std::span(&key, 1), grant.grant, grant.signature, g), Reason::kOk);
  EXPECT_EQ(g.from_version, 3u);
  EXPECT_EQ(g.to_version, 2u);
  EXPECT_TRUE(digest_equal(std::span(g.to_payload_sha256.bytes, 32), target));
  auto tampered = grant.grant;
  tampered[3] ^= 1;
  EXPECT_NE(verify_rollback_grant(std::span(&key, 1), tampered, grant.signature, g), Reason::kOk);
  EXPECT_THROW(create_rollback_grant(7, 2, 3, target, 0, *key_), PackageError);
}

TEST_F(PackageTest, KeysRoundTripThroughPem) {
  const SigningKey again = SigningKey::from_pem(key_->private_pem());
  EXPECT_EQ(again.public_point(), key_->public_point());
  const TrustedKey pub = public_key_from_pem(key_->public_pem());
  EXPECT_EQ(pub.id, key_->key_id());
  EXPECT_EQ(public_key_from_pem(public_key_to_pem(pub.point)).point, pub.point);
  EXPECT_THROW(SigningKey::from_pem("not a key"), KeyError);
  EXPECT_THROW(public_key_from_pem(key_->private_pem() + "garbage"), KeyError);
}

TEST_F(PackageTest, ChunkServerAnswersInsidePayloadOnly) {
  const Package package = create_package(spec(3), *key_);
  ChunkServer server(package, 256);
  const auto offer = server.offer();
  ASSERT_EQ(offer.which_payload, tinyedge_v1_Downlink_offer_tag);
  EXPECT_EQ(offer.payload.offer.chunk_size, 256u);
  tinyedge_v1_ChunkRequest request{7, 3, 4900, 512};
  const auto chunk = server.answer(request);
  ASSERT_TRUE(chunk.has_value());
  EXPECT_EQ(chunk->payload.chunk.data.size, 100);  // clamped to the payload end
  EXPECT_TRUE(std::equal(package.payload.begin() + 4900, package.payload.end(), chunk->payload.chunk.data.bytes));
  EXPECT_FALSE(server.answer({7, 3, 5000, 10}).has_value());
  EXPECT_FALSE(server.answer({7, 2, 0, 10}).has_value());
  EXPECT_NE(server.last_error().find("serving 7 v3"), std::string::npos) << server.last_error();
  EXPECT_THROW(ChunkServer(package, 0), PackageError);
  EXPECT_THROW(ChunkServer(package, 100000), PackageError);
}

// Encrypted packages (ota/payload_cipher.h) through the one verification the registry and
// `package verify` share.
TEST_F(PackageTest, EncryptedPackageOpensOnlyWithTheFleetKeyAndVerifiesWithoutOne) {
  const SigningKey encryption = SigningKey::generate(), other = SigningKey::generate();
  const DecryptionKey fleet = decryption_key_from_pem(encryption.private_pem());
  const DecryptionKey stranger = decryption_key_from_pem(other.private_pem());
  PackageSpec s = spec(2);
  s.encrypt_for = encryption.public_point();
  const Package sealed = create_package(s, *key_);
  const Package again = create_package(s, *key_);
  EXPECT_NE(sealed.payload, again.payload) << "every package needs its own content key";
  EXPECT_NE(sealed.payload, s.payload);
  const TrustedKey keys[] = {trusted()};

  const PackageVerdict opened = verify_package(sealed, keys, {}, &fleet);
  ASSERT_TRUE(opened.ok()) << opened.detail;
  EXPECT_TRUE(opened.payload_checked);
  EXPECT_EQ(installed_payload(sealed, {}, &fleet), s.payload);

  // The gateway holds no decryption key: signature and manifest are checked, the payload is left
  // to the nodes, and the verdict says so.
  const PackageVerdict unopened = verify_package(sealed, keys);
  ASSERT_TRUE(unopened.ok()) << unopened.detail;
  EXPECT_FALSE(unopened.payload_checked);
  EXPECT_NE(unopened.key, nullptr);

  const PackageVerdict wrong = verify_package(sealed, keys, {}, &stranger);
  EXPECT_EQ(wrong.reason, Reason::kNotForThisKey);
  EXPECT_NE(wrong.detail.find(key_id_hex(fleet.id)), std::string::npos) << wrong.detail;
  EXPECT_THROW(installed_payload(sealed), PackageError);
  try {
    installed_payload(sealed, {}, &stranger);
    ADD_FAILURE() << "opened with another fleet's key";
  } catch (const PackageError& e) {
    EXPECT_NE(std::string(e.what()).find("not for the decryption key given"), std::string::npos) << e.what();
  }

  Package tampered = sealed;
  tampered.payload[100] ^= 0x10;
  EXPECT_EQ(verify_package(tampered, keys, {}, &fleet).reason, Reason::kHashMismatch);

  // A wrapped key whose tag does not match (a manifest no signer made) does not open; encryption
  // fields of the wrong sizes are refused by the manifest rules.
  Manifest manifest = manifest_of(sealed);
  ContentKey content{};
  EXPECT_EQ(unwrap_content_key(&fleet, manifest, content), Reason::kOk);
  manifest.wrapped_key.bytes[kWrappedKeyBytes - 1] ^= 1;
  EXPECT_EQ(unwrap_content_key(&fleet, manifest, content), Reason::kNotForThisKey);
  manifest.wrapped_key.size = 0;
  EXPECT_EQ(check_manifest(manifest), Reason::kBadManifest);
  manifest = manifest_of(sealed);
  manifest.ephemeral_public.size = 33;
  EXPECT_EQ(check_manifest(manifest), Reason::kBadManifest);
  manifest = manifest_of(sealed);
  EXPECT_EQ(check_manifest(manifest), Reason::kOk);
}

}  // namespace
}  // namespace tinyedge::ota
