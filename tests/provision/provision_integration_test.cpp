// `tinyedge fleet provision` against a real mosquitto: the logins and ACL it writes let each node
// use its own topics and nothing else, --rotate locks the old secret out, and every refused
// invocation leaves the provisioning directory byte for byte as it was.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/node/broker.h"
#include "tests/node/process.h"
#include "tests/provision/mqtt_client.h"
#include "tests/runtime/tiny_model.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using tinyedge::testing::MqttClient;

struct Result {
  int status;
  std::string output;
};

Result tinyedge(const std::string& args) {
  const std::string command = std::string(TINYEDGE_CLI) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  std::array<char, 512> buffer;
  while (pipe && fgets(buffer.data(), buffer.size(), pipe)) output += buffer.data();
  const int status = pipe ? pclose(pipe) : -1;
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Every file under `dir` with its bytes and mode: what "changes nothing" is checked against.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    struct stat st {};
    ::stat(entry.path().c_str(), &st);
    files[fs::relative(entry.path(), dir).string()] =
        std::to_string(st.st_mode) + ":" + (entry.is_regular_file() ? slurp(entry.path()) : "");
  }
  return files;
}

// The names of files added, removed or changed (contents or mode); empty when none.
std::string changed_files(const std::map<std::string, std::string>& before,
                          const std::map<std::string, std::string>& after) {
  std::string names;
  for (const auto& [name, content] : after) {
    const auto it = before.find(name);
    if (it == before.end())
      names += " added:" + name;
    else if (it->second != content)
      names += " changed:" + name;
  }
  for (const auto& [name, content] : before) {
    if (!after.count(name)) names += " removed:" + name;
  }
  return names;
}

class ProvisionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("tinyedge_provision_" + std::to_string(::getpid()) + "_" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir / "broker");
    port = tinyedge::testing::free_tcp_port();
    url = "tcp://127.0.0.1:" + std::to_string(port);
    const auto r = tinyedge("keys generate --out " + (dir / "fleet").string());
    ASSERT_EQ(r.status, 0) << r.output;
  }
  void TearDown() override {
    broker_process.kill_and_wait();
    if (!HasFailure()) fs::remove_all(dir);
  }

  Result provision(const std::string& nodes, const std::string& extra = "") {
    return tinyedge("fleet provision --nodes " + nodes + " --out " + (dir / "prov").string() + " --broker " + url +
                    " --fleet-key " + (dir / "fleet.pub").string() + " " + extra);
  }

  // mosquitto with a listener of ours and the provisioned settings, as an operator would include them.
  void start_broker() {
    std::ofstream conf(dir / "broker" / "mosquitto.conf");
    conf << "listener " << port << " 127.0.0.1\npersistence false\n" << slurp(dir / "prov" / "mosquitto.conf");
    conf.close();
    broker_process = tinyedge::testing::ChildProcess(
        {tinyedge::testing::kMosquitto, "-c", (dir / "broker" / "mosquitto.conf").string()},
        (dir / "broker" / "mosquitto.log").string());
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!tinyedge::testing::port_accepts(port)) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline)
          << "mosquitto did not start: " << slurp(dir / "broker" / "mosquitto.log");
      std::this_thread::sleep_for(20ms);
    }
  }

  nlohmann::json blob(const std::string& id) {
    return nlohmann::json::parse(slurp(dir / "prov" / "nodes" / (id + ".json")));
  }
  std::string password(const std::string& id) { return blob(id).at("password").get<std::string>(); }
  std::string gateway_password() { return trimmed(slurp(dir / "prov" / "gateway.password")); }

  // A client logged in as the gateway, subscribed to every node's uplinks.
  std::unique_ptr<MqttClient> gateway_subscriber() {
    auto gw = std::make_unique<MqttClient>(url, "gateway");
    EXPECT_EQ(gw->connect("gateway", gateway_password()), 0) << "the gateway's provisioned login was refused";
    EXPECT_EQ(gw->subscribe("tinyedge/v1/+/up"), 1);
    return gw;
  }

  fs::path dir;
  int port = 0;
  std::string url;
  tinyedge::testing::ChildProcess broker_process;
};

