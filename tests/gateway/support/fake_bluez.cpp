#include "tests/gateway/support/fake_bluez.h"

#include <fcntl.h>
#include <poll.h>
#include <sdbus-c++/sdbus-c++.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>

#include "node_firmware/app/frame_bearer.h"
#include "node_firmware/app/link_key_prover.h"
#include "node_firmware/app/node.h"
#include "node_firmware/app/node_ota.h"
#include "node_firmware/app/ota_client.h"
#include "node_firmware/app/runtime_engine.h"
#include "node_firmware/app/runtime_self_test.h"
#include "node_firmware/app/slot_store.h"
#include "node_firmware/ports/host/host_platform.h"
#include "protocol/ble_gatt.h"
#include "protocol/codec.h"
#include "tests/node/fakes.h"

namespace tinyedge::test {
namespace {

constexpr const char* kAdapter = "org.bluez.Adapter1";
constexpr const char* kDevice = "org.bluez.Device1";
constexpr const char* kService = "org.bluez.GattService1";
constexpr const char* kCharacteristic = "org.bluez.GattCharacteristic1";
constexpr const char* kAdapterPath = "/org/bluez/hci0";
using Clock = std::chrono::steady_clock;

// The node's byte stream is the GATT server: what it writes waits for notifications, what the
// central writes waits for the node to read.
class GattStream final : public app::ByteStream {
 public:
  void write(std::span<const uint8_t> bytes) override {
    // No connection, no one to notify: the frame is lost and the node resends what is unacked.
    if (!up) return;
    tx.insert(tx.end(), bytes.begin(), bytes.end());
  }
  bool read(uint8_t& byte) override {
    if (rx.empty()) return false;
    byte = rx.front();
    rx.pop_front();
    return true;
  }
  bool up = false;
  std::deque<uint8_t> tx, rx;
};

// The node's update side: the slot store in memory flash, the runtime for its model and self-test,
// the OTA client wired to the node as the host port wires it.
struct NodeUpdates {
  static constexpr size_t kPageBytes = 4096, kWriteUnit = 4, kArenaBytes = 64 * 1024;

  NodeUpdates(const PeripheralSpec& spec, app::Platform& platform)
      : flash_bytes((2 * std::max<size_t>((spec.factory_model.size() * 5 / 4) / kPageBytes + 1, 16) + 16) * kPageBytes,
                    0xFF),
        flash(flash_bytes, kPageBytes, kWriteUnit),
        store(flash),
        arena(kArenaBytes / 8),
        engine({reinterpret_cast<uint8_t*>(arena.data()), kArenaBytes}),
        self_test({reinterpret_cast<uint8_t*>(arena.data()), kArenaBytes}),
        node_ota(platform, store, engine) {
    if (app::load_active_model(store, engine, spec.factory_model) != runtime::Status::kOk)
      throw std::runtime_error("peripheral " + spec.node_id + ": its factory model does not load");
    config.keys = spec.fleet_keys;
    config.hardware = "ble-test";
    config.firmware_version = 1;
    config.arena_bytes = kArenaBytes;
    client.emplace(config, store, self_test, node_ota);
  }

  std::vector<uint8_t> flash_bytes;
  app::MemoryFlash flash;
  app::SlotStore store;
  std::vector<uint64_t> arena;
  app::RuntimeEngine engine;
  app::RuntimeSelfTest self_test;
  app::NodeOta node_ota;
  app::OtaConfig config;
  std::optional<app::OtaClient> client;
};

struct Peripheral {
  explicit Peripheral(PeripheralSpec s)
      : spec(std::move(s)),
        bearer(stream, frame_tx, decoder),
        platform(4096),
        storage(256),
        ring(storage),
        tx(protocol::kMaxUplinkBytes),
        prover(spec.key) {
    config.node_id = spec.node_id.c_str();
    config.hardware = "ble-test";
    config.boot_id = spec.boot_id;
    config.sample_interval_ms = spec.sample_interval_ms;
    config.report_interval_ms = 40;
    config.ack_timeout_ms = 1500;
    if (!spec.factory_model.empty()) updates = std::make_unique<NodeUpdates>(spec, platform);
    app::InferenceEngine& inference = updates ? static_cast<app::InferenceEngine&>(updates->engine) : engine;
    node = std::make_unique<app::Node>(config, platform, sensor, bearer, inference, ring, tx, std::span<uint8_t>{});
    node->set_link_prover(&prover);
    if (updates) updates->node_ota.attach(*node, *updates->client);
    std::string tail = spec.address;
    for (auto& c : tail)
      if (c == ':') c = '_';
    path = std::string(kAdapterPath) + "/dev_" + tail;
  }

