#include <gtest/gtest.h>

#include <cstddef>
#include <functional>
#include <iostream>
#include <memory>

#include "ota/verify.h"
#include "tests/ota/ota_harness.h"

namespace tinyedge::ota::testing {
namespace {

constexpr size_t kPage = 1024;
constexpr size_t kUnit = 8;
constexpr size_t kFlashBytes = 64 * kPage;
constexpr uint32_t kChunk = 512;
constexpr uint32_t kWindow = 4;

struct Keys {
  SigningKey fleet = SigningKey::generate();
  SigningKey rollback = SigningKey::generate();  // the gateway's: trusted for grants only
  SigningKey stranger = SigningKey::generate();
  TrustedKey trusted = make_trusted_key(fleet.public_point());
  TrustedKey trusted_rollback = make_trusted_key(rollback.public_point());
  // The fleet's payload encryption pair (nodes hold the private half), and another fleet's.
  SigningKey encryption = SigningKey::generate();
  SigningKey other_encryption = SigningKey::generate();
  DecryptionKey decryption = decryption_key_from_pem(encryption.private_pem());
  DecryptionKey other_decryption = decryption_key_from_pem(other_encryption.private_pem());
};

Keys& keys() {
  static Keys* k = new Keys();
  return *k;
}

PackageSpec spec_for(uint32_t version, size_t size, const SigningKey& key, uint32_t model_id = 11) {
  (void)key;
  PackageSpec spec;
  spec.model_id = model_id;
  spec.version = version;
  spec.model_name = "kws";
  spec.payload = tem_payload(size, 0x9E3779B9u * version, spec.model_id, version);
  spec.hardware = {"host-sim"};
  spec.min_firmware = 2;
  spec.arena_bytes = 20000;
  spec.self_test_input = pattern(16, 7);
  spec.self_test_output_sha256 = HashSelfTest::expected(spec.payload, spec.self_test_input);
  spec.created_at = 1700000000 + version;
  return spec;
}

Package make_package(uint32_t version, size_t size = 6000, const SigningKey* key = nullptr) {
  const SigningKey& signer = key ? *key : keys().fleet;
  return create_package(spec_for(version, size, signer), signer);
}

Package make_model_package(uint32_t model_id, uint32_t version, size_t size = 3000) {
  return create_package(spec_for(version, size, keys().fleet, model_id), keys().fleet);
}

// One node: flash (with fault injection), slot store, self-test, link and client, booted.
struct Node {
  explicit Node(std::vector<uint8_t>& storage, std::optional<size_t> cut = std::nullopt)
      : flash(storage, kPage, kUnit), store(flash) {
    flash.cut_at(cut);
    config.keys = std::span(&keys().trusted, 1);
    config.rollback_keys = std::span(&keys().trusted_rollback, 1);
    config.decryption_key = &keys().decryption;
    config.hardware = "host-sim";
    config.firmware_version = 3;
    config.arena_bytes = 32768;
    config.window = kWindow;
    mounted = store.mount();
    client = std::make_unique<app::OtaClient>(config, store, self_test, link);
  }
  uint32_t active_version() const { return store.active() ? store.active()->version : 0; }

  FaultFlash flash;
  app::SlotStore store;
  HashSelfTest self_test;
  RecordingLink link;
  app::OtaConfig config;
  app::StoreStatus mounted;
  std::unique_ptr<app::OtaClient> client;
};

// A flash image with model v1 (5000 bytes) provisioned at the factory.
std::vector<uint8_t> factory_image(const Package& v1) {
  std::vector<uint8_t> storage(kFlashBytes, 0xFF);
  FaultFlash flash(storage, kPage, kUnit);
  app::SlotStore store(flash);
  EXPECT_EQ(store.provision(v1.payload, 11, 1), app::StoreStatus::kOk);
  return storage;
}

// `base`: the base model's installed bytes, when `package` is a delta.
bool running(const Node& node, const Package& package, std::span<const uint8_t> base = {}) {
  const auto model = node.store.active_model();
  const auto installed = installed_payload(package, base, &keys().decryption);  // decrypted and decoded
  return node.mounted == app::StoreStatus::kOk &&
         std::equal(model.begin(), model.end(), installed.begin(), installed.end());
}

class OtaClientTest : public ::testing::Test {
 protected:
  OtaClientTest() : v1(make_package(1, 5000)), v2(make_package(2)), storage(factory_image(v1)) {}
  Package v1, v2;
  std::vector<uint8_t> storage;
};

TEST_F(OtaClientTest, UpdateActivatesAndSurvivesReboot) {
  Node node(storage);
  ASSERT_EQ(node.mounted, app::StoreStatus::kOk);
  ASSERT_EQ(node.active_version(), 1u);
  ChunkServer server(v2, kChunk);
  serve(*node.client, server, node.link, &node.flash);
  ASSERT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_ACTIVATED) << to_string(node.client->last_reason());
  EXPECT_EQ(node.link.last_status().active_version, 2u);
  EXPECT_EQ(node.link.last_status().bytes_written, v2.payload.size());
  EXPECT_EQ(node.link.activations, 1);
  EXPECT_EQ(server.payload_bytes_served(), v2.payload.size()) << "every byte fetched exactly once";

  const uint64_t wire = node.link.uplink_bytes + node.link.downlink_bytes;
  std::cout << "[ wire ] payload " << v2.payload.size() << " B: downlink " << node.link.downlink_bytes
            << " B, uplink " << node.link.uplink_bytes << " B, total " << wire << " B = "
            << static_cast<double>(wire) / static_cast<double>(v2.payload.size()) << "x payload\n";
  RecordProperty("wire_bytes", static_cast<int>(wire));

  Node rebooted(storage);
  EXPECT_TRUE(running(rebooted, v2));
  EXPECT_EQ(rebooted.active_version(), 2u);
}

// Expected refusal for a manifest that was altered: what the node can tell without the key.
Reason expected_manifest_reason(const std::vector<uint8_t>& manifest) {
  Manifest decoded;
  if (decode_manifest(manifest, decoded) != Reason::kOk) return Reason::kBadManifest;
  if (find_key(std::span(&keys().trusted, 1), std::span(decoded.key_id.bytes, decoded.key_id.size)) == nullptr)
    return Reason::kUnknownKey;
  return Reason::kBadSignature;
}

TEST_F(OtaClientTest, EveryManifestBitFlipIsRefusedBeforeAnyRequestAndOldModelRuns) {
  Node node(storage);
  ChunkServer server(v2, kChunk);
  const auto offer = server.offer();
  int by_reason[32] = {};
  for (size_t bit = 0; bit < v2.manifest.size() * 8; ++bit) {
    auto mutated = offer.payload.offer;
    mutated.manifest.bytes[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    const std::vector<uint8_t> bytes(mutated.manifest.bytes, mutated.manifest.bytes + mutated.manifest.size);
    node.client->on_offer(mutated, 0);
    const Reason expected = expected_manifest_reason(bytes);
    ASSERT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_REFUSED) << "manifest bit " << bit;
    ASSERT_EQ(node.client->last_reason(), expected)
        << "manifest bit " << bit << ": got " << to_string(node.client->last_reason()) << ", expected "
        << to_string(expected);
    ASSERT_EQ(node.link.last_status().reason, to_wire(expected));
    ASSERT_EQ(node.link.last_status().active_version, 1u);
    ++by_reason[static_cast<int>(expected)];
  }
  EXPECT_TRUE(node.link.all_requests.empty()) << "a chunk was requested for a forged manifest";
  EXPECT_EQ(node.flash.writes(), 0u) << "flash was written for a forged manifest";
  EXPECT_GT(by_reason[static_cast<int>(Reason::kBadSignature)], 0);
  std::cout << "[ flips ] " << v2.manifest.size() * 8 << " manifest bits: bad manifest "
            << by_reason[static_cast<int>(Reason::kBadManifest)] << ", unknown key "
            << by_reason[static_cast<int>(Reason::kUnknownKey)] << ", bad signature "
            << by_reason[static_cast<int>(Reason::kBadSignature)] << "\n";
  Node rebooted(storage);
  EXPECT_TRUE(running(rebooted, v1));
}

TEST_F(OtaClientTest, EverySignatureBitFlipIsRefusedAndOldModelRuns) {
  Node node(storage);
  ChunkServer server(v2, kChunk);
  const auto offer = server.offer();
  for (size_t bit = 0; bit < v2.signature.size() * 8; ++bit) {
    auto mutated = offer.payload.offer;
    mutated.signature.bytes[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    node.client->on_offer(mutated, 0);
    ASSERT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_REFUSED) << "signature bit " << bit;
    ASSERT_EQ(node.client->last_reason(), Reason::kBadSignature) << "signature bit " << bit;
  }
  EXPECT_TRUE(node.link.all_requests.empty());
  EXPECT_EQ(node.flash.writes(), 0u);
  Node rebooted(storage);
  EXPECT_TRUE(running(rebooted, v1));
}

TEST_F(OtaClientTest, SampledPayloadBitFlipsFailTheHashAndOldModelRuns) {
  const size_t bits = v2.payload.size() * 8;
  std::vector<size_t> sample = {0, 7, bits / 2, bits - 1};
  uint32_t state = 12345;
  while (sample.size() < 40) {
    state = state * 1103515245u + 12345u;
    sample.push_back(state % bits);
  }
  for (size_t bit : sample) {
    Package corrupted = v2;
    corrupted.payload[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    Node node(storage);
    ChunkServer server(corrupted, kChunk);
    serve(*node.client, server, node.link, &node.flash);
    ASSERT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_FAILED) << "payload bit " << bit;
    ASSERT_EQ(node.client->last_reason(), Reason::kHashMismatch) << "payload bit " << bit;
    ASSERT_EQ(node.self_test.runs, 0) << "self-test ran on a payload with the wrong hash";
    ASSERT_EQ(node.active_version(), 1u);
    Node rebooted(storage);
    ASSERT_TRUE(running(rebooted, v1)) << "payload bit " << bit;
  }
  // After all those failures a good package still installs, from zero.
  Node node(storage);
  ChunkServer server(v2, kChunk);
  serve(*node.client, server, node.link, &node.flash);
  EXPECT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_ACTIVATED);
}

