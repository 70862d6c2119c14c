// EnrollCommand -> Enroller -> EnrollmentStatus on the node, and the messages through the codec.
#include "node_firmware/app/enroll_service.h"

#include <gtest/gtest.h>
#include <pb_encode.h>

#include <array>
#include <map>
#include <string>
#include <vector>

#include "ota/signing_key.h"
#include "protocol/codec.h"
#include "tests/enroll/projection_model.h"
#include "tests/node/fault_flash.h"

namespace tinyedge::app {
namespace {

using enroll::testing::examples_of;
using enroll::testing::kInputBytes;
using enroll::testing::ProjectionModel;

// Examples by label, as the host node reads them from files.
class MapSource final : public ExampleSource {
 public:
  enroll::EnrollStatus capture(std::string_view label, uint32_t index, std::span<int8_t> out) override {
    const auto it = examples.find(std::string(label));
    if (it == examples.end() || (index + 1) * out.size() > it->second.size()) return enroll::EnrollStatus::kBadExamples;
    std::copy_n(it->second.begin() + index * out.size(), out.size(), out.begin());
    return enroll::EnrollStatus::kOk;
  }
  std::map<std::string, std::vector<int8_t>> examples;
};

struct Rig {
  std::vector<uint8_t> storage = std::vector<uint8_t>(8 * 1024, 0xFF);
  MemoryFlash flash{storage, 1024, 8};
  enroll::ClassTable table{flash, 0, storage.size()};
  ProjectionModel model{1, 7, {1.0f / 64, 0}, 4};
  enroll::Enroller enroller{table, enroll::EnrollConfig{}};
  MapSource source;
  std::array<uint8_t, 32> model_sha256{};  // the installed model's hash (the slot store's on a node)
  std::vector<ota::TrustedKey> keys;
  std::vector<int8_t> buffer = std::vector<int8_t>(enroll::kMaxExamples * kInputBytes);
  EnrollService service{enroller, source, buffer};

