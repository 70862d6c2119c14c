#include "gateway/bearer/ble/ble_link.h"

#include <sdbus-c++/Types.h>

#include <algorithm>
#include <map>

#include "gateway/bearer/ble/ble_ota_shape.h"
#include "protocol/ble_gatt.h"

namespace tinyedge::gateway::ble {

namespace {
constexpr const char* kCharacteristic = "org.bluez.GattCharacteristic1";
}  // namespace

BleLink::BleLink(boost::asio::any_io_executor executor, std::string name, std::string address, Context context,
                 std::shared_ptr<sdbus::IConnection> connection, const std::string& downlink_path,
                 std::shared_ptr<DbusPump> pump, size_t att_mtu, Hooks hooks)
    : FramedLink(std::move(executor), std::move(name), "ble:" + address, context),
      connection_(std::move(connection)),
      downlink_(sdbus::createProxy(*connection_, "org.bluez", downlink_path)),
      pump_(std::move(pump)),
      att_mtu_(att_mtu),
      hooks_(std::move(hooks)) {}

void BleLink::set_att_mtu(size_t att_mtu) { att_mtu_.store(att_mtu, std::memory_order_relaxed); }

BulkShape BleLink::bulk_shape() const { return ota_shape_for_mtu(att_mtu_.load(std::memory_order_relaxed)); }

void BleLink::bulk_payload_sent(size_t payload_bytes) { context_.metrics.ble_ota_bytes.add(payload_bytes); }

void BleLink::write_frame(std::vector<uint8_t> frame) {
  protocol::FrameFragmenter pieces(frame, value_mtu_of(att_mtu_.load(std::memory_order_relaxed)));
  while (!pieces.done()) {
    const auto piece = pieces.next();
    fragments_.emplace_back(piece.begin(), piece.end());
    queued_.fetch_add(1, std::memory_order_relaxed);
  }
  write_next();
}

void BleLink::write_next() {
  while (is_open() && in_flight_ < kWritesInFlight && !fragments_.empty()) {
    std::vector<uint8_t> piece = std::move(fragments_.front());
    fragments_.pop_front();
    queued_.fetch_sub(1, std::memory_order_relaxed);
    ++in_flight_;
    // BlueZ: WriteValue(array{byte} value, dict options), "type": "command" = Write Without Response.
    const std::map<std::string, sdbus::Variant> options{{"type", sdbus::Variant(std::string("command"))}};
    auto self = std::static_pointer_cast<BleLink>(shared_from_this());
    downlink_->callMethodAsync("WriteValue")
        .onInterface(kCharacteristic)
        .withArguments(piece, options)
        .uponReplyInvoke([self](const sdbus::Error* error) {
          --self->in_flight_;
          if (!self->is_open()) return;
          if (error) return self->shut("downlink write failed: " + error->getName() + ": " + error->getMessage());
          self->write_next();
        });
  }
  pump_->kick();
}

void BleLink::release_transport() {
  queued_.store(0, std::memory_order_relaxed);
  fragments_.clear();
  if (hooks_.released) hooks_.released();
}

}  // namespace tinyedge::gateway::ble