TEST_F(OtaClientTest, SelfTestMismatchIsRefusedAndOldModelRuns) {
  PackageSpec spec = spec_for(2, 6000, keys().fleet);
  spec.self_test_output_sha256 = sha256(spec.payload);  // not what the model produces
  const Package wrong = create_package(spec, keys().fleet);
  Node node(storage);
  ChunkServer server(wrong, kChunk);
  serve(*node.client, server, node.link, &node.flash);
  EXPECT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_FAILED);
  EXPECT_EQ(node.client->last_reason(), Reason::kSelfTestFailed);
  Node rebooted(storage);
  EXPECT_TRUE(running(rebooted, v1));
}

TEST_F(OtaClientTest, ModelWhoseFrontEndTheNodeCannotRunFailsWithThatReasonAndOldModelRuns) {
  Node node(storage);
  node.self_test.refuse_front_end = true;
  ChunkServer server(v2, kChunk);
  serve(*node.client, server, node.link, &node.flash);
  EXPECT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_FAILED);
  EXPECT_EQ(node.client->last_reason(), Reason::kFrontEndUnsupported) << to_string(node.client->last_reason());
  EXPECT_EQ(node.link.last_status().reason, tinyedge_v1_OtaReason_OTA_FRONT_END_UNSUPPORTED);
  Node rebooted(storage);
  EXPECT_TRUE(running(rebooted, v1));
}

TEST_F(OtaClientTest, UnknownKeyIsRefusedBeforeAnyChunkRequest) {
  const Package foreign = make_package(2, 6000, &keys().stranger);
  Node node(storage);
  ChunkServer server(foreign, kChunk);
  serve(*node.client, server, node.link, &node.flash);
  EXPECT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_REFUSED);
  EXPECT_EQ(node.client->last_reason(), Reason::kUnknownKey);
  EXPECT_TRUE(node.link.all_requests.empty());
  EXPECT_EQ(node.flash.writes(), 0u);
  EXPECT_EQ(node.active_version(), 1u);
}

TEST_F(OtaClientTest, RefusesWhatDoesNotFit) {
  struct Case {
    const char* what;
    std::function<void(PackageSpec&)> change;
    Reason reason;
  };
  const std::vector<Case> cases = {
      {"hardware", [](PackageSpec& s) { s.hardware = {"mps2-an386"}; }, Reason::kWrongHardware},
      {"firmware", [](PackageSpec& s) { s.min_firmware = 4; }, Reason::kFirmwareTooOld},
      {"slot",
       [](PackageSpec& s) {
         s.payload = tem_payload(40 * kPage, 3, s.model_id, s.version);
         s.self_test_output_sha256 = HashSelfTest::expected(s.payload, s.self_test_input);
       },
       Reason::kTooLargeForSlot},
      {"ram", [](PackageSpec& s) { s.arena_bytes = 32769; }, Reason::kTooLargeForRam},
  };
  for (const auto& c : cases) {
    PackageSpec spec = spec_for(2, 6000, keys().fleet);
    c.change(spec);
    Node node(storage);
    ChunkServer server(create_package(spec, keys().fleet), kChunk);
    serve(*node.client, server, node.link, &node.flash);
    EXPECT_EQ(node.client->last_reason(), c.reason) << c.what << ": " << to_string(node.client->last_reason());
    EXPECT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_REFUSED) << c.what;
    EXPECT_TRUE(node.link.all_requests.empty()) << c.what;
    EXPECT_EQ(node.flash.writes(), 0u) << c.what;
  }
}

// Installs `package` (with an optional grant) on a booted node; returns the client's reason.
Reason install(std::vector<uint8_t>& storage, const Package& package,
               std::optional<SignedRollbackGrant> grant = std::nullopt) {
  Node node(storage);
  ChunkServer server(package, kChunk, std::move(grant));
  serve(*node.client, server, node.link, &node.flash);
  if (node.client->state() != tinyedge_v1_OtaState_OTA_ACTIVATED && node.client->last_reason() == Reason::kOk)
    return Reason::kAborted;
  return node.client->last_reason();
}

uint32_t active_version(std::vector<uint8_t>& storage) { return Node(storage).active_version(); }

TEST_F(OtaClientTest, OlderPackagesAreRefusedUnlessASignedGrantAllowsOneStep) {
  const Package v3 = make_package(3, 7000);
  ASSERT_EQ(install(storage, v2), Reason::kOk);
  ASSERT_EQ(install(storage, v3), Reason::kOk);
  ASSERT_EQ(active_version(storage), 3u);

  // Replays of older signed packages.
  EXPECT_EQ(install(storage, v2), Reason::kRollback);
  EXPECT_EQ(install(storage, v1), Reason::kRollback);
  // The running package again: nothing to do, reported as active.
  EXPECT_EQ(install(storage, v3), Reason::kOk);
  EXPECT_EQ(active_version(storage), 3u);

  const Digest v2_sha = sha256(v2.payload);
  // Grants that do not fit: wrong payload, wrong source version, unknown signer, forged signature.
  EXPECT_EQ(install(storage, v2, create_rollback_grant(11, 3, 2, sha256(v1.payload), 1800000000, keys().rollback)),
            Reason::kRollback);
  EXPECT_EQ(install(storage, v2, create_rollback_grant(11, 4, 2, v2_sha, 1800000000, keys().rollback)),
            Reason::kRollback);
  EXPECT_EQ(install(storage, v2, create_rollback_grant(11, 3, 2, v2_sha, 1800000000, keys().stranger)),
            Reason::kUnknownKey);
  auto forged = create_rollback_grant(11, 3, 2, v2_sha, 1800000000, keys().rollback);
  forged.grant[12] ^= 1;  // inside the payload digest: still decodes, signature no longer matches
  EXPECT_EQ(install(storage, v2, forged), Reason::kBadSignature);
  EXPECT_EQ(active_version(storage), 3u);

  // A valid grant takes the node from v3 to v2, once.
  const auto grant = create_rollback_grant(11, 3, 2, v2_sha, 1800000000, keys().rollback);
  EXPECT_EQ(install(storage, v2, grant), Reason::kOk);
  EXPECT_EQ(active_version(storage), 2u);
  EXPECT_EQ(install(storage, v1), Reason::kRollback) << "the grant must not open the door to other versions";

  // Back to v3, then replay the consumed grant: refused (it names v3 → v2 again, but it was used).
  ASSERT_EQ(install(storage, v3), Reason::kOk);
  EXPECT_EQ(install(storage, v2, grant), Reason::kRollback);
  EXPECT_EQ(active_version(storage), 3u);
  // A newer grant for the same step is accepted.
  EXPECT_EQ(install(storage, v2, create_rollback_grant(11, 3, 2, v2_sha, 1800000001, keys().rollback)), Reason::kOk);
  EXPECT_EQ(active_version(storage), 2u);
}

