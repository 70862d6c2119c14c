#include "gateway/bearer/ble/ble_bearer.h"

#include <sdbus-c++/sdbus-c++.h>

#include <boost/asio/steady_timer.hpp>
#include <cctype>
#include <map>
#include <stdexcept>

#include "gateway/bearer/ble/ble_link.h"
#include "gateway/bearer/ble/dbus_pump.h"
#include "protocol/ble_gatt.h"

namespace tinyedge::gateway::ble {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using Props = std::map<std::string, sdbus::Variant>;
using Interfaces = std::map<std::string, Props>;
using ManagedObjects = std::map<sdbus::ObjectPath, Interfaces>;

namespace {

constexpr const char* kBluez = "org.bluez";
constexpr const char* kObjectManager = "org.freedesktop.DBus.ObjectManager";
constexpr const char* kAdapter = "org.bluez.Adapter1";
constexpr const char* kDevice = "org.bluez.Device1";
constexpr const char* kCharacteristic = "org.bluez.GattCharacteristic1";
constexpr size_t kDefaultAttMtu = 23;  // before (or without) an MTU exchange
// An unproven BLE link that sends this many bad frames gives its connection slot back.
constexpr uint32_t kMaxBadFramesUnproven = 8;

template <typename T>
bool read(const Props& props, const char* key, T& out) {
  const auto it = props.find(key);
  if (it == props.end() || !it->second.containsValueOfType<T>()) return false;
  out = it->second.get<T>();
  return true;
}

std::string lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

struct BleBearer::Impl : std::enable_shared_from_this<Impl> {
  enum class State { kIdle, kConnecting, kLinking, kLinked };
  struct Device {
    std::string path;
    std::string address;
    bool advertises = false;  // its UUIDs include TinyEdge's service
    bool connected = false;
    bool resolved = false;
    State state = State::kIdle;
    std::unique_ptr<sdbus::IProxy> proxy;
    std::shared_ptr<BleLink> link;
    std::shared_ptr<asio::steady_timer> retry;
    uint32_t failures = 0;
    Clock::time_point not_before{};
    std::string refused;  // why this device is never connected again
    bool linked_before = false;  // a connection to it got as far as a link once
  };
  struct Characteristic {
    std::string uuid;
    uint16_t mtu = 0;
  };

  Impl(asio::io_context& io, BleOptions options, Ingest& ingest, LinkAuthenticator& auth, Metrics& metrics, Logger& log)
      : io(io),
        options(std::move(options)),
        adapter_path("/org/bluez/" + this->options.adapter),
        context{ingest, auth, metrics, log, "ble", kMaxBadFramesUnproven},
        rescan(io) {}

  void start() {
    try {
      connection = std::shared_ptr<sdbus::IConnection>(sdbus::createSystemBusConnection());
    } catch (const sdbus::Error& error) {
      throw std::runtime_error("bearer " + options.text +
                               ": cannot reach the system D-Bus (bluetoothd lives there): " + error.getMessage());
    }
    pump = std::make_shared<DbusPump>(io, connection);
    auto weak = weak_from_this();
    // Everything bluetoothd says about its objects: added/removed interfaces and property changes
    // (including notifications, which arrive as PropertiesChanged of a characteristic's Value).
    matches.push_back(
        connection->addMatch("type='signal',sender='org.bluez',interface='org.freedesktop.DBus.ObjectManager'",
                             [weak](sdbus::Message& message) {
                               if (auto self = weak.lock()) self->on_object_manager_signal(message);
                             }));
    matches.push_back(
        connection->addMatch("type='signal',sender='org.bluez',interface='org.freedesktop.DBus.Properties',"
                             "member='PropertiesChanged',path_namespace='" +
                                 adapter_path + "'",
                             [weak](sdbus::Message& message) {
                               if (auto self = weak.lock()) self->on_properties_signal(message);
                             }));
    root = sdbus::createProxy(*connection, kBluez, "/");
    adapter = sdbus::createProxy(*connection, kBluez, adapter_path);
    load_objects();
    context.log.info("ble", "central started",
                     {{"bearer", options.text}, {"max_connections", options.max_connections}});
  }

