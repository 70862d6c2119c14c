#include "tests/gateway/support/raw_publisher.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <vector>

#include "tests/gateway/support/sim_node.h"

namespace tinyedge::test {
namespace {

void put_length(std::vector<uint8_t>& out, size_t length) {
  do {
    uint8_t byte = length % 128;
    length /= 128;
    if (length > 0) byte |= 0x80;
    out.push_back(byte);
  } while (length > 0);
}

void put_string(std::vector<uint8_t>& out, const std::string& s) {
  out.push_back(static_cast<uint8_t>(s.size() >> 8));
  out.push_back(static_cast<uint8_t>(s.size()));
  out.insert(out.end(), s.begin(), s.end());
}

bool write_all(int fd, const uint8_t* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

RawPublisher::RawPublisher(uint16_t port, std::string node_id, uint32_t batch, uint32_t window, uint32_t ack_window)
    : port_(port), node_id_(std::move(node_id)), batch_(batch), window_(window), ack_window_(ack_window) {}

RawPublisher::~RawPublisher() { stop(); }

void RawPublisher::start() {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port_);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("connect failed");
  std::vector<uint8_t> body = {0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60};
  put_string(body, "bench-" + node_id_);
  std::vector<uint8_t> packet = {0x10};
  put_length(packet, body.size());
  packet.insert(packet.end(), body.begin(), body.end());
  write_all(fd_, packet.data(), packet.size());
  uint8_t connack[4];
  if (::recv(fd_, connack, 4, MSG_WAITALL) != 4 || connack[0] != 0x20 || connack[3] != 0) {
    throw std::runtime_error("broker refused the connection");
  }
  if (ack_window_ > 0) {
    std::vector<uint8_t> sub = {0, 1};  // packet id 1
    put_string(sub, "tinyedge/v1/" + node_id_ + "/down");
    sub.push_back(1);  // QoS 1
    std::vector<uint8_t> packet = {0x82};
    put_length(packet, sub.size());
    packet.insert(packet.end(), sub.begin(), sub.end());
    write_all(fd_, packet.data(), packet.size());
  }
  running_ = true;
  reader_ = std::thread([this] { read_loop(); });
  writer_ = std::thread([this] { write_loop(); });
}

void RawPublisher::stop() {
  if (!running_.exchange(false)) return;
  ::shutdown(fd_, SHUT_RDWR);
  writer_.join();
  reader_.join();
  ::close(fd_);
}

void RawPublisher::write_loop() {
  const std::string topic = "tinyedge/v1/" + node_id_ + "/up";
  uint32_t seq = 1;
  uint16_t packet_id = 2;
  std::vector<uint8_t> out;
  while (running_) {
    out.clear();
    // Fill whatever room the window has, then write it in one go.
    while (inflight_.load() < window_ && out.size() < 32768 &&
           (ack_window_ == 0 || seq - 1 - acked_.load() < ack_window_)) {
      const auto payload = results_uplink(node_id_, 1, seq, batch_);
      seq += batch_;
      std::vector<uint8_t> body;
      put_string(body, topic);
      body.push_back(static_cast<uint8_t>(packet_id >> 8));
      body.push_back(static_cast<uint8_t>(packet_id));
      packet_id = static_cast<uint16_t>(packet_id == 65535 ? 1 : packet_id + 1);
      body.insert(body.end(), payload.begin(), payload.end());
      out.push_back(0x32);  // PUBLISH, QoS 1
      put_length(out, body.size());
      out.insert(out.end(), body.begin(), body.end());
      inflight_.fetch_add(1);
    }
    if (out.empty()) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      continue;
    }
    std::lock_guard lock(send_mutex_);
    if (!write_all(fd_, out.data(), out.size())) return;
  }
}

void RawPublisher::read_loop() {
  std::vector<uint8_t> buffer(65536);
  size_t fill = 0;
  while (running_) {
    const ssize_t n = ::recv(fd_, buffer.data() + fill, buffer.size() - fill, 0);
    if (n <= 0) return;
    fill += static_cast<size_t>(n);
    size_t pos = 0;
    for (;;) {
      // Fixed header: type byte, then the remaining length as a varint.
      size_t length = 0, shift = 0, header = 1;
      bool complete = false;
      while (pos + header < fill && header <= 4) {
        const uint8_t byte = buffer[pos + header++];
        length |= static_cast<size_t>(byte & 0x7f) << shift;
        shift += 7;
        if (!(byte & 0x80)) {
          complete = true;
          break;
        }
      }
      if (!complete || pos + header + length > fill) break;
      const uint8_t type = buffer[pos];
      const uint8_t* body = buffer.data() + pos + header;
      if (type == 0x40) {
        inflight_.fetch_sub(1);
        published_.fetch_add(batch_);
      } else if ((type & 0xf0) == 0x30 && length >= 2) {  // a downlink from the gateway
        const size_t topic = (static_cast<size_t>(body[0]) << 8) | body[1];
        const unsigned qos = (type >> 1) & 3;
        size_t at = 2 + topic;
        uint8_t id[2] = {0, 0};
        if (qos > 0 && at + 2 <= length) {
          id[0] = body[at];
          id[1] = body[at + 1];
          at += 2;
        }
        if (at <= length) {
          tinyedge_v1_Downlink downlink = tinyedge_v1_Downlink_init_zero;
          if (protocol::decode_downlink({body + at, length - at}, downlink).ok &&
              downlink.which_payload == tinyedge_v1_Downlink_ack_tag && downlink.payload.ack.boot_id == 1) {
            uint32_t seen = acked_.load();
            const uint32_t through = downlink.payload.ack.through_seq;
            while (through > seen && !acked_.compare_exchange_weak(seen, through)) {
            }
          }
        }
        if (qos == 1) {
          const uint8_t puback[4] = {0x40, 2, id[0], id[1]};
          std::lock_guard lock(send_mutex_);
          write_all(fd_, puback, sizeof puback);
        }
      }
      pos += header + length;
    }
    std::copy(buffer.begin() + static_cast<std::ptrdiff_t>(pos), buffer.begin() + static_cast<std::ptrdiff_t>(fill),
              buffer.begin());
    fill -= pos;
  }
}

}  // namespace tinyedge::test