TEST_F(ProvisionTest, ProvisionedNodePublishesOnItsOwnTopicsAndReceivesItsDownlinks) {
  auto r = provision("cam-1..cam-3");
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* id : {"cam-1", "cam-2", "cam-3"}) {
    const auto b = blob(id);
    EXPECT_EQ(b.at("node_id"), id);
    EXPECT_EQ(b.at("broker"), url);
    EXPECT_EQ(b.at("fleet_key_id"), trimmed(slurp(dir / "fleet.keyid")));
    EXPECT_EQ(trimmed(slurp(dir / "prov" / "link-keys" / (std::string(id) + ".key"))), b.at("link_key"));
    struct stat st {};
    ASSERT_EQ(::stat((dir / "prov" / "nodes" / (std::string(id) + ".json")).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << id << "'s blob holds its password: owner only";
  }
  start_broker();
  auto gw = gateway_subscriber();

  MqttClient cam1(url, "cam-1");
  ASSERT_EQ(cam1.connect("cam-1", password("cam-1")), 0) << "a provisioned login was refused";
  ASSERT_EQ(cam1.subscribe("tinyedge/v1/cam-1/down"), 1);
  ASSERT_TRUE(cam1.publish("tinyedge/v1/cam-1/up", "result-1"));
  const auto got = gw->receive(5s);
  ASSERT_TRUE(got) << "the gateway never saw cam-1's uplink";
  EXPECT_EQ(got->topic, "tinyedge/v1/cam-1/up");
  EXPECT_EQ(got->payload, "result-1");
  ASSERT_TRUE(cam1.publish("tinyedge/v1/cam-1/state", "online"));

  ASSERT_TRUE(gw->publish("tinyedge/v1/cam-1/down", "ack-1"));
  const auto down = cam1.receive(5s);
  ASSERT_TRUE(down) << "cam-1 never got its downlink";
  EXPECT_EQ(down->payload, "ack-1");

  // No login, or a wrong password: refused.
  MqttClient anonymous(url, "anon");
  EXPECT_NE(anonymous.connect("", ""), 0) << "an anonymous client was let in";
  MqttClient wrong(url, "cam-2");
  EXPECT_NE(wrong.connect("cam-2", password("cam-1")), 0) << "cam-2 logged in with cam-1's password";
}

TEST_F(ProvisionTest, NodeCannotPublishOrListenAsAnotherNode) {
  ASSERT_EQ(provision("cam-1,cam-2").status, 0);
  start_broker();
  auto gw = gateway_subscriber();
  MqttClient cam1(url, "cam-1");
  ASSERT_EQ(cam1.connect("cam-1", password("cam-1")), 0);
  ASSERT_EQ(cam1.subscribe("tinyedge/v1/cam-1/down"), 1);

  // cam-2 forges uplinks and state as cam-1 and tries to read cam-1's downlinks...
  MqttClient cam2(url, "cam-2");
  ASSERT_EQ(cam2.connect("cam-2", password("cam-2")), 0);
  cam2.subscribe("tinyedge/v1/cam-1/down");
  cam2.subscribe("tinyedge/v1/+/down");
  cam2.publish("tinyedge/v1/cam-1/up", "forged");
  cam2.publish("tinyedge/v1/cam-1/state", "offline");
  cam2.publish("tinyedge/v1/gateway/up", "forged");
  // ...then publishes on its own topic: once the gateway has that, the forgeries (sent earlier on
  // the same connection) would have arrived before it.
  ASSERT_TRUE(cam2.publish("tinyedge/v1/cam-2/up", "marker"));
  const auto got = gw->receive(5s);
  ASSERT_TRUE(got) << "the gateway never saw cam-2's own uplink";
  EXPECT_EQ(got->topic, "tinyedge/v1/cam-2/up") << "the gateway received a forged message: " << got->payload;
  EXPECT_EQ(got->payload, "marker");
  EXPECT_FALSE(gw->receive(300ms)) << "a further message reached the gateway";

  ASSERT_TRUE(gw->publish("tinyedge/v1/cam-1/down", "for-cam-1-only"));
  const auto down = cam1.receive(5s);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->payload, "for-cam-1-only");
  EXPECT_FALSE(cam2.receive(500ms)) << "cam-2 read cam-1's downlink";

  // cam-2 claiming cam-1's client id does not take over cam-1's session: the id is the login.
  MqttClient impostor(url, "cam-1");
  ASSERT_EQ(impostor.connect("cam-2", password("cam-2")), 0);
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(cam1.connected()) << "cam-2 took over cam-1's connection with its client id";
  ASSERT_TRUE(cam1.publish("tinyedge/v1/cam-1/up", "still-here"));
  const auto after = gw->receive(5s);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->payload, "still-here");
}