// Power is cut at every single flash erase/program of an update; after each cut the node
// reboots, must run v1 or v2 (never neither), and a resumed update completes without fetching a
// block that was written (and journalled) before the cut.
void power_cut_at_every_write(const std::vector<uint8_t>& storage, const Package& v1, const Package& v2,
                              std::span<const uint8_t> base = {}) {
  size_t total_writes = 0;
  {
    std::vector<uint8_t> clean = storage;
    Node node(clean);
    ChunkServer server(v2, kChunk);
    serve(*node.client, server, node.link, &node.flash);
    ASSERT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_ACTIVATED);
    total_writes = node.flash.writes();
  }
  ASSERT_GT(total_writes, 10u);
  int booted_old = 0, booted_new = 0;
  for (size_t cut = 0; cut < total_writes; ++cut) {
    std::vector<uint8_t> image = storage;
    std::vector<uint32_t> journalled;  // offsets of blocks whose write and mark completed
    {
      Node node(image, cut);
      ChunkServer server(v2, kChunk);
      const auto offer = server.offer();
      node.client->on_offer(offer.payload.offer, 0);
      while (!node.link.requests.empty() && !node.flash.power_lost()) {
        const auto request = node.link.requests.front();
        node.link.requests.pop_front();
        node.client->on_chunk(server.answer(request)->payload.chunk, 0);
        if (!node.flash.power_lost()) journalled.push_back(request.offset);
      }
      ASSERT_TRUE(node.flash.power_lost()) << "cut " << cut << " never happened";
    }
    Node rebooted(image);
    const bool old_model = running(rebooted, v1), new_model = running(rebooted, v2, base);
    ASSERT_TRUE(old_model || new_model) << "cut at write " << cut << " of " << total_writes
                                        << ": node boots no valid model (" << app::to_string(rebooted.mounted) << ")";
    ASSERT_EQ(rebooted.active_version(), old_model ? 1u : 2u);
    ASSERT_EQ(rebooted.store.installed_version(11), old_model ? 1u : 2u)
        << "cut " << cut << ": the anti-rollback floor does not match the model that boots";
    (old_model ? booted_old : booted_new)++;

    ChunkServer server(v2, kChunk);
    serve(*rebooted.client, server, rebooted.link, &rebooted.flash);
    ASSERT_EQ(rebooted.client->state(), tinyedge_v1_OtaState_OTA_ACTIVATED)
        << "cut " << cut << ": resume ended with " << to_string(rebooted.client->last_reason());
    for (const auto& request : rebooted.link.all_requests) {
      ASSERT_EQ(std::count(journalled.begin(), journalled.end(), request.offset), 0)
          << "cut " << cut << ": block at " << request.offset << " was written before the cut and fetched again";
    }
    ASSERT_LE(server.payload_bytes_served() + journalled.size() * kChunk, v2.payload.size() + kChunk)
        << "cut " << cut;
    Node final_boot(image);
    ASSERT_TRUE(running(final_boot, v2, base)) << "cut " << cut;
  }
  std::cout << "[ power cut ] " << total_writes << " cuts: rebooted into v1 " << booted_old << "x, v2 " << booted_new
            << "x, never neither\n";
  EXPECT_GT(booted_old, 0);
  EXPECT_GT(booted_new, 0);
}

TEST_F(OtaClientTest, PowerCutAtEveryFlashWriteNeverBricksAndResumes) { power_cut_at_every_write(storage, v1, v2); }

// Drives one update on `image` with power cut at write `cut`; returns the offsets of blocks whose
// chunk was fully handled (written and journalled) before the cut, and how many writes ran.
std::vector<uint32_t> update_until_cut(std::vector<uint8_t>& image, const Package& package, size_t cut,
                                       bool* cut_happened = nullptr) {
  std::vector<uint32_t> journalled;
  Node node(image, cut);
  ChunkServer server(package, kChunk);
  node.client->on_offer(server.offer().payload.offer, 0);
  while (!node.link.requests.empty() && !node.flash.power_lost()) {
    const auto request = node.link.requests.front();
    node.link.requests.pop_front();
    node.client->on_chunk(server.answer(request)->payload.chunk, 0);
    if (!node.flash.power_lost()) journalled.push_back(request.offset);
  }
  if (cut_happened) *cut_happened = node.flash.power_lost();
  return journalled;
}

// Power is cut during an update and then again at every write of the resumed update: still
// never neither model, and the third boot finishes the job.
TEST_F(OtaClientTest, SecondPowerCutDuringTheResumeNeverBricks) {
  for (size_t first_cut : {size_t{2}, size_t{12}, size_t{30}}) {
    std::vector<uint8_t> after_first = storage;
    bool cut = false;
    update_until_cut(after_first, v2, first_cut, &cut);
    ASSERT_TRUE(cut);
    for (size_t second_cut = 0;; ++second_cut) {
      std::vector<uint8_t> image = after_first;
      bool second = false;
      update_until_cut(image, v2, second_cut, &second);
      Node rebooted(image);
      ASSERT_TRUE(running(rebooted, v1) || running(rebooted, v2))
          << "cuts at " << first_cut << " then " << second_cut << ": no valid model";
      ChunkServer server(v2, kChunk);
      serve(*rebooted.client, server, rebooted.link, &rebooted.flash);
      ASSERT_EQ(rebooted.client->state(), tinyedge_v1_OtaState_OTA_ACTIVATED)
          << "cuts at " << first_cut << " then " << second_cut << ": " << to_string(rebooted.client->last_reason());
      if (!second) break;  // the resumed update ran to the end without reaching this cut
    }
  }
}

TEST_F(OtaClientTest, EmptyNodeInstallsItsFirstModel) {
  std::vector<uint8_t> blank(kFlashBytes, 0xFF);
  {
    Node node(blank);
    EXPECT_EQ(node.mounted, app::StoreStatus::kNoRecord);
    ChunkServer server(v2, kChunk);
    serve(*node.client, server, node.link, &node.flash);
    ASSERT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_ACTIVATED) << to_string(node.client->last_reason());
  }
  Node rebooted(blank);
  EXPECT_TRUE(running(rebooted, v2));
}

TEST_F(OtaClientTest, DownloadInterruptedAtHalfResumesWithinOneWindow) {
  const Package big = make_package(2, 20000);
  Node node(storage);
  ChunkServer server(big, kChunk);
  const size_t blocks = (big.payload.size() + kChunk - 1) / kChunk;
  serve(*node.client, server, node.link, &node.flash, blocks / 2);
  ASSERT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_DOWNLOADING);
  // The link drops: the window of requests in flight is answered by the gateway but lost.
  for (const auto& request : node.link.requests) (void)server.answer(request);
  node.link.requests.clear();

  Node rebooted(storage);  // and the node reboots before the gateway offers again
  EXPECT_TRUE(running(rebooted, v1));
  serve(*rebooted.client, server, rebooted.link, &rebooted.flash);
  ASSERT_EQ(rebooted.client->state(), tinyedge_v1_OtaState_OTA_ACTIVATED);
  EXPECT_LE(server.payload_bytes_served(), big.payload.size() + kWindow * kChunk);
  const uint64_t wire = node.link.uplink_bytes + node.link.downlink_bytes + rebooted.link.uplink_bytes +
                        rebooted.link.downlink_bytes;
  std::cout << "[ resume ] payload " << big.payload.size() << " B, payload bytes sent "
            << server.payload_bytes_served() << " B (limit " << big.payload.size() + kWindow * kChunk
            << "), all messages " << wire << " B\n";
  Node final_boot(storage);
  EXPECT_TRUE(running(final_boot, big));
}