  PeripheralSpec spec;
  GattStream stream;
  uint8_t frame_tx[protocol::max_encoded_frame_size(protocol::kMaxUplinkBytes)];
  protocol::StaticFrameDecoder<protocol::kMaxDownlinkBytes> decoder;
  app::FrameBearer bearer;
  host::HostPlatform platform;
  app::testing::CountingSensor sensor;
  app::testing::FakeEngine engine;
  std::vector<app::StoredResult> storage;
  app::ResultRing ring;
  std::vector<uint8_t> tx;
  app::LinkKeyProver prover;
  app::NodeConfig config;
  std::unique_ptr<NodeUpdates> updates;
  std::unique_ptr<app::Node> node;

  std::string path;
  std::unique_ptr<sdbus::IObject> device, service, uplink, downlink;
  bool connected = false, resolved = false, notifying = false, absent = false;
  std::vector<uint8_t> value;  // the uplink characteristic's last notified value
  uint32_t link_notifications = 0;
  std::deque<std::vector<uint8_t>> air_down;  // writes bluetoothd holds for the next exchanges
  bool dropped_mid_download = false;
  Clock::time_point download_started{};
  Clock::time_point next_event{};
  PeripheralState counters;
  std::mt19937 noise{1234};
};

}  // namespace

struct FakeBluez::Impl {
  explicit Impl(const std::string& address, std::vector<PeripheralSpec> specs) {
    for (auto& spec : specs) peripherals.push_back(std::make_unique<Peripheral>(std::move(spec)));
    connection = sdbus::createSessionBusConnectionWithAddress(address);
    connection->requestName("org.bluez");
    root = sdbus::createObject(*connection, "/");
    root->addObjectManager();
    root->finishRegistration();
    adapter = sdbus::createObject(*connection, kAdapterPath);
    adapter->registerMethod("SetDiscoveryFilter")
        .onInterface(kAdapter)
        .implementedAs([this](const std::map<std::string, sdbus::Variant>& filter) {
          for (const auto& [key, value] : filter) {
            if (key != "UUIDs" && key != "RSSI" && key != "Transport" && key != "Pathloss" && key != "DuplicateData" &&
                key != "Discoverable" && key != "Pattern")
              throw sdbus::Error("org.bluez.Error.InvalidArguments", "Invalid arguments in method call");
          }
          filter_uuids.clear();
          if (auto it = filter.find("UUIDs"); it != filter.end())
            filter_uuids = it->second.get<std::vector<std::string>>();
        });
    adapter->registerMethod("StartDiscovery").onInterface(kAdapter).implementedAs([this] {
      discovering = true;
      discovery_started = Clock::now();
      adapter->emitPropertiesChangedSignal(kAdapter, {"Discovering"});
      for (auto& p : peripherals) {
        if (p->spec.advertise_after.count() == 0) advertise(*p);
      }
    });
    adapter->registerMethod("StopDiscovery").onInterface(kAdapter).implementedAs([this] {
      if (!discovering) throw sdbus::Error("org.bluez.Error.Failed", "No discovery started");
      discovering = false;
      adapter->emitPropertiesChangedSignal(kAdapter, {"Discovering"});
    });
    adapter->registerProperty("Address").onInterface(kAdapter).withGetter(
        [] { return std::string("00:1A:7D:DA:71:13"); });
    adapter->registerProperty("Powered").onInterface(kAdapter).withGetter([] { return true; });
    adapter->registerProperty("Discovering").onInterface(kAdapter).withGetter([this] { return discovering; });
    adapter->finishRegistration();
  }