TEST_F(ProvisionTest, RotatedSecretLocksOutTheOldOne) {
  ASSERT_EQ(provision("cam-1,cam-2").status, 0);
  const std::string old_password = password("cam-1");
  const std::string old_key = slurp(dir / "prov" / "link-keys" / "cam-1.key");
  const std::string cam2_password = password("cam-2");
  const std::string gateway = gateway_password();

  auto r = provision("cam-1", "--rotate");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("rotated 1"), std::string::npos) << r.output;
  EXPECT_NE(password("cam-1"), old_password);
  EXPECT_NE(slurp(dir / "prov" / "link-keys" / "cam-1.key"), old_key) << "--rotate kept the old link key";
  EXPECT_EQ(password("cam-2"), cam2_password) << "rotating cam-1 changed cam-2";
  EXPECT_EQ(gateway_password(), gateway) << "rotating a node changed the gateway's login";

  start_broker();
  MqttClient old_login(url, "cam-1");
  EXPECT_NE(old_login.connect("cam-1", old_password), 0) << "the rotated-out password still logs in";
  MqttClient new_login(url, "cam-1");
  EXPECT_EQ(new_login.connect("cam-1", password("cam-1")), 0);
  MqttClient other(url, "cam-2");
  EXPECT_EQ(other.connect("cam-2", cam2_password), 0) << "cam-2's untouched login stopped working";
}

TEST_F(ProvisionTest, BadArgumentsAreRefusedAndChangeNothing) {
  ASSERT_EQ(provision("cam-1..cam-2").status, 0);
  const auto before = snapshot(dir / "prov");
  const std::string good_key = (dir / "fleet.pub").string();
  struct Case {
    std::string args, expected;
  };
  // (Every malformed list is also covered in-process by NodeList.*; here, through the CLI.)
  const std::vector<Case> cases = {
      {"--nodes cam-5..cam-1", "range 'cam-5..cam-1' is empty"},
      {"--nodes 'bad id!'", "invalid node id 'bad id!'"},
      {"--nodes cam-3,cam-2", "1 node(s) already provisioned"},
      {"--nodes cam-1..cam-9", "cam-1, cam-2 (use --rotate"},
      {"--nodes gateway", "is the gateway's login"},
  };
  for (const auto& c : cases) {
    const auto r = tinyedge("fleet provision " + c.args + " --out " + (dir / "prov").string() + " --broker " + url +
                            " --fleet-key " + good_key);
    EXPECT_EQ(r.status, 1) << c.args << ": " << r.output;
    EXPECT_NE(r.output.find(c.expected), std::string::npos)
        << c.args << ": expected '" << c.expected << "' in: " << r.output;
    EXPECT_EQ(changed_files(before, snapshot(dir / "prov")), "") << c.args << " changed the provisioning directory";
  }
  const auto common = " --out " + (dir / "prov").string();
  auto r = tinyedge("fleet provision --nodes cam-7" + common + " --broker 127.0.0.1:1883 --fleet-key " + good_key);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("broker URL '127.0.0.1:1883' is not"), std::string::npos) << r.output;
  r = tinyedge("fleet provision --nodes cam-7" + common + " --broker " + url + " --fleet-key " +
               (dir / "fleet.key").string() + "x");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("cannot read fleet key"), std::string::npos) << r.output;
  std::ofstream(dir / "junk.pub") << "not a key";
  r = tinyedge("fleet provision --nodes cam-7" + common + " --broker " + url + " --fleet-key " +
               (dir / "junk.pub").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("fleet key " + (dir / "junk.pub").string()), std::string::npos) << r.output;
  EXPECT_EQ(changed_files(before, snapshot(dir / "prov")), "") << "a refused run changed the provisioning directory";

  // A fresh directory that a refused run must not even create.
  r = tinyedge("fleet provision --nodes cam-5..cam-1 --out " + (dir / "fresh").string() + " --broker " + url +
               " --fleet-key " + good_key);
  EXPECT_EQ(r.status, 1);
  EXPECT_FALSE(fs::exists(dir / "fresh")) << "a refused run created its output directory";
}