  // GetManagedObjects until the adapter shows up (bluetoothd may start after us), then again
  // every few seconds while it is missing.
  void load_objects() {
    if (stopped) return;
    auto weak = weak_from_this();
    root->callMethodAsync("GetManagedObjects")
        .onInterface(kObjectManager)
        .uponReplyInvoke([weak](const sdbus::Error* error, const ManagedObjects& objects) {
          auto self = weak.lock();
          if (!self || self->stopped) return;
          if (error) {
            self->context.log.warn("ble", "bluetoothd not reachable; retrying",
                                   {{"bearer", self->options.text}, {"error", error->getMessage()}});
          } else {
            for (const auto& [path, interfaces] : objects) self->on_interfaces(path, interfaces);
          }
          if (!self->discovering) self->retry_load();
        });
    pump->kick();
  }

  void retry_load() {
    rescan.expires_after(std::chrono::seconds(2));
    rescan.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (!ec && self && !self->discovering) self->load_objects();
    });
  }

  void on_object_manager_signal(sdbus::Message& message) {
    try {
      sdbus::ObjectPath path;
      if (message.getMemberName() == "InterfacesAdded") {
        Interfaces interfaces;
        message >> path >> interfaces;
        on_interfaces(path, interfaces);
      } else if (message.getMemberName() == "InterfacesRemoved") {
        std::vector<std::string> interfaces;
        message >> path >> interfaces;
        on_removed(path, interfaces);
      }
    } catch (const sdbus::Error& error) {
      context.log.warn("ble", "malformed ObjectManager signal", {{"error", error.getMessage()}});
    }
  }

  void on_properties_signal(sdbus::Message& message) {
    try {
      std::string interface;
      Props changed;
      std::vector<std::string> invalidated;
      message >> interface >> changed >> invalidated;
      on_properties(message.getPath(), interface, changed);
    } catch (const sdbus::Error& error) {
      context.log.warn("ble", "malformed PropertiesChanged signal", {{"error", error.getMessage()}});
    }
  }

  void on_interfaces(const std::string& path, const Interfaces& interfaces) {
    if (path == adapter_path && interfaces.count(kAdapter)) start_discovery();
    if (auto it = interfaces.find(kCharacteristic); it != interfaces.end()) {
      Characteristic characteristic;
      read(it->second, "UUID", characteristic.uuid);
      characteristic.uuid = lower(characteristic.uuid);
      read(it->second, "MTU", characteristic.mtu);
      chars[path] = characteristic;
    }
    if (auto it = interfaces.find(kDevice); it != interfaces.end()) {
      sdbus::ObjectPath owner;
      if (!read(it->second, "Adapter", owner) || owner != adapter_path) return;
      auto& device = devices[path];
      if (device.path.empty()) {
        device.path = path;
        device.proxy = sdbus::createProxy(*connection, kBluez, path);
      }
      update_device(device, it->second);
    }
  }

  void on_removed(const std::string& path, const std::vector<std::string>& interfaces) {
    for (const auto& interface : interfaces) {
      if (interface == kCharacteristic) chars.erase(path);
      if (interface == kDevice) {
        if (auto it = devices.find(path); it != devices.end()) {
          lost(it->second, "device removed");
          if (it->second.retry) it->second.retry->cancel();
          devices.erase(it);
        }
      }
    }
  }

