#include <gtest/gtest.h>

#include "tests/ota/ota_harness.h"

namespace tinyedge::ota::testing {
namespace {

constexpr size_t kPage = 1024;

struct Store {
  explicit Store(std::vector<uint8_t>& storage) : flash(storage, kPage, 8), store(flash) {}
  FaultFlash flash;
  app::SlotStore store;
};

TEST(SlotStoreTest, EmptyFlashHasNoModel) {
  std::vector<uint8_t> storage(64 * kPage, 0xFF);
  Store s(storage);
  ASSERT_TRUE(s.store.layout_ok());
  EXPECT_EQ(s.store.mount(), app::StoreStatus::kNoRecord);
  EXPECT_FALSE(s.store.has_model());
  EXPECT_TRUE(s.store.active_model().empty());
  EXPECT_GE(s.store.slot_capacity(), 28 * kPage);
  EXPECT_GE(s.store.max_blocks() * app::SlotStore::kMinBlockBytes, s.store.slot_capacity());
}

TEST(SlotStoreTest, TooSmallOrOddFlashIsRefused) {
  std::vector<uint8_t> storage(4 * kPage, 0xFF);
  Store s(storage);
  EXPECT_FALSE(s.store.layout_ok());
  EXPECT_EQ(s.store.mount(), app::StoreStatus::kBadLayout);
  std::vector<uint8_t> big(64 * kPage, 0xFF);
  FaultFlash odd_unit(big, kPage, 3);
  EXPECT_FALSE(app::SlotStore(odd_unit).layout_ok());
}

TEST(SlotStoreTest, ProvisionAlternatesSlotsAndRecordCopies) {
  std::vector<uint8_t> storage(64 * kPage, 0xFF);
  const auto a = pattern(3000, 1), b = pattern(4000, 2);
  {
    Store s(storage);
    ASSERT_EQ(s.store.provision(a, 5, 1), app::StoreStatus::kOk);
    ASSERT_EQ(s.store.provision(b, 5, 2), app::StoreStatus::kOk);
    EXPECT_EQ(s.store.record_sequence(), 2u);
  }
  Store s(storage);
  ASSERT_EQ(s.store.mount(), app::StoreStatus::kOk);
  EXPECT_EQ(s.store.active()->version, 2u);
  EXPECT_EQ(s.store.installed_version(5), 2u);
  EXPECT_EQ(s.store.installed_version(6), 0u) << "another model has no floor";
  const auto model = s.store.active_model();
  EXPECT_TRUE(std::equal(model.begin(), model.end(), b.begin(), b.end()));
}

TEST(SlotStoreTest, DamagedNewestRecordFallsBackToTheOtherCopy) {
  std::vector<uint8_t> storage(64 * kPage, 0xFF);
  const auto a = pattern(3000, 1), b = pattern(4000, 2);
  {
    Store s(storage);
    ASSERT_EQ(s.store.provision(a, 5, 1), app::StoreStatus::kOk);  // record copy 0
    ASSERT_EQ(s.store.provision(b, 5, 2), app::StoreStatus::kOk);  // record copy 1
  }
  storage[kPage + 20] ^= 0x01;  // one bit in the newest record: its CRC fails
  Store s(storage);
  ASSERT_EQ(s.store.mount(), app::StoreStatus::kOk);
  EXPECT_EQ(s.store.active()->version, 1u);
}

TEST(SlotStoreTest, DamagedActiveSlotBootsThePreviousModel) {
  std::vector<uint8_t> storage(64 * kPage, 0xFF);
  const auto a = pattern(3000, 1), b = pattern(4000, 2);
  Store s(storage);
  ASSERT_EQ(s.store.provision(a, 5, 1), app::StoreStatus::kOk);
  ASSERT_EQ(s.store.provision(b, 5, 2), app::StoreStatus::kOk);
  const auto model = s.store.active_model();
  const size_t offset = static_cast<size_t>(model.data() - storage.data());
  storage[offset + 100] ^= 0x80;
  ASSERT_EQ(s.store.mount(), app::StoreStatus::kOk);
  EXPECT_TRUE(s.store.fell_back());
  EXPECT_EQ(s.store.active()->version, 1u);
  const auto now = s.store.active_model();
  EXPECT_TRUE(std::equal(now.begin(), now.end(), a.begin(), a.end()));
}

TEST(SlotStoreTest, JournalResumesOnlyTheSameDownload) {
  std::vector<uint8_t> storage(64 * kPage, 0xFF);
  const auto a = pattern(3000, 1), payload = pattern(2000, 3);
  Digest digest{};
  digest[0] = 1;
  {
    Store s(storage);
    ASSERT_EQ(s.store.provision(a, 5, 1), app::StoreStatus::kOk);
    bool resumed = true;
    ASSERT_EQ(s.store.begin_download(digest, 2000, 512, resumed), app::StoreStatus::kOk);
    EXPECT_FALSE(resumed);
    EXPECT_EQ(s.store.block_count(), 4u);
    EXPECT_EQ(s.store.block_length(3), 2000u - 3 * 512);
    ASSERT_EQ(s.store.write_block(1, std::span(payload).subspan(512, 512)), app::StoreStatus::kOk);
    EXPECT_EQ(s.store.write_block(1, std::span(payload).subspan(0, 100)), app::StoreStatus::kBadBlock);
    EXPECT_EQ(s.store.write_block(4, std::span(payload).subspan(0, 512)), app::StoreStatus::kBadBlock);
  }
  {
    Store s(storage);
    ASSERT_EQ(s.store.mount(), app::StoreStatus::kOk);
    bool resumed = false;
    ASSERT_EQ(s.store.begin_download(digest, 2000, 512, resumed), app::StoreStatus::kOk);
    EXPECT_TRUE(resumed);
    EXPECT_FALSE(s.store.block_done(0));
    EXPECT_TRUE(s.store.block_done(1));
    EXPECT_EQ(s.store.blocks_done(), 1u);
  }
  Store s(storage);
  ASSERT_EQ(s.store.mount(), app::StoreStatus::kOk);
  digest[0] = 2;  // another package: start over
  bool resumed = true;
  ASSERT_EQ(s.store.begin_download(digest, 2000, 512, resumed), app::StoreStatus::kOk);
  EXPECT_FALSE(resumed);
  EXPECT_EQ(s.store.blocks_done(), 0u);
  EXPECT_EQ(s.store.active()->version, 1u);
}

}  // namespace
}  // namespace tinyedge::ota::testing