// A second gateway login (a second gateway sharing the broker) gets gateway rights beside the
// first, which keeps them; neither a node nor a gateway login can be turned into the other.
TEST_F(ProvisionTest, SecondGatewayLoginKeepsTheFirst) {
  ASSERT_EQ(provision("cam-1").status, 0);
  auto r = provision("cam-2", "--gateway-user gw2");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("gw2.password"), std::string::npos) << r.output;
  r = provision("cam-3", "--gateway-user cam-1");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("gateway user 'cam-1' is a node's login"), std::string::npos) << r.output;
  r = provision("gw2");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("node id 'gw2' is a gateway's login"), std::string::npos) << r.output;

  start_broker();
  auto gw = gateway_subscriber();
  MqttClient gw2(url, "gw2");
  ASSERT_EQ(gw2.connect("gw2", trimmed(slurp(dir / "prov" / "gw2.password"))), 0);
  ASSERT_EQ(gw2.subscribe("tinyedge/v1/+/up"), 1);
  MqttClient cam1(url, "cam-1");
  ASSERT_EQ(cam1.connect("cam-1", password("cam-1")), 0);
  ASSERT_TRUE(cam1.publish("tinyedge/v1/cam-1/up", "to-both"));
  for (MqttClient* g : {gw.get(), &gw2}) {
    const auto got = g->receive(5s);
    ASSERT_TRUE(got) << "a gateway login lost its rights when another was added";
    EXPECT_EQ(got->payload, "to-both");
  }
}

// The simulator takes its login from the blob: a provisioned tinyedge-node reaches the gateway;
// one whose blob names another fleet key is refused at start.
TEST_F(ProvisionTest, SimulatorRunsFromItsConfigBlob) {
  ASSERT_EQ(provision("sim-1").status, 0);
  start_broker();
  auto gw = gateway_subscriber();
  ASSERT_EQ(gw->subscribe("tinyedge/v1/+/state"), 1);
  std::ofstream(dir / "m.tem", std::ios::binary)
      .write(reinterpret_cast<const char*>(tinyedge::testing::kTinyModelTem), tinyedge::testing::kTinyModelTemSize);
  tinyedge::testing::ChildProcess node({TINYEDGE_NODE_EXE, "--id", "sim-1", "--model", (dir / "m.tem").string(),
                                        "--provisioned", (dir / "prov" / "nodes").string(), "--trust-key",
                                        (dir / "fleet.pub").string(), "--interval-ms", "100", "--duration", "20"},
                                       (dir / "node.log").string());
  const auto got = gw->receive(10s);
  ASSERT_TRUE(got) << "the provisioned simulator never reached the broker: " << slurp(dir / "node.log");
  EXPECT_EQ(got->topic.rfind("tinyedge/v1/sim-1/", 0), 0u) << got->topic;
  node.kill_and_wait();

  ASSERT_EQ(tinyedge("keys generate --out " + (dir / "other").string()).status, 0);
  tinyedge::testing::ChildProcess wrong_key(
      {TINYEDGE_NODE_EXE, "--id", "sim-1", "--model", (dir / "m.tem").string(), "--provisioned",
       (dir / "prov" / "nodes").string(), "--trust-key", (dir / "other.pub").string(), "--duration", "5"},
      (dir / "wrong.log").string());
  ASSERT_TRUE(wrong_key.wait_for(5s));
  EXPECT_EQ(wrong_key.exit_code(), 1);
  EXPECT_NE(slurp(dir / "wrong.log").find("trusts fleet key"), std::string::npos) << slurp(dir / "wrong.log");
}