  void on_properties(const std::string& path, const std::string& interface, const Props& changed) {
    if (interface == kDevice) {
      if (auto it = devices.find(path); it != devices.end()) update_device(it->second, changed);
      return;
    }
    if (interface != kCharacteristic) return;
    auto it = chars.find(path);
    if (it == chars.end()) return;
    uint16_t mtu = 0;
    if (read(changed, "MTU", mtu)) it->second.mtu = mtu;
    std::vector<uint8_t> value;
    const bool notified = read(changed, "Value", value);
    // The characteristic's device is its path up to "/serviceXX/charYYYY".
    const auto service = path.rfind('/');
    const auto device_end = service == std::string::npos ? service : path.rfind('/', service - 1);
    if (device_end == std::string::npos) return;
    auto device = devices.find(path.substr(0, device_end));
    const bool uplink = notified && it->second.uuid == protocol::ble::kUplinkCharacteristicUuid;
    if (device == devices.end() || !device->second.link || stopped) {
      // Bytes of a stream no link is reading: whatever frame they belong to is lost (the node resends).
      if (uplink) context.metrics.ble_fragments_dropped.add();
      return;
    }
    if (mtu != 0) device->second.link->set_att_mtu(mtu);
    if (uplink) {
      context.metrics.ble_notifications.add();
      device->second.link->on_notification(value);
    }
  }

  void update_device(Device& device, const Props& props) {
    read(props, "Address", device.address);
    std::vector<std::string> uuids;
    if (read(props, "UUIDs", uuids)) {
      device.advertises = false;
      for (auto& uuid : uuids) device.advertises |= lower(uuid) == protocol::ble::kServiceUuid;
    }
    bool flag = false;
    if (read(props, "ServicesResolved", flag)) device.resolved = flag;
    if (read(props, "Connected", flag)) {
      const bool was = device.connected;
      device.connected = flag;
      if (was && !flag) lost(device, "disconnected");
    }
    if (device.state == State::kConnecting && device.connected && device.resolved) link(device);
    consider(device);
  }

  size_t active() const {
    size_t n = 0;
    for (const auto& [path, device] : devices) n += device.state != State::kIdle;
    return n;
  }

  void start_discovery() {
    if (discovering || stopped) return;
    discovering = true;
    // SetDiscoveryFilter(dict filter): only LE devices advertising our service (and loud enough).
    Props filter{{"UUIDs", sdbus::Variant(std::vector<std::string>{std::string(protocol::ble::kServiceUuid)})},
                 {"Transport", sdbus::Variant(std::string("le"))}};
    if (options.rssi) filter["RSSI"] = sdbus::Variant(*options.rssi);
    auto weak = weak_from_this();
    adapter->callMethodAsync("SetDiscoveryFilter")
        .onInterface(kAdapter)
        .withArguments(filter)
        .uponReplyInvoke([weak](const sdbus::Error* error) {
          auto self = weak.lock();
          if (!self || self->stopped) return;
          if (error) return self->discovery_failed("SetDiscoveryFilter", *error);
          self->adapter->callMethodAsync("StartDiscovery")
              .onInterface(kAdapter)
              .uponReplyInvoke([weak](const sdbus::Error* error) {
                auto self = weak.lock();
                if (!self || self->stopped) return;
                if (error) return self->discovery_failed("StartDiscovery", *error);
                self->context.log.info("ble", "discovering",
                                       {{"adapter", self->adapter_path}, {"service", protocol::ble::kServiceUuid}});
              });
          self->pump->kick();
        });
    pump->kick();
  }

  void discovery_failed(const char* call, const sdbus::Error& error) {
    context.log.warn(
        "ble", "discovery failed; retrying",
        {{"adapter", adapter_path}, {"call", call}, {"error", error.getName() + ": " + error.getMessage()}});
    discovering = false;
    retry_load();
  }

  // Connects if the device is ours, idle, due and a connection slot is free.
  void consider(Device& device) {
    if (stopped || !device.advertises || !device.refused.empty() || device.state != State::kIdle) return;
    if (active() >= options.max_connections) return;
    if (Clock::now() < device.not_before) return;
    device.state = State::kConnecting;
    const std::string path = device.path;
    if (device.connected && device.resolved) return link(device);
    auto weak = weak_from_this();
    device.proxy->callMethodAsync("Connect")
        .onInterface(kDevice)
        .withTimeout(options.connect_timeout)
        .uponReplyInvoke([weak, path](const sdbus::Error* error) {
          auto self = weak.lock();
          if (!self) return;
          auto it = self->devices.find(path);
          if (it == self->devices.end() || it->second.state != State::kConnecting) return;
          if (error) return self->failed(it->second, "connect: " + error->getName() + ": " + error->getMessage());
          it->second.connected = true;
          // Services may already be resolved (cached); otherwise ServicesResolved follows.
          if (it->second.resolved) self->link(it->second);
        });
    pump->kick();
  }