  // The device object appears when discovery hears its advertisement.
  void advertise(Peripheral& p) {
    if (p.device) return;
    if (!filter_uuids.empty() && !p.spec.advertise_service) return;  // the adapter filters it out
    auto device = sdbus::createObject(*connection, p.path);
    Peripheral* peripheral = &p;
    device->registerMethod("Connect").onInterface(kDevice).implementedAs([this, peripheral] { connect(*peripheral); });
    device->registerMethod("Disconnect").onInterface(kDevice).implementedAs([this, peripheral] {
      disconnect(*peripheral);
    });
    device->registerProperty("Address").onInterface(kDevice).withGetter(
        [peripheral] { return peripheral->spec.address; });
    device->registerProperty("AddressType").onInterface(kDevice).withGetter([] { return std::string("random"); });
    device->registerProperty("Name").onInterface(kDevice).withGetter(
        [peripheral] { return "tinyedge-" + peripheral->spec.node_id; });
    device->registerProperty("Adapter").onInterface(kDevice).withGetter([] { return sdbus::ObjectPath(kAdapterPath); });
    device->registerProperty("UUIDs").onInterface(kDevice).withGetter([peripheral] {
      return peripheral->spec.advertise_service ? std::vector<std::string>{std::string(protocol::ble::kServiceUuid)}
                                                : std::vector<std::string>{"0000180f-0000-1000-8000-00805f9b34fb"};
    });
    device->registerProperty("RSSI").onInterface(kDevice).withGetter([] { return int16_t{-60}; });
    device->registerProperty("Paired").onInterface(kDevice).withGetter([] { return false; });
    device->registerProperty("Connected").onInterface(kDevice).withGetter([peripheral] {
      return peripheral->connected;
    });
    device->registerProperty("ServicesResolved").onInterface(kDevice).withGetter([peripheral] {
      return peripheral->resolved;
    });
    device->finishRegistration();
    device->emitInterfacesAddedSignal();
    p.device = std::move(device);
  }

