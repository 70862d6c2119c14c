// Text from one node must never take down the fleet view, and a node id is never cut short: the
// real tinyedge-gateway with a real mosquitto and its REST API, and the library gateway with an
// MQTT and a serial bearer, fed Hellos and uplinks whose strings are hostile.
#include <gtest/gtest.h>

#include <filesystem>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "dashboard_api/auth.h"
#include "deploy/fleet/api_client.h"
#include "gateway/store/sqlite/sqlite_query.h"
#include "protocol/frame.h"
#include "tests/gateway/support/gateway_process.h"
#include "tests/gateway/support/in_process_gateway.h"
#include "tests/gateway/support/mosquitto.h"
#include "tests/gateway/support/sim_node.h"
#include "tests/gateway/support/wire.h"

namespace tinyedge::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::string file_text(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(GatewayNodeText, HelloWithInvalidUtf8IsRefusedAndTheFleetViewStaysUp) {
  const std::string dir = make_temp_dir("gw-node-text");
  Mosquitto broker(dir);
  broker.start();
  const std::string token = "node-text-viewer-token";
  const uint16_t api_port = free_port();
  const std::string config = dir + "/gateway.json";
  {
    std::ofstream out(config);
    out << "{\n  \"data_dir\": \"" << dir << "/data\",\n"
        << "  \"mqtt\": {\"url\": \"" << broker.url() << "\", \"client_id\": \"node-text-gw\"},\n"
        << "  \"api\": {\"listen\": \"127.0.0.1\", \"port\": " << api_port
        << ", \"tokens\": [{\"token\": \"sha256:" << dashboard::to_hex(dashboard::sha256(token))
        << "\", \"role\": \"viewer\"}]}\n}\n";
  }
  const std::string log = dir + "/gateway.log";
  GatewayProcess gateway(TINYEDGE_GATEWAY_EXE, config, log);
  ASSERT_NO_THROW(gateway.start());
  ASSERT_TRUE(wait_port(api_port, 10000)) << "dashboard port never opened; see " << log;

  std::vector<std::unique_ptr<SimNode>> good;
  for (int i = 0; i < 3; ++i) {
    const std::string id = "good-" + std::to_string(i);
    good.push_back(std::make_unique<SimNode>(broker.url(), id, 1, 5));
    good.back()->connect();
    good.back()->publish_raw("tinyedge/v1/" + id + "/up", hello_uplink(id, "mps2-an386", "kws-\xc3\xa9t\xc3\xa9"));
    good.back()->produce(10);
  }
  SimNode evil(broker.url(), "evil", 1, 5);
  evil.connect();
  evil.publish_raw("tinyedge/v1/evil/up", hello_uplink("evil", "\xff\xfe", "kws"));
  evil.publish_raw("tinyedge/v1/evil/up", hello_uplink("evil", "host-sim", "kws\x1b[2J"));
  evil.publish_raw("tinyedge/v1/evil/up", hello_uplink("evil", "host\xc0\xaf", "kws"));  // overlong "/"
  evil.produce(2);  // acked only once the Hellos before it were handled (QoS 1 keeps their order)

  const auto all_acked = [&] {
    return evil.all_acked() && std::all_of(good.begin(), good.end(), [](auto& n) { return n->all_acked(); });
  };
  for (int i = 0; i < 300 && !all_acked(); ++i) std::this_thread::sleep_for(20ms);
  for (auto& n : good) ASSERT_TRUE(n->all_acked()) << n->node_id() << " results were not stored; see " << log;
  ASSERT_TRUE(evil.all_acked()) << "evil's results were not stored; see " << log;

  fleet::ApiClient api("http://127.0.0.1:" + std::to_string(api_port), token, 5s);
  const auto nodes = api.get("/api/v1/nodes");
  ASSERT_EQ(nodes.status, 200) << "one node's Hello took the fleet view down: " << nodes.body;
  const json body = json::parse(nodes.body);
  std::map<std::string, json> by_id;
  for (const auto& n : body["nodes"]) by_id[n["id"].get<std::string>()] = n;
  for (int i = 0; i < 3; ++i) {
    const std::string id = "good-" + std::to_string(i);
    ASSERT_TRUE(by_id.count(id)) << id << " missing from " << nodes.body;
    EXPECT_EQ(by_id[id]["hardware"], "mps2-an386");
    EXPECT_EQ(by_id[id]["model_name"], "kws-\xc3\xa9t\xc3\xa9") << "valid UTF-8 is kept as sent";
  }
  // evil is listed (its connection said "online"), but none of its Hellos was stored.
  ASSERT_TRUE(by_id.count("evil")) << nodes.body;
  EXPECT_EQ(by_id["evil"]["hardware"], "") << "a refused Hello must change nothing";
  EXPECT_EQ(by_id["evil"]["model_name"], "") << "a refused Hello must change nothing";

  EXPECT_EQ(count_lines(log, "problem=\"bad text\""), 3) << file_text(log);
  EXPECT_EQ(count_lines(log, "detail=\"hello.hardware is not valid UTF-8\""), 2) << file_text(log);
  EXPECT_EQ(count_lines(log, "detail=\"hello.model_name holds a control character\""), 1) << file_text(log);
  const auto metrics = api.get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("tinyedge_invalid_fields_total 3"), std::string::npos) << metrics.body;
  EXPECT_EQ(gateway.terminate(), 0);
}

