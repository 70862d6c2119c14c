#include "node_firmware/app/frame_bearer.h"

#include <gtest/gtest.h>

#include <deque>
#include <vector>

namespace tinyedge::app {
namespace {

class Pipe final : public ByteStream {
 public:
  void write(std::span<const uint8_t> bytes) override { written.insert(written.end(), bytes.begin(), bytes.end()); }
  bool read(uint8_t& byte) override {
    if (incoming.empty()) return false;
    byte = incoming.front();
    incoming.pop_front();
    return true;
  }
  std::vector<uint8_t> written;
  std::deque<uint8_t> incoming;
};

TEST(FrameBearer, SendsOneFramePerUplinkAndReassemblesDownlinks) {
  Pipe pipe;
  uint8_t frame_buf[64];
  protocol::StaticFrameDecoder<64> decoder;
  FrameBearer bearer(pipe, frame_buf, decoder);
  const uint8_t payload[] = {1, 0, 2, 3};
  ASSERT_TRUE(bearer.send(payload));
  ASSERT_FALSE(pipe.written.empty());
  EXPECT_EQ(pipe.written.back(), 0) << "frames end with the delimiter";

  // Loop the frame back with garbage in front: the decoder resynchronises and delivers it.
  pipe.incoming = {0x55, 0x66, 0x00};
  pipe.incoming.insert(pipe.incoming.end(), pipe.written.begin(), pipe.written.end());
  uint8_t out[16];
  const size_t n = bearer.receive(out);
  ASSERT_EQ(n, sizeof(payload));
  EXPECT_EQ(std::vector<uint8_t>(out, out + n), std::vector<uint8_t>(payload, payload + 4));
  EXPECT_EQ(bearer.bad_frames(), 1u);
  EXPECT_EQ(bearer.receive(out), 0u);
}

TEST(FrameBearer, RefusesWhatDoesNotFit) {
  Pipe pipe;
  uint8_t frame_buf[8];
  protocol::StaticFrameDecoder<64> decoder;
  FrameBearer bearer(pipe, frame_buf, decoder);
  const uint8_t payload[16] = {};
  EXPECT_FALSE(bearer.send(payload));
  EXPECT_TRUE(pipe.written.empty());
}

}  // namespace
}  // namespace tinyedge::app