  void connect(Peripheral& p) {
    if (p.absent) throw sdbus::Error("org.bluez.Error.Failed", "le-connection-abort-by-local");
    if (p.connected) throw sdbus::Error("org.bluez.Error.AlreadyConnected", "Already Connected");
    p.connected = true;
    p.link_notifications = 0;
    ++p.counters.connections;
    p.stream.up = true;
    p.stream.tx.clear();
    p.device->emitPropertiesChangedSignal(kDevice, {"Connected"});
    Peripheral* peripheral = &p;
    // GATT discovery: the service and its two characteristics appear, then ServicesResolved.
    p.service = sdbus::createObject(*connection, p.path + "/service000a");
    p.service->registerProperty("UUID").onInterface(kService).withGetter(
        [] { return std::string(protocol::ble::kServiceUuid); });
    p.service->registerProperty("Primary").onInterface(kService).withGetter([] { return true; });
    p.service->registerProperty("Device").onInterface(kService).withGetter(
        [peripheral] { return sdbus::ObjectPath(peripheral->path); });
    p.service->finishRegistration();
    p.service->emitInterfacesAddedSignal();
    const std::string service_path = p.path + "/service000a";
    auto characteristic = [&](const char* name, std::string_view uuid, std::vector<std::string> flags) {
      auto object = sdbus::createObject(*connection, service_path + "/" + name);
      object->registerProperty("UUID").onInterface(kCharacteristic).withGetter([uuid] { return std::string(uuid); });
      object->registerProperty("Service").onInterface(kCharacteristic).withGetter([service_path] {
        return sdbus::ObjectPath(service_path);
      });
      object->registerProperty("Flags").onInterface(kCharacteristic).withGetter([flags] { return flags; });
      object->registerProperty("MTU").onInterface(kCharacteristic).withGetter([peripheral] {
        return peripheral->spec.att_mtu;
      });
      object->registerProperty("Value").onInterface(kCharacteristic).withGetter([peripheral] {
        return peripheral->value;
      });
      object->registerProperty("Notifying").onInterface(kCharacteristic).withGetter([peripheral] {
        return peripheral->notifying;
      });
      return object;
    };
    p.uplink = characteristic("char000b", protocol::ble::kUplinkCharacteristicUuid, {"notify"});
    p.uplink->registerMethod("StartNotify").onInterface(kCharacteristic).implementedAs([peripheral] {
      peripheral->notifying = true;
      peripheral->uplink->emitPropertiesChangedSignal(kCharacteristic, {"Notifying"});
    });
    p.uplink->registerMethod("StopNotify").onInterface(kCharacteristic).implementedAs([peripheral] {
      peripheral->notifying = false;
    });
    p.uplink->finishRegistration();
    p.uplink->emitInterfacesAddedSignal();
    p.downlink = characteristic("char000d", protocol::ble::kDownlinkCharacteristicUuid, {"write-without-response"});
    p.downlink->registerMethod("WriteValue")
        .onInterface(kCharacteristic)
        .implementedAs(
            [peripheral](const std::vector<uint8_t>& value, const std::map<std::string, sdbus::Variant>& options) {
              if (!peripheral->connected) throw sdbus::Error("org.bluez.Error.Failed", "Not connected");
              if (value.size() > size_t{peripheral->spec.att_mtu} - 3u)
                throw sdbus::Error("org.bluez.Error.InvalidValueLength", "Invalid Length");
              auto type = options.find("type");
              if (type == options.end() || type->second.get<std::string>() != "command")
                throw sdbus::Error("org.bluez.Error.NotSupported",
                                   "only write-without-response (type command) is supported");
              // Queued for the air, as bluetoothd queues a write command and replies at once.
              peripheral->air_down.push_back(value);
              peripheral->counters.max_write_queue =
                  std::max(peripheral->counters.max_write_queue, peripheral->air_down.size());
            });
    p.downlink->finishRegistration();
    p.downlink->emitInterfacesAddedSignal();
    p.resolved = true;
    p.device->emitPropertiesChangedSignal(kDevice, {"ServicesResolved"});
  }

  void disconnect(Peripheral& p) {
    if (!p.connected) return;
    p.connected = p.resolved = p.notifying = false;
    p.stream.up = false;
    p.stream.tx.clear();
    p.stream.rx.clear();
    p.counters.writes_lost += static_cast<uint32_t>(p.air_down.size());
    p.air_down.clear();
    p.device->emitPropertiesChangedSignal(kDevice, {"ServicesResolved", "Connected"});
    for (auto* object : {&p.downlink, &p.uplink, &p.service}) {
      (*object)->emitInterfacesRemovedSignal();
      object->reset();
    }
  }

  // Air time of one LL data packet carrying `value` bytes of an ATT PDU on the 1M PHY: the ATT (3)
  // and L2CAP (4) headers, then preamble, access address, LL header and CRC (10), 8 us a byte.
  // An empty packet (nothing to send that way) is the 10 bytes alone.
  static std::chrono::microseconds packet_air(size_t value) {
    return std::chrono::microseconds(8 * (value == 0 ? 10 : value + 7 + 10));
  }