// The gateway sizes the window from the link (a BLE connection's MTU) and says so in the offer; the
// node keeps that many requests outstanding, up to what it can track, and its own without one.
TEST_F(OtaClientTest, OfferedWindowSetsTheRequestsOutstanding) {
  for (const uint32_t offered : {0u, 2u, 6u, 50u}) {
    Node node(storage);
    ChunkServer server(v2, kChunk);
    auto offer = server.offer();
    offer.payload.offer.window = offered;
    node.client->on_offer(offer.payload.offer, 0);
    const uint32_t expected = offered == 0 ? kWindow : std::min(offered, app::OtaClient::kMaxWindow);
    EXPECT_EQ(node.link.requests.size(), expected) << "offered window " << offered;
    EXPECT_EQ(node.client->window(), expected);
    // Each chunk received lets exactly one more request out: never more than the window waits.
    const auto request = node.link.requests.front();
    node.link.requests.pop_front();
    node.client->on_chunk(server.answer(request)->payload.chunk, 0);
    EXPECT_EQ(node.link.requests.size(), expected) << "offered window " << offered;
  }
}

TEST_F(OtaClientTest, LostChunksAreRequestedAgainAfterTimeout) {
  Node node(storage);
  ChunkServer server(v2, kChunk);
  const auto offer = server.offer();
  node.client->on_offer(offer.payload.offer, 0);
  ASSERT_EQ(node.link.requests.size(), kWindow);
  node.link.requests.pop_front();  // lost on the way
  uint32_t now = 0;
  while (node.client->busy() && now < 60000) {
    while (!node.link.requests.empty()) {
      const auto request = node.link.requests.front();
      node.link.requests.pop_front();
      node.client->on_chunk(server.answer(request)->payload.chunk, now);
    }
    now += 1000;
    node.client->tick(now);
  }
  EXPECT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_ACTIVATED);
}

TEST_F(OtaClientTest, SilentGatewayTimesOutAndKeepsOldModel) {
  Node node(storage);
  ChunkServer server(v2, kChunk);
  node.client->on_offer(server.offer().payload.offer, 0);
  for (uint32_t now = 0; now < 100000 && node.client->busy(); now += 1000) node.client->tick(now);
  EXPECT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_FAILED);
  EXPECT_EQ(node.client->last_reason(), Reason::kTimeout);
  EXPECT_EQ(node.active_version(), 1u);
}

TEST_F(OtaClientTest, ChunksThatDoNotFitAreIgnored) {
  Node node(storage);
  ChunkServer server(v2, kChunk);
  node.client->on_offer(server.offer().payload.offer, 0);
  auto chunk = server.answer(node.link.requests.front())->payload.chunk;
  auto wrong_version = chunk;
  wrong_version.version = 9;
  auto misaligned = chunk;
  misaligned.offset = 3;
  auto short_data = chunk;
  short_data.data.size = 10;
  for (const auto& bad : {wrong_version, misaligned, short_data}) node.client->on_chunk(bad, 0);
  EXPECT_EQ(node.client->chunks_rejected(), 3u);
  EXPECT_TRUE(node.client->busy());
  // A second offer of another package while busy is refused without disturbing the download.
  const Package v3 = make_package(3);
  ChunkServer other(v3, kChunk);
  node.client->on_offer(other.offer().payload.offer, 0);
  EXPECT_EQ(node.link.last_status().reason, to_wire(Reason::kBusy));
  EXPECT_TRUE(node.client->busy());
}

// A fleet-signed package whose manifest names another model (or version) than the .tem it
// carries: the hash matches what was signed, but the node must not activate it.
TEST_F(OtaClientTest, PayloadOfAnotherModelOrVersionIsRefusedAndOldModelRuns) {
  struct Case {
    const char* what;
    std::function<void(Manifest&)> edit;
  };
  const std::vector<Case> cases = {
      {"model id", [](Manifest& m) { m.model_id = 99; }},
      {"version", [](Manifest& m) { m.version = 3; }},
  };
  for (const auto& c : cases) {
    const Package forged = rollout::testing::resign_manifest(v2, keys().fleet, c.edit);
    Node node(storage);
    ChunkServer server(forged, kChunk);
    serve(*node.client, server, node.link, &node.flash);
    EXPECT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_FAILED) << c.what;
    EXPECT_EQ(node.client->last_reason(), Reason::kModelMismatch)
        << c.what << ": " << to_string(node.client->last_reason());
    EXPECT_EQ(node.link.last_status().reason, tinyedge_v1_OtaReason_OTA_MODEL_MISMATCH) << c.what;
    EXPECT_EQ(node.link.last_status().active_version, 1u) << c.what;
    EXPECT_EQ(node.link.activations, 0) << c.what;
    EXPECT_EQ(node.self_test.runs, 0) << c.what << ": self-test ran on another model's payload";
    Node rebooted(storage);
    EXPECT_TRUE(running(rebooted, v1)) << c.what << ": the old model must keep running";
    EXPECT_EQ(rebooted.store.installed_version(99), 0u) << c.what;
    EXPECT_EQ(rebooted.store.installed_version(11), 1u) << c.what;
  }
  // The honest package still installs afterwards.
  EXPECT_EQ(Node(storage).store.installed_version(11), 1u);
  Node node(storage);
  ChunkServer server(v2, kChunk);
  serve(*node.client, server, node.link, &node.flash);
  EXPECT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_ACTIVATED) << to_string(node.client->last_reason());
}

TEST_F(OtaClientTest, AntiRollbackCountsPerModelId) {
  ASSERT_EQ(install(storage, make_model_package(7, 5)), Reason::kOk);
  EXPECT_EQ(install(storage, make_model_package(8, 2)), Reason::kOk)
      << "model 8 v2 must not be refused because model 7 is at v5";
  EXPECT_EQ(install(storage, make_model_package(7, 4)), Reason::kRollback) << "model 7 v4 after model 7 v5";
  EXPECT_EQ(install(storage, make_model_package(8, 1)), Reason::kRollback) << "model 8 v1 after model 8 v2";
  EXPECT_EQ(install(storage, v1), Reason::kRollback) << "model 11 v1 again (its floor is 1)";
  EXPECT_EQ(install(storage, make_model_package(7, 6)), Reason::kOk);
  Node rebooted(storage);
  EXPECT_EQ(rebooted.store.installed_version(7), 6u);
  EXPECT_EQ(rebooted.store.installed_version(8), 2u);
  EXPECT_EQ(rebooted.store.installed_version(11), 1u);
  EXPECT_EQ(rebooted.active_version(), 6u);
}