  void link(Device& device) {
    std::string uplink, downlink;
    for (const auto& [path, characteristic] : chars) {
      if (path.rfind(device.path + "/", 0) != 0) continue;
      if (characteristic.uuid == protocol::ble::kUplinkCharacteristicUuid) uplink = path;
      if (characteristic.uuid == protocol::ble::kDownlinkCharacteristicUuid) downlink = path;
    }
    if (uplink.empty() || downlink.empty()) return failed(device, "no TinyEdge uplink/downlink characteristics");
    device.state = State::kLinking;
    context.metrics.ble_connects.add();
    if (device.linked_before) context.metrics.ble_reconnects.add();
    device.linked_before = true;
    context.metrics.ble_connected.add();
    const std::string path = device.path;
    const std::string address = device.address;
    auto weak = weak_from_this();
    BleLink::Hooks hooks{[weak, address](const std::string& node) {
                           auto self = weak.lock();
                           return self ? self->refuse_claim(address, node) : std::string("gateway stopping");
                         },
                         [weak, address](const std::string& node) {
                           if (auto self = weak.lock()) {
                             self->node_of_address[address] = node;
                             self->address_of_node[node] = address;
                           }
                         },
                         [weak, path] {
                           if (auto self = weak.lock()) self->disconnect(path);
                         }};
    const uint16_t mtu = chars[uplink].mtu != 0 ? chars[uplink].mtu : kDefaultAttMtu;
    device.link = std::make_shared<BleLink>(io.get_executor(), options.text + "/" + address, address, context,
                                            connection, downlink, pump, mtu, std::move(hooks));
    device.link->start();
    notify_proxies[path] = sdbus::createProxy(*connection, kBluez, uplink);
    notify_proxies[path]
        ->callMethodAsync("StartNotify")
        .onInterface(kCharacteristic)
        .uponReplyInvoke([weak, path](const sdbus::Error* error) {
          auto self = weak.lock();
          if (!self) return;
          auto it = self->devices.find(path);
          if (it == self->devices.end() || it->second.state != State::kLinking) return;
          if (error) return self->failed(it->second, "StartNotify: " + error->getName() + ": " + error->getMessage());
          it->second.state = State::kLinked;
          self->context.log.info("ble", "connected", {{"device", it->second.address}, {"path", path}});
        });
    pump->kick();
  }

  std::string refuse_claim(const std::string& address, const std::string& node) {
    std::string reason;
    if (auto it = address_of_node.find(node); it != address_of_node.end() && it->second != address) {
      reason = "node " + node + " is held by device " + it->second;
    } else if (auto it = node_of_address.find(address); it != node_of_address.end() && it->second != node) {
      reason = "device " + address + " proved node " + it->second + " before";
    }
    if (!reason.empty()) {
      context.metrics.ble_identity_conflicts.add();
      for (auto& [path, device] : devices) {
        if (device.address != address) continue;
        if (device.refused.empty()) context.metrics.ble_devices_refused.add();
        device.refused = reason;
      }
    }
    return reason;
  }

  void disconnect(const std::string& path) {
    auto it = devices.find(path);
    if (it == devices.end() || !it->second.proxy) return;
    it->second.proxy->callMethodAsync("Disconnect").onInterface(kDevice).uponReplyInvoke([](const sdbus::Error*) {});
    pump->kick();
  }

  // A connection attempt failed: give the slot back and retry later, doubling the wait.
  void failed(Device& device, const std::string& why) {
    context.metrics.ble_connect_failures.add();
    ++device.failures;
    context.log.warn("ble", "connect failed",
                     {{"device", device.address}, {"reason", why}, {"failures", device.failures}});
    drop(device, why);
    disconnect(device.path);
  }