  // One connection event per interval: exchanges of one write down and one notification up, while
  // the event has room (packets_per_interval, and the interval's air time with 150 us between
  // packets).
  void connection_events(Peripheral& p, Clock::time_point now) {
    if (!p.connected || now < p.next_event) return;
    p.next_event = now + p.spec.interval;
    const size_t mtu = size_t{p.spec.att_mtu} - 3;
    constexpr std::chrono::microseconds kIfs{150};
    std::chrono::microseconds air{0};
    for (uint32_t i = 0; i < p.spec.packets_per_interval; ++i) {
      const bool down = !p.air_down.empty();
      const bool up = p.notifying && (p.spec.garbage || !p.stream.tx.empty());
      if (!down && !up) return;
      const size_t up_bytes = !up ? 0 : p.spec.garbage ? mtu : std::min(mtu, p.stream.tx.size());
      const auto exchange = packet_air(down ? p.air_down.front().size() : 0) + kIfs + packet_air(up_bytes) + kIfs;
      if (i > 0 && air + exchange > p.spec.interval) return;  // the event is over: the next anchor is due
      air += exchange;
      if (down) {
        const auto& value = p.air_down.front();
        ++p.counters.writes;
        p.counters.written_bytes += value.size();
        p.stream.rx.insert(p.stream.rx.end(), value.begin(), value.end());
        p.air_down.pop_front();
      }
      if (!up) continue;
      if (p.spec.garbage) {
        p.value.resize(mtu);
        for (auto& b : p.value) b = static_cast<uint8_t>(p.noise() | 1);  // no delimiter: never a frame
        p.value.back() = 0;  // ...until here, where a frame "ends" with a bad CRC
      } else {
        p.value.assign(p.stream.tx.begin(), p.stream.tx.begin() + static_cast<ptrdiff_t>(up_bytes));
        p.stream.tx.erase(p.stream.tx.begin(), p.stream.tx.begin() + static_cast<ptrdiff_t>(up_bytes));
      }
      if (static_cast<int>(p.link_notifications++) == p.spec.lose_notification) continue;  // lost on the air
      ++p.counters.notifications;
      p.counters.notified_bytes += p.value.size();
      p.uplink->emitPropertiesChangedSignal(kCharacteristic, {"Value"});
    }
  }

  void update_counters(Peripheral& p) {
    p.counters.produced = p.node->counters().next_seq - 1;
    p.counters.unacked = p.ring.size();
    p.counters.connected = p.connected;
    if (!p.updates) return;
    const auto& updates = *p.updates;
    p.counters.ota_state = updates.client->state();
    p.counters.ota_reason = static_cast<int>(updates.client->last_reason());
    p.counters.ota_blocks_done = updates.store.blocks_done();
    p.counters.ota_window = updates.client->window();
    p.counters.active_model_version = updates.store.active() ? updates.store.active()->version : 0;
    p.counters.running_model_version = updates.engine.ready() ? updates.engine.info().version : 0;
    p.counters.activations = updates.node_ota.activations();
    p.counters.chunks_rejected = updates.client->chunks_rejected();
    const auto now = Clock::now();
    if (updates.client->busy() && p.download_started == Clock::time_point{}) p.download_started = now;
    if (!updates.client->busy() && p.download_started != Clock::time_point{} && p.counters.ota_download_us == 0 &&
        updates.client->state() != tinyedge_v1_OtaState_OTA_REFUSED) {
      p.counters.ota_download_us = static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(now - p.download_started).count());
    }
  }

  void run() {
    try {
      while (!stop) {
        const auto poll_data = connection->getEventLoopPollData();
        pollfd fd{poll_data.fd, poll_data.events, 0};
        ::poll(&fd, 1, 1);
        std::lock_guard lock(mutex);
        while (connection->processPendingRequest()) {
        }
        const auto now = Clock::now();
        for (size_t i = 0; i < peripherals.size(); ++i) {
          auto& p = *peripherals[i];
          if (drops.count(i)) disconnect(p);
          if (discovering && !p.device && now - discovery_started >= p.spec.advertise_after) advertise(p);
          if (p.spec.results != 0 && p.node->counters().next_seq > p.spec.results) p.node->set_sampling(false);
          p.node->step();
          if (p.updates) {
            p.updates->node_ota.tick();
            // Walks out of range mid-download, once.
            if (p.spec.drop_after_blocks != 0 && !p.dropped_mid_download && p.updates->client->busy() &&
                p.updates->store.blocks_done() >= p.spec.drop_after_blocks) {
              p.dropped_mid_download = true;
              ++p.counters.ota_drops;
              disconnect(p);
            }
          }
          connection_events(p, now);
          update_counters(p);
        }
        drops.clear();
      }
    } catch (const std::exception& e) {
      std::lock_guard lock(mutex);
      failure = e.what();
    }
  }