// The floors live in a fixed table in the boot record: a model id beyond it is refused before
// anything is downloaded, and the models already tracked keep updating.
TEST_F(OtaClientTest, FullAntiRollbackTableRefusesANewModelIdClearly) {
  // The factory model (11) holds one entry.
  for (uint32_t model = 100; model < 100 + app::kMaxModelFloors - 1; ++model)
    ASSERT_EQ(install(storage, make_model_package(model, 1)), Reason::kOk) << "model " << model;
  const std::vector<uint8_t> before = storage;
  Node node(storage);
  EXPECT_EQ(node.store.floor_count(), app::kMaxModelFloors);
  ChunkServer server(make_model_package(200, 1), kChunk);
  serve(*node.client, server, node.link, &node.flash);
  EXPECT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_REFUSED);
  EXPECT_EQ(node.client->last_reason(), Reason::kRollbackTableFull) << to_string(node.client->last_reason());
  EXPECT_EQ(node.link.last_status().reason, tinyedge_v1_OtaReason_OTA_ROLLBACK_TABLE_FULL);
  EXPECT_TRUE(node.link.all_requests.empty()) << "chunks requested for a model the node cannot track";
  EXPECT_EQ(storage, before) << "a refused offer changed the flash";
  EXPECT_EQ(install(storage, make_model_package(100, 2)), Reason::kOk) << "a tracked model still updates";
  EXPECT_EQ(install(storage, make_model_package(11, 2)), Reason::kOk) << "a tracked model still updates";
}

// A package signed by the rollback-only key is not a package this node trusts.
TEST_F(OtaClientTest, PackageSignedByTheRollbackKeyIsRefusedAsUnknownKey) {
  const Package by_rollback_key = make_package(2, 6000, &keys().rollback);
  Node node(storage);
  ChunkServer server(by_rollback_key, kChunk);
  serve(*node.client, server, node.link, &node.flash);
  EXPECT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_REFUSED);
  EXPECT_EQ(node.client->last_reason(), Reason::kUnknownKey) << to_string(node.client->last_reason());
  EXPECT_TRUE(node.link.all_requests.empty());
  EXPECT_EQ(node.flash.writes(), 0u);
  EXPECT_EQ(node.active_version(), 1u);
}

// Rewrites the newest boot record of `image` as firmware before per-model floors wrote it: magic
// "TEBR" and one anti-rollback floor `installed_version` for every model.
void write_legacy_record(std::vector<uint8_t>& image, uint32_t installed_version) {
  FaultFlash flash(image, kPage, kUnit);
  app::SlotStore store(flash);
  ASSERT_EQ(store.mount(), app::StoreStatus::kOk);
  const int copy = static_cast<int>((store.record_sequence() - 1) % 2);  // copies alternate from copy 0
  app::BootRecord record;
  std::memcpy(&record, image.data() + copy * kPage, sizeof(record));
  ASSERT_EQ(record.sequence, store.record_sequence());
  struct Legacy {
    uint32_t magic, sequence, active_slot, installed_version;
    uint64_t last_grant_created_at;
    app::SlotInfo slots[2];
    uint32_t crc, reserved;
  } legacy{0x54454252,
           record.sequence,
           record.active_slot,
           installed_version,
           record.last_grant_created_at,
           {record.slots[0], record.slots[1]},
           0,
           0};
  static_assert(sizeof(Legacy) == 128);
  legacy.crc = app::crc32(std::span(reinterpret_cast<const uint8_t*>(&legacy), offsetof(Legacy, crc)));
  std::memset(image.data() + copy * kPage, 0xFF, kPage);
  std::memcpy(image.data() + copy * kPage, &legacy, sizeof(legacy));
}

// A node whose flash old firmware wrote still boots; the old single floor becomes the floor of
// the model it runs, and other models start from zero.
TEST_F(OtaClientTest, BootRecordFromOldFirmwareBootsAndKeepsItsFloorForTheActiveModel) {
  write_legacy_record(storage, 3);
  {
    Node node(storage);
    ASSERT_EQ(node.mounted, app::StoreStatus::kOk);
    EXPECT_TRUE(node.store.legacy_record());
    EXPECT_TRUE(running(node, v1));
    EXPECT_EQ(node.store.installed_version(11), 3u);
    EXPECT_EQ(node.store.installed_version(12), 0u);
  }
  EXPECT_EQ(install(storage, v2), Reason::kRollback) << "the old floor (3) still guards model 11";
  EXPECT_EQ(install(storage, make_model_package(12, 2)), Reason::kOk);
  Node rebooted(storage);
  EXPECT_FALSE(rebooted.store.legacy_record()) << "the next record is written in the new format";
  EXPECT_EQ(rebooted.store.installed_version(11), 3u);
  EXPECT_EQ(rebooted.store.installed_version(12), 2u);
}

// Power cut at every flash write of the first update after old firmware: the node always boots
// one of the two models and never loses the floor the old record held.
TEST_F(OtaClientTest, PowerCutAtEveryWriteOfTheFirstUpdateAfterOldFirmwareKeepsTheFloor) {
  write_legacy_record(storage, 3);
  const Package other = make_model_package(12, 2);
  size_t total_writes = 0;
  {
    std::vector<uint8_t> image = storage;
    Node node(image);
    ChunkServer server(other, kChunk);
    serve(*node.client, server, node.link, &node.flash);
    ASSERT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_ACTIVATED);
    total_writes = node.flash.writes();
  }
  for (size_t cut = 0; cut < total_writes; ++cut) {
    std::vector<uint8_t> image = storage;
    bool happened = false;
    update_until_cut(image, other, cut, &happened);
    ASSERT_TRUE(happened) << "cut " << cut;
    Node rebooted(image);
    const bool old_model = running(rebooted, v1), new_model = running(rebooted, other);
    ASSERT_TRUE(old_model || new_model) << "cut " << cut << ": no valid model (" << app::to_string(rebooted.mounted)
                                        << ")";
    ASSERT_EQ(rebooted.store.installed_version(11), 3u) << "cut " << cut << ": the old firmware's floor was lost";
    ASSERT_EQ(rebooted.store.installed_version(12), new_model ? 2u : 0u) << "cut " << cut;
    ASSERT_EQ(rebooted.store.legacy_record(), old_model) << "cut " << cut;
  }

}

// --- compressed packages (PAYLOAD_LZ_BLOCKS) ---

// A payload that compresses as int8 weights do: zero rows, small values, repeated rows.
std::vector<uint8_t> weights_payload(size_t size, uint32_t seed, uint32_t model_id, uint32_t version) {
  std::vector<uint8_t> bytes = pattern(size, seed);
  for (size_t i = 0; i < size; ++i) {
    const size_t row = i / 48;
    if (row % 5 == 0) {
      bytes[i] = 0;
    } else if (row % 5 == 2 && i >= 96) {
      bytes[i] = bytes[i - 96];
    } else {
      bytes[i] = static_cast<uint8_t>(static_cast<int8_t>(bytes[i]) / 24);
    }
  }
  rollout::testing::stamp_tem_identity(bytes, model_id, version);
  return bytes;
}

Package make_compressed_package(uint32_t version, size_t size, uint32_t block_bytes = 512,
                                tinyedge_v1_PayloadEncoding encoding = tinyedge_v1_PayloadEncoding_PAYLOAD_LZ_BLOCKS) {
  PackageSpec spec = spec_for(version, size, keys().fleet);
  spec.payload = weights_payload(size, 0x51u * version, spec.model_id, version);
  spec.self_test_output_sha256 = HashSelfTest::expected(spec.payload, spec.self_test_input);
  spec.encoding = encoding;
  spec.wire_block_bytes = block_bytes;
  return create_package(spec, keys().fleet);
}

class CompressedOtaTest : public OtaClientTest {
 protected:
  CompressedOtaTest() : v2c(make_compressed_package(2, 7000)) {}
  Package v2c;
};

