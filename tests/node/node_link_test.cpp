// The node's side of a serial link's challenge: it answers with its prover's MAC over the nonce,
// its node id and its boot id, then starts the session over (Hello, resend what is unacked),
// because the gateway ignored everything the link said before the proof.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "fakes.h"
#include "node_firmware/app/node.h"

namespace tinyedge::app {
namespace {

using testing::CountingSensor;
using testing::FakeBearer;
using testing::FakeEngine;
using testing::FakePlatform;

// Records what it was asked to prove and answers with a MAC derived from it.
class RecordingProver final : public LinkProver {
 public:
  bool prove(std::span<const uint8_t> nonce, std::string_view node_id, uint32_t boot_id,
             std::span<uint8_t, kLinkProofBytes> mac) override {
    seen_nonce.assign(nonce.begin(), nonce.end());
    seen_node = node_id;
    seen_boot = boot_id;
    for (size_t i = 0; i < mac.size(); ++i) mac[i] = static_cast<uint8_t>(nonce[i % nonce.size()] ^ i ^ boot_id);
    return !fail;
  }
  std::vector<uint8_t> seen_nonce;
  std::string seen_node;
  uint32_t seen_boot = 0;
  bool fail = false;
};

struct LinkRig {
  LinkRig()
      : storage(32),
        ring(storage),
        tx(protocol::kMaxUplinkBytes),
        rx(protocol::kMaxDownlinkBytes),
        node(config(), platform, sensor, bearer, engine, ring, tx, rx) {}
  static NodeConfig config() {
    NodeConfig c;
    c.node_id = "n1";
    c.hardware = "test";
    c.boot_id = 42;
    c.sample_interval_ms = 100;
    c.report_interval_ms = 50;
    c.batch_max = 4;
    c.ack_timeout_ms = 60000;
    c.telemetry_interval_ms = 3600000;
    return c;
  }
  void run_ms(uint32_t ms) {
    for (uint32_t t = 0; t < ms; t += 10) {
      platform.ms += 10;
      node.step();
    }
  }
  void challenge(uint8_t fill) {
    tinyedge_v1_Downlink d = tinyedge_v1_Downlink_init_zero;
    d.which_payload = tinyedge_v1_Downlink_link_challenge_tag;
    d.payload.link_challenge.nonce.size = 16;
    std::fill_n(d.payload.link_challenge.nonce.bytes, 16, fill);
    bearer.push_downlink(d);
  }
  FakePlatform platform;
  CountingSensor sensor;
  FakeBearer bearer;
  FakeEngine engine;
  std::vector<StoredResult> storage;
  ResultRing ring;
  std::vector<uint8_t> tx;
  std::vector<uint8_t> rx;
  Node node;
};

TEST(NodeLink, AnswersAChallengeThenSaysHelloAndResendsFromTheOldest) {
  LinkRig rig;
  RecordingProver prover;
  rig.node.set_link_prover(&prover);
  rig.run_ms(500);  // results sent, none acked: an unproven link's gateway ignored them
  ASSERT_FALSE(rig.bearer.result_seqs().empty());
  rig.bearer.sent.clear();

  rig.challenge(0xAB);
  rig.run_ms(10);
  ASSERT_GE(rig.bearer.sent.size(), 3u);
  const tinyedge_v1_Uplink& proof = rig.bearer.sent[0];
  ASSERT_EQ(proof.which_payload, tinyedge_v1_Uplink_link_proof_tag) << "the first answer is the proof";
  EXPECT_EQ(std::string(proof.node_id), "n1");
  EXPECT_EQ(proof.boot_id, 42u);
  EXPECT_EQ(prover.seen_nonce, std::vector<uint8_t>(16, 0xAB));
  EXPECT_EQ(prover.seen_node, "n1");
  EXPECT_EQ(prover.seen_boot, 42u);
  ASSERT_EQ(proof.payload.link_proof.mac.size, 32u);
  EXPECT_EQ(proof.payload.link_proof.mac.bytes[1], static_cast<uint8_t>(0xAB ^ 1 ^ 42));
  EXPECT_EQ(rig.bearer.sent[1].which_payload, tinyedge_v1_Uplink_hello_tag) << "then Hello";
  const std::vector<uint32_t> seqs = rig.bearer.result_seqs();
  ASSERT_FALSE(seqs.empty());
  EXPECT_EQ(seqs[0], 1u) << "then every unacked result again, from the oldest";
  EXPECT_EQ(rig.node.counters().link_proofs, 1u);
}

TEST(NodeLink, WithoutAProverOrAProofAChallengeIsIgnored) {
  LinkRig rig;
  rig.run_ms(100);
  rig.bearer.sent.clear();
  rig.challenge(1);
  rig.run_ms(10);
  EXPECT_EQ(rig.bearer.count(tinyedge_v1_Uplink_link_proof_tag), 0u) << "no key, no proof";
  EXPECT_EQ(rig.node.counters().bad_downlinks, 0u) << "a challenge is a valid downlink";

  RecordingProver failing;
  failing.fail = true;
  rig.node.set_link_prover(&failing);
  rig.bearer.sent.clear();
  rig.challenge(2);
  rig.run_ms(10);
  EXPECT_EQ(rig.bearer.count(tinyedge_v1_Uplink_link_proof_tag), 0u);
  EXPECT_EQ(rig.bearer.count(tinyedge_v1_Uplink_hello_tag), 0u);
  EXPECT_EQ(rig.node.counters().link_proofs, 0u);
}

}  // namespace
}  // namespace tinyedge::app