  Rig() {
    size_t recomputed;
    EXPECT_EQ(table.mount(), enroll::EnrollStatus::kOk);
    EXPECT_EQ(enroller.attach(model, recomputed), enroll::EnrollStatus::kOk);
    service.set_model(&model);
    source.examples["marvin"] = examples_of(model, 10, 10, 1);
    source.examples["again"] = examples_of(model, 10, 10, 2);
    auto silent = examples_of(model, 11, 5, 1);
    std::fill(silent.begin(), silent.begin() + kInputBytes, int8_t{0});
    source.examples["quiet"] = silent;
  }
  tinyedge_v1_EnrollmentStatus run(tinyedge_v1_EnrollCommand_Action action, const char* label, uint32_t examples) {
    tinyedge_v1_EnrollCommand cmd = tinyedge_v1_EnrollCommand_init_zero;
    cmd.action = action;
    std::strncpy(cmd.label, label, sizeof cmd.label - 1);
    cmd.examples = examples;
    tinyedge_v1_EnrollmentStatus status;
    service.handle(cmd, status);
    return status;
  }
};

TEST(EnrollService, StartListRemove) {
  Rig rig;
  auto s = rig.run(tinyedge_v1_EnrollCommand_Action_START, "marvin", 5);
  EXPECT_EQ(s.refusal, tinyedge_v1_EnrollRefusal_ENROLL_OK);
  EXPECT_EQ(s.examples_used, 5u);
  EXPECT_GT(s.distance_q14, 0u);
  EXPECT_STRNE(s.nearest_label, "") << "quality names the nearest class";
  ASSERT_EQ(s.enrolled_count, 1u);
  EXPECT_STREQ(s.enrolled[0], "marvin");
  EXPECT_EQ(s.model_version, 1u);

  s = rig.run(tinyedge_v1_EnrollCommand_Action_LIST, "", 0);
  EXPECT_EQ(s.refusal, tinyedge_v1_EnrollRefusal_ENROLL_OK);
  ASSERT_EQ(s.enrolled_count, 1u);

  s = rig.run(tinyedge_v1_EnrollCommand_Action_REMOVE, "marvin", 0);
  EXPECT_EQ(s.refusal, tinyedge_v1_EnrollRefusal_ENROLL_OK);
  EXPECT_EQ(s.enrolled_count, 0u);
}

TEST(EnrollService, RefusalsTravelAsReasons) {
  Rig rig;
  EXPECT_EQ(rig.run(tinyedge_v1_EnrollCommand_Action_START, "marvin", 2).refusal,
            tinyedge_v1_EnrollRefusal_ENROLL_TOO_FEW_EXAMPLES);
  EXPECT_EQ(rig.run(tinyedge_v1_EnrollCommand_Action_START, "marvin", 11).refusal,
            tinyedge_v1_EnrollRefusal_ENROLL_TOO_MANY_EXAMPLES);
  EXPECT_EQ(rig.run(tinyedge_v1_EnrollCommand_Action_START, "quiet", 5).refusal,
            tinyedge_v1_EnrollRefusal_ENROLL_SILENT_EXAMPLE);
  EXPECT_EQ(rig.run(tinyedge_v1_EnrollCommand_Action_START, "nofiles", 5).refusal,
            tinyedge_v1_EnrollRefusal_ENROLL_BAD_EXAMPLES);
  ASSERT_EQ(rig.run(tinyedge_v1_EnrollCommand_Action_START, "marvin", 5).refusal, tinyedge_v1_EnrollRefusal_ENROLL_OK);
  EXPECT_EQ(rig.run(tinyedge_v1_EnrollCommand_Action_START, "marvin", 5).refusal,
            tinyedge_v1_EnrollRefusal_ENROLL_DUPLICATE_LABEL);
  const auto collide = rig.run(tinyedge_v1_EnrollCommand_Action_START, "again", 5);
  EXPECT_EQ(collide.refusal, tinyedge_v1_EnrollRefusal_ENROLL_COLLIDES);
  EXPECT_STREQ(collide.nearest_label, "marvin");
  EXPECT_EQ(rig.run(tinyedge_v1_EnrollCommand_Action_REMOVE, "nobody", 0).refusal,
            tinyedge_v1_EnrollRefusal_ENROLL_UNKNOWN_LABEL);
  rig.service.set_model(nullptr);
  EXPECT_EQ(rig.run(tinyedge_v1_EnrollCommand_Action_START, "sheila", 5).refusal,
            tinyedge_v1_EnrollRefusal_ENROLL_NO_EMBEDDING_MODEL);
}

TEST(EnrollService, MessagesFitTheCodec) {
  Rig rig;
  for (int k = 0; k < 4; ++k)
    rig.source.examples["sixteen-chars-" + std::to_string(k) + "x"] = examples_of(rig.model, 20 + k, 5, 1);
  tinyedge_v1_EnrollmentStatus status{};
  for (int k = 0; k < 4; ++k) {
    status = rig.run(tinyedge_v1_EnrollCommand_Action_START, ("sixteen-chars-" + std::to_string(k) + "x").c_str(), 5);
    ASSERT_EQ(status.refusal, tinyedge_v1_EnrollRefusal_ENROLL_OK) << k;
  }
  tinyedge_v1_Uplink up = tinyedge_v1_Uplink_init_zero;
  up.which_payload = tinyedge_v1_Uplink_enrollment_status_tag;
  up.payload.enrollment_status = status;
  std::vector<uint8_t> buf(protocol::kMaxUplinkBytes);
  const auto encoded = protocol::encode_uplink(up, buf);
  ASSERT_TRUE(encoded.ok);
  tinyedge_v1_Uplink back = tinyedge_v1_Uplink_init_zero;
  ASSERT_TRUE(protocol::decode_uplink(std::span(buf).first(encoded.size), back).ok);
  ASSERT_EQ(back.payload.enrollment_status.enrolled_count, 4u);
  EXPECT_STREQ(back.payload.enrollment_status.enrolled[3], "sixteen-chars-3x");
}

// --- Shared classes (EnrollShare): signed by the operator with the package key ---

const ota::SigningKey& fleet_key() {
  static const ota::SigningKey key = ota::SigningKey::generate();
  return key;
}

// The share the operator's CLI makes of what a node reported: sequence and key id set, signed.
tinyedge_v1_EnrollShare make_share(tinyedge_v1_SharedClass shared, uint64_t sequence,
                                   const ota::SigningKey& key = fleet_key()) {
  shared.sequence = sequence;
  const ota::KeyId id = key.key_id();
  std::copy(id.begin(), id.end(), shared.key_id.bytes);
  shared.key_id.size = id.size();
  tinyedge_v1_EnrollShare share = tinyedge_v1_EnrollShare_init_zero;
  pb_ostream_t out = pb_ostream_from_buffer(share.shared_class.bytes, sizeof share.shared_class.bytes);
  EXPECT_TRUE(pb_encode(&out, tinyedge_v1_SharedClass_fields, &shared));
  share.shared_class.size = static_cast<pb_size_t>(out.bytes_written);
  const auto signature = key.sign(ota::sha256(std::span(share.shared_class.bytes, share.shared_class.size)));
  std::copy(signature.begin(), signature.end(), share.signature.bytes);
  share.signature.size = static_cast<pb_size_t>(signature.size());
  return share;
}

struct ShareRigs {
  Rig from, to;  // the node that learned "marvin", the node it is shared with (same model)
  tinyedge_v1_SharedClass marvin = tinyedge_v1_SharedClass_init_zero;

