#include "gateway/rollout/ota_server.h"

#include <gtest/gtest.h>

#include <map>

#include "ota/verify.h"
#include "tests/rollout/test_packages.h"

namespace tinyedge::rollout {
namespace {

tinyedge_v1_ChunkRequest request(uint32_t model, uint32_t version, uint32_t offset, uint32_t length = 512) {
  tinyedge_v1_ChunkRequest r = tinyedge_v1_ChunkRequest_init_zero;
  r.model_id = model;
  r.version = version;
  r.offset = offset;
  r.length = length;
  return r;
}

class OtaServerTest : public ::testing::Test {
 protected:
  ota::SigningKey key_ = ota::SigningKey::generate();
  ota::Package package_ = testing::make_package(key_, 4, 2, 10000);
};

TEST_F(OtaServerTest, ServesEveryByteOfThePayload) {
  OtaServer server({512, 1u << 30, 1u << 20, 64});
  server.add_package(package_);
  std::vector<uint8_t> assembled(package_.payload.size());
  for (uint32_t offset = 0; offset < assembled.size(); offset += 512) {
    ASSERT_EQ(server.on_chunk_request("a", request(4, 2, offset)), OtaServer::Request::kQueued);
  }
  auto out = server.pump(0);
  ASSERT_EQ(out.size(), 20u);
  for (const auto& o : out) {
    const auto& c = o.downlink.payload.chunk;
    ASSERT_EQ(o.downlink.which_payload, tinyedge_v1_Downlink_chunk_tag);
    std::copy(c.data.bytes, c.data.bytes + c.data.size, assembled.begin() + c.offset);
  }
  EXPECT_EQ(assembled, package_.payload);
  EXPECT_EQ(server.payload_bytes_sent(), 10000u);
}

// An offer cut to the node's link: chunk size (never above the server's) and window travel in it.
TEST_F(OtaServerTest, OfferCarriesTheLinksChunkSizeAndWindow) {
  OtaServer server({512, 1u << 30, 1u << 20, 64});
  server.add_package(package_);
  const auto plain = server.offer(4, 2);
  EXPECT_EQ(plain.payload.offer.chunk_size, 512u);
  EXPECT_EQ(plain.payload.offer.window, 0u) << "MQTT and serial offers leave the window to the node";
  const auto ble = server.offer(4, 2, std::nullopt, 128, 2);
  EXPECT_EQ(ble.payload.offer.chunk_size, 128u);
  EXPECT_EQ(ble.payload.offer.window, 2u);
  EXPECT_EQ(server.offer(4, 2, std::nullopt, 4096, 3).payload.offer.chunk_size, 512u) << "never above the server's";
  // The same package either way: only the cut differs.
  EXPECT_EQ(std::vector<uint8_t>(ble.payload.offer.manifest.bytes,
                                 ble.payload.offer.manifest.bytes + ble.payload.offer.manifest.size),
            std::vector<uint8_t>(plain.payload.offer.manifest.bytes,
                                 plain.payload.offer.manifest.bytes + plain.payload.offer.manifest.size));
  // A node that took the small cut asks for 128-byte blocks, and gets exactly them.
  ASSERT_EQ(server.on_chunk_request("n", request(4, 2, 128, 128)), OtaServer::Request::kQueued);
  const auto out = server.pump(0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].downlink.payload.chunk.data.size, 128u);
  EXPECT_EQ(out[0].downlink.payload.chunk.offset, 128u);
}

// A compressed package's wire blocks decode one by one, so a node refuses chunks that split them:
// a link that prefers small chunks (BLE at MTU 23) still gets whole blocks for such a package.
TEST_F(OtaServerTest, ACompressedPackageIsNeverCutFinerThanItsWireBlocks) {
  ota::PackageSpec spec;
  spec.model_id = 5;
  spec.version = 1;
  spec.model_name = "compressed";
  spec.payload.assign(6000, 7);
  testing::stamp_tem_identity(spec.payload, 5, 1);
  spec.arena_bytes = 1024;
  spec.created_at = 1700000000;
  spec.encoding = tinyedge_v1_PayloadEncoding_PAYLOAD_LZ_BLOCKS;
  spec.wire_block_bytes = 256;
  OtaServer server({512, 1u << 30, 1u << 20, 64});
  server.add_package(ota::create_package(spec, key_));
  EXPECT_EQ(server.offer(5, 1, std::nullopt, 128, 2).payload.offer.chunk_size, 256u)
      << "a 128-byte link chunk would split every 256-byte wire block";
  EXPECT_EQ(server.offer(5, 1, std::nullopt, 512, 2).payload.offer.chunk_size, 512u);
}

TEST_F(OtaServerTest, BackedUpBearerDelaysChunksButLosesNone) {
  OtaServerConfig config{512, 1u << 30, 1u << 20, 64};
  config.backoff_ms = 5;
  OtaServer server(config);
  server.add_package(package_);
  for (uint32_t offset = 0; offset < package_.payload.size(); offset += 512) {
    ASSERT_EQ(server.on_chunk_request("a", request(4, 2, offset)), OtaServer::Request::kQueued);
  }
  // The bearer takes 3 chunks, then is backed up: the 4th stays queued and the server waits.
  std::vector<uint32_t> offsets;
  size_t accept = 3;
  auto bearer = [&](const std::string&, const tinyedge_v1_Downlink& d) {
    if (accept == 0) return OtaServer::SendResult::kBackedUp;
    --accept;
    offsets.push_back(d.payload.chunk.offset);
    return OtaServer::SendResult::kSent;
  };
  EXPECT_EQ(server.pump(100, bearer), 3u);
  EXPECT_EQ(server.queued(), 17u);
  EXPECT_EQ(server.backoffs(), 1u);
  EXPECT_EQ(server.payload_bytes_sent(), 3u * 512);
  EXPECT_EQ(server.next_ready(100), 105) << "should wait out the backoff";
  accept = 100;
  EXPECT_EQ(server.pump(103, bearer), 0u) << "sent during the backoff";
  EXPECT_EQ(server.pump(105, bearer), 17u);
  // Every chunk exactly once, in order: the refused one went first once the bearer caught up.
  ASSERT_EQ(offsets.size(), 20u);
  for (uint32_t i = 0; i < offsets.size(); ++i) EXPECT_EQ(offsets[i], i * 512);
  EXPECT_EQ(server.payload_bytes_sent(), 10000u);
  EXPECT_EQ(server.next_ready(105), -1);
}

TEST_F(OtaServerTest, UndeliverableChunksAreCountedAndDoNotBlockOthers) {
  OtaServer server({512, 1u << 30, 1u << 20, 64});
  server.add_package(package_);
  ASSERT_EQ(server.on_chunk_request("gone", request(4, 2, 0)), OtaServer::Request::kQueued);
  ASSERT_EQ(server.on_chunk_request("here", request(4, 2, 0)), OtaServer::Request::kQueued);
  std::vector<std::string> delivered;
  size_t sent = server.pump(0, [&](const std::string& node, const tinyedge_v1_Downlink&) {
    if (node == "gone") return OtaServer::SendResult::kUndeliverable;
    delivered.push_back(node);
    return OtaServer::SendResult::kSent;
  });
  EXPECT_EQ(sent, 1u);
  EXPECT_EQ(delivered, std::vector<std::string>{"here"});
  EXPECT_EQ(server.undeliverable(), 1u);
  EXPECT_EQ(server.queued(), 0u);
  EXPECT_EQ(server.backoffs(), 0u);
}

TEST_F(OtaServerTest, RefusesWhatItCannotServe) {
  OtaServer server;
  server.add_package(package_);
  EXPECT_EQ(server.on_chunk_request("a", request(4, 3, 0)), OtaServer::Request::kUnknownPackage);
  EXPECT_EQ(server.on_chunk_request("a", request(5, 2, 0)), OtaServer::Request::kUnknownPackage);
  EXPECT_EQ(server.on_chunk_request("a", request(4, 2, 10000)), OtaServer::Request::kBadRange);
  EXPECT_EQ(server.on_chunk_request("a", request(4, 2, 0, 0)), OtaServer::Request::kBadRange);
  EXPECT_EQ(server.on_chunk_request("a", request(4, 2, 0)), OtaServer::Request::kQueued);
  EXPECT_EQ(server.on_chunk_request("a", request(4, 2, 0)), OtaServer::Request::kDuplicate);
  EXPECT_EQ(server.queued(), 1u);
  EXPECT_THROW(server.offer(4, 9), std::out_of_range);
  EXPECT_THROW(OtaServer({0, 1, 1, 1}), std::invalid_argument);
  EXPECT_THROW(OtaServer({513, 1, 1, 1}), std::invalid_argument);
}

TEST_F(OtaServerTest, PerNodeQueueIsBounded) {
  OtaServer server({512, 1000, 512, 4});
  server.add_package(package_);
  for (uint32_t i = 0; i < 4; ++i)
    EXPECT_EQ(server.on_chunk_request("a", request(4, 2, i * 512)), OtaServer::Request::kQueued);
  EXPECT_EQ(server.on_chunk_request("a", request(4, 2, 4 * 512)), OtaServer::Request::kQueueFull);
  EXPECT_EQ(server.on_chunk_request("b", request(4, 2, 0)), OtaServer::Request::kQueued);
  server.forget("a");
  EXPECT_EQ(server.queued(), 1u);
}

TEST_F(OtaServerTest, RateLimitHoldsTheBudgetAndSharesItFairly) {
  // 51200 B/s, burst of two chunks: 100 chunks per second across all nodes.
  OtaServer server({512, 51200, 1024, 64});
  server.add_package(package_);
  for (const char* node : {"a", "b", "c"}) {
    for (uint32_t offset = 0; offset < 10000; offset += 512) server.on_chunk_request(node, request(4, 2, offset));
  }
  std::map<std::string, int> served;
  uint64_t bytes = 0;
  TimeMs now = 0;
  for (; now <= 500; now += 10) {
    for (const auto& o : server.pump(now)) {
      ++served[o.node_id];
      bytes += o.downlink.payload.chunk.data.size;
    }
  }
  // 0.5 s at 51200 B/s plus the burst, whatever the pump cadence.
  EXPECT_LE(bytes, 51200 / 2 + 1024);
  EXPECT_GE(bytes, 51200 / 2 - 1024);
  // Round robin: nobody is more than one chunk ahead.
  EXPECT_LE(std::abs(served["a"] - served["b"]), 1);
  EXPECT_LE(std::abs(served["b"] - served["c"]), 1);
  TimeMs next = server.next_ready(now);
  EXPECT_GE(next, now);
  EXPECT_LE(next, now + 11);
}

TEST_F(OtaServerTest, RollbackOfferCarriesTheSignedGrant) {
  OtaServer server;
  server.add_package(package_);
  auto digest = ota::sha256(package_.payload);
  auto grant = ota::create_rollback_grant(4, 3, 2, digest, 1700000000, key_);
  auto plain = server.offer(4, 2);
  auto with = server.offer(4, 2, grant);
  EXPECT_EQ(plain.payload.offer.rollback_grant.size, 0u);
  ASSERT_EQ(with.payload.offer.rollback_grant.size, grant.grant.size());
  ota::TrustedKey trusted = ota::make_trusted_key(key_.public_point());
  ota::RollbackGrant decoded{};
  EXPECT_EQ(
      ota::verify_rollback_grant(
          std::span(&trusted, 1),
          std::span(with.payload.offer.rollback_grant.bytes, with.payload.offer.rollback_grant.size),
          std::span(with.payload.offer.rollback_signature.bytes, with.payload.offer.rollback_signature.size), decoded),
      ota::Reason::kOk);
  EXPECT_EQ(decoded.from_version, 3u);
  EXPECT_EQ(decoded.to_version, 2u);
  ota::Manifest m{};
  EXPECT_EQ(ota::verify_manifest(std::span(&trusted, 1),
                                 std::span(with.payload.offer.manifest.bytes, with.payload.offer.manifest.size),
                                 std::span(with.payload.offer.signature.bytes, with.payload.offer.signature.size), m),
            ota::Reason::kOk);
}

}  // namespace
}  // namespace tinyedge::rollout