TEST_F(CompressedOtaTest, CompressedUpdateActivatesWithFewerBytesOnTheWire) {
  PackageSpec plain_spec = spec_for(2, 7000, keys().fleet);
  plain_spec.payload = installed_payload(v2c);
  plain_spec.self_test_output_sha256 = HashSelfTest::expected(plain_spec.payload, plain_spec.self_test_input);
  const Package plain = create_package(plain_spec, keys().fleet);
  uint64_t wire[2] = {};
  for (const Package* package : {static_cast<const Package*>(&plain), static_cast<const Package*>(&v2c)}) {
    std::vector<uint8_t> image = storage;
    Node node(image);
    ChunkServer server(*package, kChunk);
    serve(*node.client, server, node.link, &node.flash);
    ASSERT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_ACTIVATED) << to_string(node.client->last_reason());
    EXPECT_EQ(server.payload_bytes_served(), package->payload.size()) << "every wire byte fetched exactly once";
    EXPECT_EQ(node.link.last_status().total_bytes, package->payload.size()) << "progress counts wire bytes";
    wire[package == &v2c] = node.link.uplink_bytes + node.link.downlink_bytes;
    Node rebooted(image);
    EXPECT_TRUE(running(rebooted, *package));
    EXPECT_EQ(rebooted.store.active()->size, 7000u) << "the slot records the installed size";
  }
  std::cout << "[ wire ] 7000-byte weights: plain " << wire[0] << " B, compressed " << wire[1] << " B ("
            << v2c.payload.size() << " B payload on the wire)\n";
  EXPECT_LT(wire[1], wire[0] * 3 / 4);
}

TEST_F(CompressedOtaTest, PowerCutAtEveryFlashWriteOfACompressedInstallNeverBricksAndResumes) {
  power_cut_at_every_write(storage, v1, v2c);
}

TEST_F(CompressedOtaTest, SampledWireBitFlipsAreRefusedAndOldModelRuns) {
  const size_t bits = v2c.payload.size() * 8;
  std::vector<size_t> sample = {0, 3, 7, 40, bits / 2, bits - 1};
  uint32_t state = 4242;
  while (sample.size() < 40) {
    state = state * 1103515245u + 12345u;
    sample.push_back(state % bits);
  }
  int by_reason[32] = {};
  int same_bytes = 0;
  for (size_t bit : sample) {
    Package corrupted = v2c;
    corrupted.payload[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    std::vector<uint8_t> image = storage;
    Node node(image);
    ChunkServer server(corrupted, kChunk);
    serve(*node.client, server, node.link, &node.flash);
    if (node.client->state() == tinyedge_v1_OtaState_OTA_ACTIVATED) {
      // Another match that copies the same bytes (e.g. a zero from another distance in a zero
      // row): what is installed is exactly what was signed, so there is nothing to refuse.
      Node rebooted(image);
      ASSERT_TRUE(running(rebooted, v2c)) << "wire bit " << bit << ": activated bytes that were not signed";
      ++same_bytes;
      continue;
    }
    ASSERT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_FAILED) << "wire bit " << bit;
    const Reason reason = node.client->last_reason();
    ASSERT_TRUE(reason == Reason::kHashMismatch || reason == Reason::kBadEncoding)
        << "wire bit " << bit << ": " << to_string(reason);
    ASSERT_EQ(node.link.last_status().reason, to_wire(reason));
    ASSERT_EQ(node.self_test.runs, 0) << "self-test ran on a payload that does not decode to the signed bytes";
    ++by_reason[static_cast<int>(reason)];
    Node rebooted(storage);
    ASSERT_TRUE(running(rebooted, v1)) << "wire bit " << bit;
  }
  std::cout << "[ flips ] 40 wire bits of a compressed package: bad encoding "
            << by_reason[static_cast<int>(Reason::kBadEncoding)] << ", hash mismatch "
            << by_reason[static_cast<int>(Reason::kHashMismatch)] << ", decoded to the signed bytes anyway "
            << same_bytes << "\n";
  EXPECT_LT(same_bytes, 8);
  EXPECT_GT(by_reason[static_cast<int>(Reason::kBadEncoding)], 0);
  EXPECT_GT(by_reason[static_cast<int>(Reason::kHashMismatch)], 0);
  // A failed encoded download starts over: the good package installs afterwards.
  Node node(storage);
  Package corrupted = v2c;
  corrupted.payload[0] ^= 1;
  ChunkServer bad(corrupted, kChunk);
  serve(*node.client, bad, node.link, &node.flash);
  ASSERT_EQ(node.client->last_reason(), Reason::kBadEncoding);
  ChunkServer good(v2c, kChunk);
  serve(*node.client, good, node.link, &node.flash);
  EXPECT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_ACTIVATED) << to_string(node.client->last_reason());
}

// The encoding fields sit at the manifest's end; every bit of them is signed.
TEST_F(CompressedOtaTest, EveryBitFlipOfTheManifestsEncodingFieldsIsRefused) {
  Node node(storage);
  ChunkServer server(v2c, kChunk);
  const auto offer = server.offer();
  const size_t tail = 12;
  for (size_t bit = (v2c.manifest.size() - tail) * 8; bit < v2c.manifest.size() * 8; ++bit) {
    auto mutated = offer.payload.offer;
    mutated.manifest.bytes[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    node.client->on_offer(mutated, 0);
    ASSERT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_REFUSED) << "manifest bit " << bit;
    const std::vector<uint8_t> bytes(mutated.manifest.bytes, mutated.manifest.bytes + mutated.manifest.size);
    ASSERT_EQ(node.client->last_reason(), expected_manifest_reason(bytes)) << "manifest bit " << bit;
  }
  EXPECT_TRUE(node.link.all_requests.empty());
  EXPECT_EQ(node.flash.writes(), 0u);
}

TEST_F(CompressedOtaTest, SignedUnknownEncodingAndChunksSmallerThanAWireBlockAreRefusedUpFront) {
  // A package whose (signed) manifest names an encoding this node does not know.
  Manifest manifest = manifest_of(v2c);
  manifest.encoding = static_cast<tinyedge_v1_PayloadEncoding>(9);
  std::vector<uint8_t> bytes(kMaxManifestBytes);
  const auto encoded = protocol::encode_message(tinyedge_v1_Manifest_fields, &manifest, bytes);
  ASSERT_TRUE(encoded.ok);
  bytes.resize(encoded.size);
  Package unknown = v2c;
  unknown.manifest = bytes;
  unknown.signature = keys().fleet.sign(sha256(bytes));
  {
    Node node(storage);
    ChunkServer server(unknown, kChunk);
    serve(*node.client, server, node.link, &node.flash);
    EXPECT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_REFUSED);
    EXPECT_EQ(node.client->last_reason(), Reason::kBadEncoding) << to_string(node.client->last_reason());
    EXPECT_EQ(node.link.last_status().reason, tinyedge_v1_OtaReason_OTA_BAD_ENCODING);
    EXPECT_EQ(node.link.last_status().version, 2u) << "the refusal names the package";
    EXPECT_TRUE(node.link.all_requests.empty());
    EXPECT_EQ(node.flash.writes(), 0u);
  }
  {
    // 512-byte wire blocks cannot travel in 256-byte chunks.
    Node node(storage);
    ChunkServer server(v2c, 256);
    serve(*node.client, server, node.link, &node.flash);
    EXPECT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_REFUSED);
    EXPECT_EQ(node.client->last_reason(), Reason::kBadChunk) << to_string(node.client->last_reason());
    EXPECT_TRUE(node.link.all_requests.empty());
  }
  {
    // 256-byte wire blocks do, and resume like plain ones.
    const Package small_blocks = make_compressed_package(2, 7000, 256);
    std::vector<uint8_t> image = storage;
    {
      Node node(image);
      ChunkServer server(small_blocks, 256);
      serve(*node.client, server, node.link, &node.flash, 5);
      ASSERT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_DOWNLOADING);
    }
    Node resumed(image);
    ChunkServer server(small_blocks, 256);
    serve(*resumed.client, server, resumed.link, &resumed.flash);
    ASSERT_EQ(resumed.client->state(), tinyedge_v1_OtaState_OTA_ACTIVATED) << to_string(resumed.client->last_reason());
    EXPECT_EQ(server.payload_bytes_served(), small_blocks.payload.size() - 5 * 256) << "resumed after 5 blocks";
    Node rebooted(image);
    EXPECT_TRUE(running(rebooted, small_blocks));
  }
}

// --- delta packages (PAYLOAD_LZ_DELTA) against the factory model v1 ---

