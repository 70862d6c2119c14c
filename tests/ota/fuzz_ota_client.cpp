// libFuzzer: the node's OTA client and slot store against hostile input. The input's first bytes
// become the boot records and journal in flash (a node booting on damaged flash); the rest is a
// stream of length-prefixed Downlinks. Each run first accepts a genuinely signed offer, so the
// fuzzed chunks, offers and cancels reach the download path, not just the signature check.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "node_firmware/app/ota_client.h"
#include "ota/chunk_server.h"
#include "protocol/codec.h"
#include "tests/rollout/test_packages.h"

namespace {

using namespace tinyedge;

constexpr size_t kPage = 512;
constexpr size_t kPages = 40;

struct Null final : app::OtaLink, app::ModelSelfTest {
  void send_chunk_request(const tinyedge_v1_ChunkRequest&) override {}
  void send_ota_status(const tinyedge_v1_OtaStatus&) override {}
  app::SelfTestStatus run(std::span<const uint8_t> model, std::span<const uint8_t>, ota::Digest& out) override {
    out = ota::sha256(model);
    return app::SelfTestStatus::kOk;
  }
};

struct Fixture {
  Fixture() : key(ota::SigningKey::generate()), trusted(ota::make_trusted_key(key.public_point())) {
    ota::PackageSpec spec;
    spec.model_id = 1;
    spec.version = 2;
    spec.payload.assign(3000, 0x5A);
    rollout::testing::stamp_tem_identity(spec.payload, spec.model_id, spec.version);
    package = ota::create_package(spec, key);
    offer = ota::ChunkServer(package, 256).offer().payload.offer;
  }
  ota::SigningKey key;
  ota::TrustedKey trusted;
  ota::Package package;
  tinyedge_v1_UpdateOffer offer;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  static std::vector<uint8_t> storage(kPage * kPages);
  std::memset(storage.data(), 0xFF, storage.size());
  app::MemoryFlash flash(storage, kPage, 4);
  app::SlotStore store(flash);
  store.provision(std::span(fixture.package.payload).first(1000), 1, 1);

  // Damage the records and journal with the first bytes of the input.
  const size_t header = size < 3 * kPage ? size : 3 * kPage;
  for (size_t i = 0; i < header; ++i) storage[i] ^= data[i];
  // Odd first byte: the newest record becomes one that older firmware (one anti-rollback floor,
  // magic "TEBR") could have written, its fields from the input and its CRC right, so the
  // conversion of old records is explored too.
  if (size >= 129 && (data[0] & 1) != 0) {
    uint8_t legacy[128];
    std::memcpy(legacy, data + 1, sizeof(legacy));
    const uint32_t magic = 0x54454252, sequence = 1000;
    std::memcpy(legacy, &magic, 4);
    std::memcpy(legacy + 4, &sequence, 4);
    const uint32_t crc = app::crc32(std::span(legacy, 120));
    std::memcpy(legacy + 120, &crc, 4);
    std::memset(storage.data(), 0xFF, kPage);
    std::memcpy(storage.data(), legacy, sizeof(legacy));
  }
  store.mount();
  if (store.floor_count() > app::kMaxModelFloors) __builtin_trap();

  Null null;
  app::OtaConfig config;
  config.keys = std::span(&fixture.trusted, 1);
  config.rollback_keys = std::span(&fixture.trusted, 1);  // lets fuzzed grants reach their checks
  config.arena_bytes = 1 << 20;
  app::OtaClient client(config, store, null, null);
  client.on_offer(fixture.offer, 0);

  static tinyedge_v1_Downlink down;
  size_t at = header;
  uint32_t now = 0;
  while (at + 2 <= size) {
    const size_t length = static_cast<size_t>(data[at]) | static_cast<size_t>(data[at + 1]) << 8;
    at += 2;
    if (length > size - at) break;
    if (protocol::decode_downlink(std::span(data + at, length), down).ok) {
      if (down.which_payload == tinyedge_v1_Downlink_offer_tag) client.on_offer(down.payload.offer, now);
      if (down.which_payload == tinyedge_v1_Downlink_chunk_tag) client.on_chunk(down.payload.chunk, now);
      if (down.which_payload == tinyedge_v1_Downlink_command_tag) client.on_cancel();
    }
    at += length;
    now += 500;
    client.tick(now);
  }
  // Whatever happened, a model the store boots is one that was installed intact.
  if (store.mount() == app::StoreStatus::kOk && store.active_model().empty()) __builtin_trap();
  return 0;
}