// The fleet's payload decryption key goes into every blob (scalar and id); the simulator takes it
// from there, and a blob whose key is malformed, or whose id is not its key's, is refused naming
// the field. A decryption key file that is not a private key is refused before any write.
TEST_F(ProvisionTest, DecryptionKeyGoesIntoTheBlobsAndMalformedOnesAreRefused) {
  ASSERT_EQ(tinyedge("keys generate --encryption --out " + (dir / "enc").string()).status, 0);
  const std::string enc_id = trimmed(slurp(dir / "enc.keyid"));
  const auto r = provision("sim-1", "--decryption-key " + (dir / "enc.key").string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("decryption key " + enc_id), std::string::npos) << r.output;
  const fs::path blob_path = dir / "prov" / "nodes" / "sim-1.json";
  const auto blob = nlohmann::json::parse(slurp(blob_path));
  ASSERT_TRUE(blob.contains("decryption_key")) << blob.dump();
  EXPECT_EQ(blob.at("decryption_key").get<std::string>().size(), 64u);
  EXPECT_EQ(blob.at("decryption_key_id"), enc_id);

  const auto before = snapshot(dir / "prov");
  std::ofstream(dir / "junk.key") << "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n";
  for (const std::string& key : {(dir / "junk.key").string(), (dir / "enc.pub").string()}) {
    const auto refused = provision("sim-2", "--decryption-key " + key);
    EXPECT_EQ(refused.status, 1) << refused.output;
    EXPECT_NE(refused.output.find("decryption key " + key), std::string::npos) << refused.output;
  }
  EXPECT_EQ(changed_files(before, snapshot(dir / "prov")), "") << "a refused run changed the provisioning directory";

  auto run_node = [&](const std::string& log) {
    tinyedge::testing::ChildProcess node({TINYEDGE_NODE_EXE, "--id", "sim-1", "--model", (dir / "m.tem").string(),
                                          "--provisioned", (dir / "prov" / "nodes").string(), "--trust-key",
                                          (dir / "fleet.pub").string(), "--broker", url, "--duration", "1"},
                                         (dir / log).string());
    EXPECT_TRUE(node.wait_for(5s)) << log;
    return std::make_pair(node.exit_code(), slurp(dir / log));
  };
  std::ofstream(dir / "m.tem", std::ios::binary)
      .write(reinterpret_cast<const char*>(tinyedge::testing::kTinyModelTem), tinyedge::testing::kTinyModelTemSize);
  {
    // No broker here: the node keeps retrying, so the key line is waited for, then the node stopped.
    tinyedge::testing::ChildProcess node({TINYEDGE_NODE_EXE, "--id", "sim-1", "--model", (dir / "m.tem").string(),
                                          "--provisioned", (dir / "prov" / "nodes").string(), "--trust-key",
                                          (dir / "fleet.pub").string(), "--broker", url, "--duration", "5"},
                                         (dir / "good.log").string());
    const std::string expected = "payload decryption key " + enc_id + " from the config blobs";
    for (int i = 0; i < 100 && slurp(dir / "good.log").find(expected) == std::string::npos; ++i) {
      std::this_thread::sleep_for(50ms);
    }
    EXPECT_NE(slurp(dir / "good.log").find(expected), std::string::npos) << slurp(dir / "good.log");
    node.kill_and_wait();
  }

  const std::string good_text = slurp(blob_path);
  struct Case {
    std::string field, value, expected;
  };
  std::string other_scalar = blob.at("decryption_key").get<std::string>();
  other_scalar[10] = other_scalar[10] == '0' ? '1' : '0';  // a valid scalar, another key
  const std::vector<Case> cases = {
      {"decryption_key", "xyz", "decryption_key is not a P-256 private key (64 hex digits)"},
      {"decryption_key", std::string(64, '0'), "decryption_key: not a P-256 private key"},
      {"decryption_key", std::string(64, 'f'), "decryption_key: not a P-256 private key"},
      {"decryption_key", other_scalar, "decryption_key_id " + enc_id + " is not the id of its decryption_key"},
      {"decryption_key_id", "", "decryption_key_id  is not the id"},
  };
  for (const auto& c : cases) {
    auto bad = blob;
    bad[c.field] = c.value;
    std::ofstream(blob_path, std::ios::trunc) << bad.dump(2);
    const auto [bad_code, bad_log] = run_node("bad.log");
    EXPECT_EQ(bad_code, 1) << c.field << "=" << c.value << ": " << bad_log;
    EXPECT_NE(bad_log.find(c.expected), std::string::npos) << c.field << "=" << c.value << ": " << bad_log;
  }
  std::ofstream(blob_path, std::ios::trunc) << good_text;
}

}  // namespace