  ShareRigs() {
    for (Rig* r : {&from, &to}) {
      r->model_sha256.fill(0x5A);
      r->keys = {ota::make_trusted_key(fleet_key().public_point())};
      r->service.set_share_trust(r->keys, r->model_sha256.data());
    }
    const auto s = from.run(tinyedge_v1_EnrollCommand_Action_START, "marvin", 5);
    EXPECT_EQ(s.refusal, tinyedge_v1_EnrollRefusal_ENROLL_OK);
    EXPECT_TRUE(s.has_shared) << "a successful start reports the class a share would carry";
    marvin = s.shared;
  }
  tinyedge_v1_EnrollmentStatus share(const tinyedge_v1_EnrollShare& share) {
    tinyedge_v1_EnrollmentStatus status;
    to.service.handle_share(share, status);
    return status;
  }
};

TEST(EnrollShare, NodeReportsItsClassWithTheModelHash) {
  ShareRigs rigs;
  EXPECT_STREQ(rigs.marvin.label, "marvin");
  EXPECT_EQ(rigs.marvin.prototype_count, rigs.from.model.head().dim);
  EXPECT_EQ(rigs.marvin.threshold_q14, rigs.from.enroller.table().classes[0].threshold_q14);
  ASSERT_EQ(rigs.marvin.model_sha256.size, 32u);
  EXPECT_EQ(rigs.marvin.model_sha256.bytes[0], 0x5A);
  // On request too: a list naming the label.
  const auto listed = rigs.from.run(tinyedge_v1_EnrollCommand_Action_LIST, "marvin", 0);
  EXPECT_TRUE(listed.has_shared);
  EXPECT_FALSE(rigs.from.run(tinyedge_v1_EnrollCommand_Action_LIST, "", 0).has_shared);
}

TEST(EnrollShare, SignedShareIsAcceptedKeptThroughARebootAndDetected) {
  ShareRigs rigs;
  const auto s = rigs.share(make_share(rigs.marvin, 1000));
  ASSERT_EQ(s.refusal, tinyedge_v1_EnrollRefusal_ENROLL_OK) << "refusal " << s.refusal;
  EXPECT_EQ(s.action, tinyedge_v1_EnrollCommand_Action_SHARE);
  ASSERT_EQ(s.enrolled_count, 1u);
  EXPECT_STREQ(s.enrolled[0], "marvin");
  // Reboot: the table mounts with the shared class (no examples) and the share's sequence.
  ASSERT_EQ(rigs.to.table.mount(), enroll::EnrollStatus::kOk);
  ASSERT_EQ(rigs.to.table.image().count, 1u);
  EXPECT_TRUE(rigs.to.table.image().classes[0].shared());
  EXPECT_EQ(rigs.to.table.image().share_sequence, 1000u);
  // The words marvin was learned from, said to the node that never learned it: detected as marvin.
  const auto examples = examples_of(rigs.to.model, 10, 5, 1);
  for (int e = 0; e < 5; ++e) {
    std::copy_n(examples.begin() + e * kInputBytes, kInputBytes, rigs.to.model.input().begin());
    enroll::Match m;
    ASSERT_EQ(rigs.to.enroller.classify(m), enroll::EnrollStatus::kOk);
    EXPECT_EQ(rigs.to.enroller.label(static_cast<size_t>(m.index)), "marvin") << "example " << e;
    EXPECT_TRUE(m.known) << "example " << e << " cosine " << m.cosine_q14;
  }
}

TEST(EnrollShare, EveryFlippedByteOfTheSignedShareIsRefusedAndChangesNothing) {
  ShareRigs rigs;
  const tinyedge_v1_EnrollShare good = make_share(rigs.marvin, 7);
  for (size_t i = 0; i < good.shared_class.size + good.signature.size; ++i) {
    tinyedge_v1_EnrollShare bad = good;
    if (i < good.shared_class.size)
      bad.shared_class.bytes[i] ^= 0x01;
    else
      bad.signature.bytes[i - good.shared_class.size] ^= 0x01;
    const auto s = rigs.share(bad);
    ASSERT_EQ(s.refusal, tinyedge_v1_EnrollRefusal_ENROLL_BAD_SIGNATURE) << "byte " << i << " flipped";
    ASSERT_EQ(s.enrolled_count, 0u) << "byte " << i;
  }
  EXPECT_EQ(rigs.to.table.sequence(), 0u) << "no refused share wrote the table";
  EXPECT_EQ(rigs.share(good).refusal, tinyedge_v1_EnrollRefusal_ENROLL_OK) << "the unflipped share is accepted";
}

TEST(EnrollShare, UnsignedForeignKeyOtherModelReplayAndTakenLabelAreRefused) {
  ShareRigs rigs;
  tinyedge_v1_EnrollShare unsigned_share = make_share(rigs.marvin, 5);
  unsigned_share.signature.size = 0;
  EXPECT_EQ(rigs.share(unsigned_share).refusal, tinyedge_v1_EnrollRefusal_ENROLL_BAD_SIGNATURE);
  const ota::SigningKey stranger = ota::SigningKey::generate();
  EXPECT_EQ(rigs.share(make_share(rigs.marvin, 5, stranger)).refusal, tinyedge_v1_EnrollRefusal_ENROLL_BAD_SIGNATURE);
  tinyedge_v1_EnrollShare empty = tinyedge_v1_EnrollShare_init_zero;
  EXPECT_EQ(rigs.share(empty).refusal, tinyedge_v1_EnrollRefusal_ENROLL_BAD_SIGNATURE);

  tinyedge_v1_SharedClass other = rigs.marvin;
  other.model_sha256.bytes[31] ^= 0xFF;  // learned under another installed model
  const auto s = rigs.share(make_share(other, 5));
  EXPECT_EQ(s.refusal, tinyedge_v1_EnrollRefusal_ENROLL_OTHER_EMBEDDING);
  EXPECT_STREQ(s.label, "marvin");
  tinyedge_v1_SharedClass wider = rigs.marvin;
  wider.prototype_count += 1;
  EXPECT_EQ(rigs.share(make_share(wider, 5)).refusal, tinyedge_v1_EnrollRefusal_ENROLL_OTHER_EMBEDDING);
  EXPECT_EQ(rigs.to.table.sequence(), 0u) << "refusals wrote nothing";

  ASSERT_EQ(rigs.share(make_share(rigs.marvin, 5)).refusal, tinyedge_v1_EnrollRefusal_ENROLL_OK);
  ASSERT_EQ(rigs.to.run(tinyedge_v1_EnrollCommand_Action_REMOVE, "marvin", 0).refusal,
            tinyedge_v1_EnrollRefusal_ENROLL_OK);
  EXPECT_EQ(rigs.share(make_share(rigs.marvin, 5)).refusal, tinyedge_v1_EnrollRefusal_ENROLL_REPLAYED)
      << "the same share again, after its class was removed";
  EXPECT_EQ(rigs.share(make_share(rigs.marvin, 4)).refusal, tinyedge_v1_EnrollRefusal_ENROLL_REPLAYED);
  ASSERT_EQ(rigs.share(make_share(rigs.marvin, 6)).refusal, tinyedge_v1_EnrollRefusal_ENROLL_OK);
  EXPECT_EQ(rigs.share(make_share(rigs.marvin, 8)).refusal, tinyedge_v1_EnrollRefusal_ENROLL_DUPLICATE_LABEL);
}

TEST(EnrollShare, FullTableRefusesAndAModelUpdateDropsTheSharedClassOnly) {
  ShareRigs rigs;
  for (int k = 0; k < 4; ++k) {
    const std::string label = "own" + std::to_string(k);
    rigs.to.source.examples[label] = examples_of(rigs.to.model, 30 + k, 5, 1);
    ASSERT_EQ(rigs.to.run(tinyedge_v1_EnrollCommand_Action_START, label.c_str(), 5).refusal,
              tinyedge_v1_EnrollRefusal_ENROLL_OK)
        << label;
  }
  EXPECT_EQ(rigs.share(make_share(rigs.marvin, 9)).refusal, tinyedge_v1_EnrollRefusal_ENROLL_TABLE_FULL);
  ASSERT_EQ(rigs.to.run(tinyedge_v1_EnrollCommand_Action_REMOVE, "own3", 0).refusal,
            tinyedge_v1_EnrollRefusal_ENROLL_OK);
  ASSERT_EQ(rigs.share(make_share(rigs.marvin, 9)).refusal, tinyedge_v1_EnrollRefusal_ENROLL_OK);

  // A new model: own classes are recomputed from their examples, the shared one is dropped.
  enroll::testing::ProjectionModel v2{2, 11, {1.0f / 64, 0}, 4};
  size_t recomputed = 0;
  ASSERT_EQ(rigs.to.enroller.attach(v2, recomputed), enroll::EnrollStatus::kOk);
  EXPECT_EQ(recomputed, 3u);
  EXPECT_EQ(rigs.to.enroller.dropped_shared(), 1u);
  ASSERT_EQ(rigs.to.table.image().count, 3u);
  for (uint32_t i = 0; i < 3; ++i) EXPECT_EQ(rigs.to.table.image().classes[i].name(), "own" + std::to_string(i));
  ASSERT_EQ(rigs.to.table.mount(), enroll::EnrollStatus::kOk);
  EXPECT_EQ(rigs.to.table.image().count, 3u) << "the drop is committed to flash";

  // The node says so: one DROPPED status naming the class and why, under the new model, listing
  // the classes it holds now (the gateway replaces its list: the others' positions moved up).
  rigs.to.service.set_model(&v2);
  tinyedge_v1_EnrollmentStatus report;
  ASSERT_TRUE(rigs.to.service.dropped_report(0, report)) << "the dropped shared class is not reported";
  EXPECT_EQ(report.action, tinyedge_v1_EnrollCommand_Action_DROPPED);
  EXPECT_STREQ(report.label, "marvin");
  EXPECT_EQ(report.refusal, tinyedge_v1_EnrollRefusal_ENROLL_NOT_RECOMPUTABLE);
  EXPECT_EQ(report.model_version, 2u);
  EXPECT_FALSE(report.has_shared) << "a dropped class offers nothing to share";
  ASSERT_EQ(report.enrolled_count, 3u);
  EXPECT_STREQ(report.enrolled[0], "own0");
  EXPECT_FALSE(rigs.to.service.dropped_report(1, report)) << "only one class was dropped";
  tinyedge_v1_Uplink up = tinyedge_v1_Uplink_init_zero;
  up.which_payload = tinyedge_v1_Uplink_enrollment_status_tag;
  ASSERT_TRUE(rigs.to.service.dropped_report(0, up.payload.enrollment_status));
  std::vector<uint8_t> buf(protocol::kMaxUplinkBytes);
  EXPECT_TRUE(protocol::encode_uplink(up, buf).ok);
  // Reported once: after forget_dropped() (on_downlink, once sent) and after a rebind to the same model.
  rigs.to.enroller.forget_dropped();
  EXPECT_FALSE(rigs.to.service.dropped_report(0, report));
  ASSERT_EQ(rigs.to.enroller.attach(v2, recomputed), enroll::EnrollStatus::kOk);
  EXPECT_EQ(rigs.to.enroller.dropped_shared(), 0u);
}

}  // namespace
}  // namespace tinyedge::app