// v2 as a fine-tune of v1: the same bytes but for the last `changed` (the head), restamped v2.
PackageSpec fine_tuned_spec(const Package& v1, size_t changed) {
  PackageSpec spec = spec_for(2, v1.payload.size(), keys().fleet);
  spec.payload = v1.payload;
  const auto head = pattern(changed, 0xD17A);
  std::copy(head.begin(), head.end(), spec.payload.end() - static_cast<std::ptrdiff_t>(changed));
  rollout::testing::stamp_tem_identity(spec.payload, spec.model_id, 2);
  spec.self_test_output_sha256 = HashSelfTest::expected(spec.payload, spec.self_test_input);
  return spec;
}

class DeltaOtaTest : public OtaClientTest {
 protected:
  DeltaOtaTest() : full(create_package(fine_tuned_spec(v1, 700), keys().fleet)), delta(make_delta(v1, 256)) {}
  static Package make_delta(const Package& base, uint32_t block_bytes) {
    PackageSpec spec = fine_tuned_spec(base, 700);
    spec.encoding = tinyedge_v1_PayloadEncoding_PAYLOAD_LZ_DELTA;
    spec.wire_block_bytes = block_bytes;
    spec.base = base.payload;
    return create_package(spec, keys().fleet);
  }
  Package full, delta;
};

TEST_F(DeltaOtaTest, DeltaInstallEqualsTheFullInstallByteForByteWithAFractionOnTheWire) {
  std::vector<uint8_t> images[2] = {storage, storage};
  uint64_t served[2] = {};
  for (int i = 0; i < 2; ++i) {
    const Package& package = i == 0 ? full : delta;
    Node node(images[i]);
    ChunkServer server(package, kChunk);
    serve(*node.client, server, node.link, &node.flash);
    ASSERT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_ACTIVATED) << to_string(node.client->last_reason());
    EXPECT_EQ(node.link.last_status().total_bytes, package.payload.size()) << "progress counts wire bytes";
    served[i] = server.payload_bytes_served();
  }
  Node on_full(images[0]), on_delta(images[1]);
  ASSERT_EQ(on_delta.mounted, app::StoreStatus::kOk);
  ASSERT_EQ(on_delta.active_version(), 2u);
  const auto a = on_full.store.active_model(), b = on_delta.store.active_model();
  ASSERT_EQ(a.size(), b.size());
  EXPECT_TRUE(std::equal(a.begin(), a.end(), b.begin())) << "the delta installed other bytes than the full package";
  EXPECT_TRUE(std::equal(on_delta.store.active()->sha256, on_delta.store.active()->sha256 + 32,
                         on_full.store.active()->sha256));
  std::cout << "[ wire ] 5000-byte model, 700-byte head changed: full " << served[0] << " B, delta " << served[1]
            << " B\n";
  EXPECT_LT(served[1], 900u) << "the unchanged body should cost a few bytes per block";
}

TEST_F(DeltaOtaTest, PowerCutAtEveryFlashWriteOfADeltaInstallNeverBricksAndResumes) {
  power_cut_at_every_write(storage, v1, delta, v1.payload);
}

TEST_F(DeltaOtaTest, NodeOnAnotherBaseRefusesWithBaseMismatchAndTakesTheFullPackage) {
  // Same model id and version 1, other bytes: e.g. a node provisioned from another build.
  PackageSpec other_spec = spec_for(1, 5000, keys().fleet);
  other_spec.payload[4000] ^= 0x01;
  other_spec.self_test_output_sha256 = HashSelfTest::expected(other_spec.payload, other_spec.self_test_input);
  std::vector<uint8_t> image = factory_image(create_package(other_spec, keys().fleet));
  {
    Node node(image);
    ASSERT_EQ(node.active_version(), 1u);
    ChunkServer server(delta, kChunk);
    serve(*node.client, server, node.link, &node.flash);
    EXPECT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_REFUSED);
    EXPECT_EQ(node.client->last_reason(), Reason::kBaseMismatch) << to_string(node.client->last_reason());
    EXPECT_EQ(node.link.last_status().reason, tinyedge_v1_OtaReason_OTA_BASE_MISMATCH);
    EXPECT_EQ(node.link.last_status().version, 2u) << "the refusal names the package";
    EXPECT_TRUE(node.link.all_requests.empty()) << "no chunk of a delta it cannot apply is fetched";
    EXPECT_EQ(node.flash.writes(), 0u);
    // The gateway's fallback: the full package installs.
    ChunkServer fallback(full, kChunk);
    serve(*node.client, fallback, node.link, &node.flash);
    EXPECT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_ACTIVATED) << to_string(node.client->last_reason());
  }
  {
    // A node with nothing installed has no base either.
    std::vector<uint8_t> empty(kFlashBytes, 0xFF);
    Node node(empty);
    ChunkServer server(delta, kChunk);
    serve(*node.client, server, node.link, &node.flash);
    EXPECT_EQ(node.client->last_reason(), Reason::kBaseMismatch) << to_string(node.client->last_reason());
    EXPECT_TRUE(node.link.all_requests.empty());
  }
}

TEST_F(DeltaOtaTest, SampledWireBitFlipsAreRefusedAndOldModelRuns) {
  const size_t bits = delta.payload.size() * 8;
  std::vector<size_t> sample = {0, 3, 7, 40, 48, 49, 52, bits / 2, bits - 1};
  uint32_t state = 2424;
  while (sample.size() < 40) {
    state = state * 1103515245u + 12345u;
    sample.push_back(state % bits);
  }
  int refused = 0, same_bytes = 0;
  for (size_t bit : sample) {
    Package corrupted = delta;
    corrupted.payload[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    std::vector<uint8_t> image = storage;
    Node node(image);
    ChunkServer server(corrupted, kChunk);
    serve(*node.client, server, node.link, &node.flash);
    if (node.client->state() == tinyedge_v1_OtaState_OTA_ACTIVATED) {
      Node rebooted(image);
      ASSERT_TRUE(running(rebooted, delta, v1.payload))
          << "wire bit " << bit << ": activated bytes that were not signed";
      ++same_bytes;
      continue;
    }
    ASSERT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_FAILED) << "wire bit " << bit;
    const Reason reason = node.client->last_reason();
    ASSERT_TRUE(reason == Reason::kHashMismatch || reason == Reason::kBadEncoding)
        << "wire bit " << bit << ": " << to_string(reason);
    ASSERT_EQ(node.self_test.runs, 0) << "self-test ran on a payload that does not decode to the signed bytes";
    ++refused;
    Node rebooted(storage);
    ASSERT_TRUE(running(rebooted, v1)) << "wire bit " << bit;
  }
  std::cout << "[ flips ] 40 wire bits of a delta package: refused " << refused << ", decoded to the signed bytes "
            << same_bytes << "\n";
  EXPECT_LT(same_bytes, 8);

  // The signed base digest: every bit of the manifest's tail (where it sits) is refused up front.
  Node node(storage);
  ChunkServer server(delta, kChunk);
  const auto offer = server.offer();
  // (base_sha256 is field 17: 2 tag bytes, a length and 32 digest bytes; every third bit of them)
  for (size_t bit = (delta.manifest.size() - 35) * 8; bit < delta.manifest.size() * 8; bit += 3) {
    auto mutated = offer.payload.offer;
    mutated.manifest.bytes[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    node.client->on_offer(mutated, 0);
    ASSERT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_REFUSED) << "manifest bit " << bit;
  }
  EXPECT_TRUE(node.link.all_requests.empty());
  EXPECT_EQ(node.flash.writes(), 0u);
}

// --- encrypted payloads (ota/payload_cipher.h): AES-128-CTR on the wire, key wrapped for the fleet ---

Package encrypted(PackageSpec spec, const SigningKey& recipient = keys().encryption) {
  spec.encrypt_for = recipient.public_point();
  return create_package(spec, keys().fleet);
}

PackageSpec compressed_spec(uint32_t version, size_t size) {
  PackageSpec spec = spec_for(version, size, keys().fleet);
  spec.payload = weights_payload(size, 0x51u * version, spec.model_id, version);
  spec.self_test_output_sha256 = HashSelfTest::expected(spec.payload, spec.self_test_input);
  spec.encoding = tinyedge_v1_PayloadEncoding_PAYLOAD_LZ_BLOCKS;
  spec.wire_block_bytes = 512;
  return spec;
}