  // The device's connection is gone.
  void lost(Device& device, const std::string& why) {
    if (device.state == State::kIdle) return;
    context.metrics.ble_disconnects.add();
    // A link that had proven its node earned a quick reconnect; one that never did backs off.
    if (device.link && !device.link->bound_node().empty())
      device.failures = 0;
    else
      ++device.failures;
    context.log.info("ble", "connection lost", {{"device", device.address}, {"reason", why}});
    drop(device, why);
  }

  void drop(Device& device, const std::string& why) {
    if (device.state == State::kLinking || device.state == State::kLinked) {
      context.metrics.ble_connected.value.fetch_sub(1, std::memory_order_relaxed);
    }
    device.state = State::kIdle;
    notify_proxies.erase(device.path);
    if (auto link = std::move(device.link)) link->lost(why);
    schedule(device);
    // The slot is free: another device may be waiting for it.
    for (auto& [path, other] : devices) {
      if (&other != &device) consider(other);
    }
  }

  void schedule(Device& device) {
    if (stopped || !device.refused.empty()) return;
    auto delay = options.backoff_min;
    for (uint32_t i = 1; i < device.failures && delay < options.backoff_max; ++i) delay *= 2;
    delay = std::min(delay, options.backoff_max);
    device.not_before = Clock::now() + delay;
    if (!device.retry) device.retry = std::make_shared<asio::steady_timer>(io);
    device.retry->expires_after(delay);
    device.retry->async_wait([weak = weak_from_this(), path = device.path](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      if (auto it = self->devices.find(path); it != self->devices.end()) self->consider(it->second);
    });
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    rescan.cancel();
    for (auto& [path, device] : devices) {
      if (device.retry) device.retry->cancel();
      if (device.link) device.link->close();
    }
    if (!connection) return;
    // Blocking, but bounded: the gateway is stopping and bluetoothd should not keep our links up.
    for (auto& [path, device] : devices) {
      if (!device.connected || !device.proxy) continue;
      try {
        device.proxy->callMethod("Disconnect").onInterface(kDevice).withTimeout(std::chrono::milliseconds(500));
      } catch (const sdbus::Error&) {
      }
    }
    if (discovering) {
      try {
        adapter->callMethod("StopDiscovery").onInterface(kAdapter).withTimeout(std::chrono::milliseconds(500));
      } catch (const sdbus::Error&) {
      }
    }
  }

  asio::io_context& io;
  BleOptions options;
  std::string adapter_path;
  FramedLink::Context context;
  asio::steady_timer rescan;
  std::shared_ptr<sdbus::IConnection> connection;
  std::shared_ptr<DbusPump> pump;
  std::vector<sdbus::Slot> matches;
  std::unique_ptr<sdbus::IProxy> root;
  std::unique_ptr<sdbus::IProxy> adapter;
  std::map<std::string, Device> devices;
  std::map<std::string, Characteristic> chars;
  std::map<std::string, std::unique_ptr<sdbus::IProxy>> notify_proxies;  // by device path
  std::map<std::string, std::string> node_of_address, address_of_node;
  bool discovering = false;
  bool stopped = false;
};

BleBearer::BleBearer(asio::io_context& io, BleOptions options, Ingest& ingest, LinkAuthenticator& auth,
                     Metrics& metrics, Logger& log)
    : impl_(std::make_shared<Impl>(io, std::move(options), ingest, auth, metrics, log)) {}

BleBearer::~BleBearer() {
  impl_->stop();
  if (impl_->pump) impl_->pump->stop();
}

const std::string& BleBearer::name() const { return impl_->options.text; }
void BleBearer::start() { impl_->start(); }
void BleBearer::stop_intake() { impl_->stop(); }

BearerStatus BleBearer::status() const {
  BearerStatus status{impl_->options.text, 0, 0, {}};
  for (const auto& [path, device] : impl_->devices) {
    if (!device.link || !device.link->is_open()) continue;
    ++status.links_open;
    if (!device.link->bound_node().empty()) ++status.nodes_bound;
  }
  return status;
}

}  // namespace tinyedge::gateway::ble