  std::mutex mutex;
  std::unique_ptr<sdbus::IConnection> connection;
  std::unique_ptr<sdbus::IObject> root, adapter;
  std::vector<std::unique_ptr<Peripheral>> peripherals;
  std::vector<std::string> filter_uuids;
  std::set<size_t> drops;
  bool discovering = false;
  Clock::time_point discovery_started{};
  std::atomic<bool> stop{false};
  std::string failure;
  std::thread thread;
};

FakeBluez::FakeBluez(const std::string& dir, std::vector<PeripheralSpec> peripherals) {
  // A bus of our own: a unix socket in `dir`, any local connection may own any name.
  const std::string config = dir + "/bus.conf";
  std::ofstream(config)
      << "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
         " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
         "<busconfig><type>session</type><listen>unix:dir="
      << dir
      << "</listen>"
         "<auth>EXTERNAL</auth><policy context=\"default\"><allow send_destination=\"*\" eavesdrop=\"true\"/>"
         "<allow eavesdrop=\"true\"/><allow own=\"*\"/></policy></busconfig>\n";
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) throw std::runtime_error("pipe failed");
  daemon_ = ::fork();
  if (daemon_ == 0) {
    ::dup2(pipe_fds[1], 1);
    ::close(pipe_fds[0]);
    ::execlp("dbus-daemon", "dbus-daemon", ("--config-file=" + config).c_str(), "--print-address", "--nofork",
             static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  char buffer[512];
  std::string line;
  pollfd fd{pipe_fds[0], POLLIN, 0};
  while (line.find('\n') == std::string::npos && ::poll(&fd, 1, 5000) > 0) {
    const ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (n <= 0) break;
    line.append(buffer, static_cast<size_t>(n));
  }
  ::close(pipe_fds[0]);
  if (line.find('\n') == std::string::npos)
    throw std::runtime_error("dbus-daemon did not print its address (is dbus-daemon installed?)");
  address_ = line.substr(0, line.find('\n'));
  ::setenv("DBUS_SYSTEM_BUS_ADDRESS", address_.c_str(), 1);
  impl_ = std::make_unique<Impl>(address_, std::move(peripherals));
  impl_->thread = std::thread([this] { impl_->run(); });
}

FakeBluez::~FakeBluez() {
  if (impl_) {
    impl_->stop = true;
    if (impl_->thread.joinable()) impl_->thread.join();
    impl_.reset();
  }
  if (daemon_ > 0) {
    ::kill(daemon_, SIGTERM);
    ::waitpid(daemon_, nullptr, 0);
  }
}

PeripheralState FakeBluez::state(size_t index) {
  std::lock_guard lock(impl_->mutex);
  return impl_->peripherals.at(index)->counters;
}

void FakeBluez::drop(size_t index) {
  std::lock_guard lock(impl_->mutex);
  impl_->drops.insert(index);
}

void FakeBluez::set_present(size_t index, bool present) {
  std::lock_guard lock(impl_->mutex);
  impl_->peripherals.at(index)->absent = !present;
  if (!present) impl_->drops.insert(index);
}

void FakeBluez::set_sampling(size_t index, bool on) {
  std::lock_guard lock(impl_->mutex);
  impl_->peripherals.at(index)->node->set_sampling(on);
}

bool FakeBluez::discovering() {
  std::lock_guard lock(impl_->mutex);
  return impl_->discovering;
}

std::string FakeBluez::error() {
  std::lock_guard lock(impl_->mutex);
  return impl_->failure;
}

}  // namespace tinyedge::test