class EncryptedOtaTest : public OtaClientTest {
 protected:
  EncryptedOtaTest() : v2e(encrypted(compressed_spec(2, 7000))) {}
  Package v2e;  // compressed, then encrypted
};

TEST_F(EncryptedOtaTest, EveryEncodingInstallsEncryptedWithTheSameWireBytesAndNoPlaintextOnTheWire) {
  PackageSpec delta_spec = fine_tuned_spec(v1, 700);
  delta_spec.encoding = tinyedge_v1_PayloadEncoding_PAYLOAD_LZ_DELTA;
  delta_spec.wire_block_bytes = 256;
  delta_spec.base = v1.payload;
  const PackageSpec specs[] = {spec_for(2, 6000, keys().fleet), compressed_spec(2, 7000), delta_spec};
  for (const PackageSpec& spec : specs) {
    const Package clear = create_package(spec, keys().fleet);
    const Package sealed = encrypted(spec);
    const Manifest manifest = manifest_of(sealed);
    ASSERT_TRUE(is_encrypted(manifest));
    EXPECT_EQ(manifest.encoding, spec.encoding) << "encryption keeps the encoding";
    EXPECT_EQ(sealed.payload.size(), clear.payload.size()) << "CTR adds no byte on the wire";
    size_t same = 0;
    for (size_t i = 0; i < sealed.payload.size(); ++i) same += sealed.payload[i] == clear.payload[i];
    EXPECT_LT(same, sealed.payload.size() / 64) << "encoding " << spec.encoding << ": wire bytes left in the clear";
    std::vector<uint8_t> image = storage;
    Node node(image);
    ChunkServer server(sealed, kChunk);
    serve(*node.client, server, node.link, &node.flash);
    ASSERT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_ACTIVATED)
        << "encoding " << spec.encoding << ": " << to_string(node.client->last_reason());
    EXPECT_EQ(server.payload_bytes_served(), sealed.payload.size()) << "every wire byte fetched exactly once";
    Node rebooted(image);
    ASSERT_EQ(rebooted.active_version(), 2u);
    const auto model = rebooted.store.active_model();
    ASSERT_TRUE(std::equal(model.begin(), model.end(), spec.payload.begin(), spec.payload.end()))
        << "encoding " << spec.encoding << ": the slot does not hold the signed plaintext";
  }
}

TEST_F(EncryptedOtaTest, NodeWithoutTheKeyOrWithAnotherRefusesNamingTheReasonBeforeAnyFetch) {
  const Package for_other_fleet = encrypted(compressed_spec(2, 7000), keys().other_encryption);
  struct Case {
    const char* name;
    const DecryptionKey* held;
    const Package* package;
  } cases[] = {{"no decryption key", nullptr, &v2e},
               {"another fleet's key", &keys().other_decryption, &v2e},
               {"package for another fleet", &keys().decryption, &for_other_fleet}};
  for (const Case& c : cases) {
    std::vector<uint8_t> image = storage;
    Node node(image);
    node.config.decryption_key = c.held;
    node.client = std::make_unique<app::OtaClient>(node.config, node.store, node.self_test, node.link);
    ChunkServer server(*c.package, kChunk);
    serve(*node.client, server, node.link, &node.flash);
    EXPECT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_REFUSED) << c.name;
    EXPECT_EQ(node.client->last_reason(), Reason::kNotForThisKey)
        << c.name << ": " << to_string(node.client->last_reason());
    EXPECT_EQ(node.link.last_status().reason, tinyedge_v1_OtaReason_OTA_NOT_FOR_THIS_KEY) << c.name;
    EXPECT_EQ(node.link.last_status().version, 2u) << c.name << ": the refusal names the package";
    EXPECT_TRUE(node.link.all_requests.empty()) << c.name << ": fetched chunks it cannot decrypt";
    EXPECT_EQ(node.flash.writes(), 0u) << c.name;
    Node rebooted(image);
    EXPECT_TRUE(running(rebooted, v1)) << c.name;
  }
}

// The wrapped key, the ephemeral point and the key id are signed: a bit in every byte of them (each
// byte a different bit position) is refused before anything is fetched, as a bad signature or an
// undecodable manifest. (Every bit of every byte would cost 8x the signature checks for no new path.)
TEST_F(EncryptedOtaTest, EveryBitFlipOfTheManifestsEncryptionFieldsIsRefused) {
  Node node(storage);
  ChunkServer server(v2e, kChunk);
  const auto offer = server.offer();
  // Fields 18..20 end the manifest: 2 + 8, 2 + 65 and 2 + 48 bytes.
  const size_t tail = 10 + 67 + 50;
  for (size_t byte = v2e.manifest.size() - tail; byte < v2e.manifest.size(); ++byte) {
    const size_t bit = byte * 8 + byte % 8;
    auto mutated = offer.payload.offer;
    mutated.manifest.bytes[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    node.client->on_offer(mutated, 0);
    ASSERT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_REFUSED) << "manifest bit " << bit;
    const std::vector<uint8_t> bytes(mutated.manifest.bytes, mutated.manifest.bytes + mutated.manifest.size);
    ASSERT_EQ(node.client->last_reason(), expected_manifest_reason(bytes)) << "manifest bit " << bit;
  }
  EXPECT_TRUE(node.link.all_requests.empty());
  EXPECT_EQ(node.flash.writes(), 0u);
}

TEST_F(EncryptedOtaTest, SampledWireBitFlipsAreRefusedAndOldModelRuns) {
  const Package plain_sealed = encrypted(spec_for(2, 6000, keys().fleet));
  int same_bytes = 0;
  for (const Package* package : {static_cast<const Package*>(&v2e), &plain_sealed}) {
    const size_t bits = package->payload.size() * 8;
    std::vector<size_t> sample = {0, 7, 8 * 6, bits / 2, bits - 1};
    uint32_t state = 777;
    while (sample.size() < 16) {
      state = state * 1103515245u + 12345u;
      sample.push_back(state % bits);
    }
    for (size_t bit : sample) {
      Package corrupted = *package;
      corrupted.payload[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      std::vector<uint8_t> image = storage;
      Node node(image);
      ChunkServer server(corrupted, kChunk);
      serve(*node.client, server, node.link, &node.flash);
      // CTR flips the same plaintext bit: the decoder or the digest of the installed bytes refuses it,
      // unless (compressed) the flipped match copies the same bytes: then what runs is what was signed.
      if (node.client->state() == tinyedge_v1_OtaState_OTA_ACTIVATED) {
        Node rebooted(image);
        ASSERT_TRUE(running(rebooted, *package)) << "wire bit " << bit << ": activated bytes that were not signed";
        ++same_bytes;
        continue;
      }
      ASSERT_EQ(node.client->state(), tinyedge_v1_OtaState_OTA_FAILED) << "wire bit " << bit;
      const Reason reason = node.client->last_reason();
      ASSERT_TRUE(reason == Reason::kHashMismatch || reason == Reason::kBadEncoding)
          << "wire bit " << bit << ": " << to_string(reason);
      ASSERT_EQ(node.self_test.runs, 0) << "self-test ran on bytes that were not signed";
      Node rebooted(image);
      ASSERT_TRUE(running(rebooted, v1)) << "wire bit " << bit;
    }
  }
  EXPECT_LT(same_bytes, 4) << "of 32 flipped wire bits";
}

// The same loop as the plain, compressed and delta installs; a smaller model than v2e keeps the
// cuts (each resume opens the wrapped key again with an ECDH) to about 50.
TEST_F(EncryptedOtaTest, PowerCutAtEveryFlashWriteOfAnEncryptedInstallNeverBricksAndResumes) {
  power_cut_at_every_write(storage, v1, encrypted(compressed_spec(2, 2500)));
}

}  // namespace
}  // namespace tinyedge::ota::testing