// The node id inside an Uplink with a NUL after "victim": the struct nanopb fills reads "victim".
std::string nul_id(const std::string& id) { return id + std::string(1, '\0') + "evil"; }

TEST(GatewayNodeText, NodeIdWithEmbeddedNulIsRefusedOnEveryBearer) {
  const std::string dir = make_temp_dir("gw-node-nul");
  Mosquitto broker(dir);
  gateway::GatewayConfig config;
  config.data_dir = dir + "/data";
  config.mqtt.url = broker.url();
  config.mqtt.client_id = "gw-node-nul";
  config.bearers = {"unix-listen:" + dir + "/node.sock"};
  // No keys in it: the claim below must be refused for its id before any proof is even asked.
  config.link_keys = dir + "/link-keys";
  std::filesystem::create_directories(config.link_keys);
  InProcessGateway gw(config);
  ASSERT_TRUE(gw.wait_log("msg=subscribed", 1, 10000)) << gw.log_text();

  // MQTT: the topic says mq-1 and the payload says "mq-1\0evil".
  SimNode mq(broker.url(), "mq-1", 1, 5);
  mq.connect();
  mq.publish_raw("tinyedge/v1/mq-1/up", one_result_uplink(nul_id("mq-1"), 7, 1, 9999, 200));
  // A trailing NUL is a NUL all the same.
  mq.publish_raw("tinyedge/v1/mq-1/up", one_result_uplink("mq-1" + std::string(1, '\0'), 7, 2, 9999, 200));

  // Serial: a link that has not proven a node, whose first uplink says "ser-1\0evil", is refused
  // for that id (not cut short to ser-1 and then asked to prove it).
  boost::asio::io_context io;
  boost::asio::local::stream_protocol::socket link(io);
  link.connect(boost::asio::local::stream_protocol::endpoint(dir + "/node.sock"));
  const auto payload = one_result_uplink(nul_id("ser-1"), 7, 1, 9999, 200);
  std::vector<uint8_t> frame(protocol::max_encoded_frame_size(payload.size()));
  const auto encoded = protocol::encode_frame(payload, frame);
  ASSERT_EQ(encoded.status, protocol::FrameStatus::kOk);
  boost::asio::write(link, boost::asio::buffer(frame.data(), encoded.size));

  EXPECT_TRUE(gw.wait_log("detail=\"node_id holds a NUL byte\"", 3, 10000)) << gw.log_text();
  EXPECT_EQ(gw.log_lines_with("problem=\"bad node id\""), 3u) << gw.log_text();
  EXPECT_EQ(gw.log_lines_with("bound to node"), 0u) << gw.log_text();
  EXPECT_EQ(gw.log_lines_with("claimed_node=ser-1"), 0u) << "the cut-short id was taken as a claim:\n" << gw.log_text();
  EXPECT_EQ(gw.metrics().invalid_fields.get(), 3u);

  // The same node with its real id is served as usual afterwards.
  mq.produce(5);
  for (int i = 0; i < 300 && !mq.all_acked(); ++i) std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(mq.all_acked()) << gw.log_text();
  gw.stop();

  gateway::SqliteQuery query(config.db_path());
  EXPECT_FALSE(query.node("ser-1")) << "a truncated id must not create the node it names";
  EXPECT_EQ(query.event_count(), 5u) << "only mq-1's five valid results are stored";
  gateway::EventFilter f;
  f.node_id = "mq-1";
  for (const auto& e : query.events(f).events) EXPECT_NE(e.label, 9999u) << "the NUL-id result was stored as mq-1";
}

}  // namespace
}  // namespace tinyedge::test
