// A FramedLink over one BLE GATT connection through BlueZ: uplink bytes arrive as notifications of
// the uplink characteristic (the bearer feeds them to on_notification()), downlink frames leave as
// write-without-response ("type": "command") WriteValue calls on the downlink characteristic, cut
// to the connection's ATT MTU minus 3. At most kWritesInFlight writes wait for BlueZ at once; the
// rest queue here and count as backlog(), so bulk senders (OTA chunks) hold back.
#pragma once
#include <sdbus-c++/IProxy.h>

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gateway/bearer/ble/dbus_pump.h"
#include "gateway/bearer/framed_link.h"

namespace tinyedge::gateway::ble {

class BleLink final : public FramedLink {
 public:
  struct Hooks {
    // Reason to refuse `node` on this device ("" to go on), and the binding once proven.
    std::function<std::string(const std::string& node)> refuse_claim;
    std::function<void(const std::string& node)> proven;
    // The link is shut: disconnect the device.
    std::function<void()> released;
  };
  static constexpr size_t kWritesInFlight = 4;

  BleLink(boost::asio::any_io_executor executor, std::string name, std::string address, Context context,
          std::shared_ptr<sdbus::IConnection> connection, const std::string& downlink_path,
          std::shared_ptr<DbusPump> pump, size_t att_mtu, Hooks hooks);

  void start() { opened(); }
  void on_notification(const std::vector<uint8_t>& value) { consume(value); }
  // The device disconnected (or vanished).
  void lost(const std::string& why) { shut(why); }
  void set_att_mtu(size_t att_mtu);
  size_t backlog() const override { return queued_.load(std::memory_order_relaxed); }
  // OTA chunks cut and paced from this connection's MTU (ble_ota_shape.h).
  BulkShape bulk_shape() const override;
  void bulk_payload_sent(size_t payload_bytes) override;

 private:
  void write_frame(std::vector<uint8_t> frame) override;
  void release_transport() override;
  std::string refuse_claim(const std::string& node) override {
    return hooks_.refuse_claim ? hooks_.refuse_claim(node) : "";
  }
  void bad_frame() override { context_.metrics.ble_fragments_dropped.add(); }
  void proven(const std::string& node) override {
    if (hooks_.proven) hooks_.proven(node);
  }
  void write_next();

  // The connection outlives the proxy on it (members go in reverse order), whoever lets go last.
  std::shared_ptr<sdbus::IConnection> connection_;
  std::unique_ptr<sdbus::IProxy> downlink_;
  std::shared_ptr<DbusPump> pump_;
  std::atomic<size_t> att_mtu_;
  Hooks hooks_;
  std::deque<std::vector<uint8_t>> fragments_;
  std::atomic<size_t> queued_{0};
  size_t in_flight_ = 0;
};

}  // namespace tinyedge::gateway::ble
