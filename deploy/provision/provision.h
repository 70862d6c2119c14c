// `tinyedge fleet provision`: everything a node needs to join the fleet, in one directory.
//
//   <dir>/mosquitto.passwd     one login per node (and the gateway's), PBKDF2-SHA512 as mosquitto_passwd writes
//   <dir>/mosquitto.acl        each node limited to its own topics; each gateway login to tinyedge/v1/#
//   <dir>/mosquitto.conf       the broker settings that enforce both (to include in the broker's config)
//   <dir>/gateway.password     the gateway's MQTT password (mqtt.password in its config); another
//                              --gateway-user gets <user>.password (one login per gateway sharing a broker)
//   <dir>/gateway-users        the logins with gateway rights: every --gateway-user given here
//   <dir>/link-keys/<id>.key   the node's link key for serial/BLE-bridge links (the gateway's link_keys)
//   <dir>/nodes/<id>.json      the node's config blob: id, broker, login, link key, trusted fleet key id,
//                              and the fleet's payload decryption key (scalar and key id) when given one
//
// A node that already has any of its secrets here is refused unless `rotate` is set: its old
// password, link key and blob are then all replaced together. Nothing is written until every
// check has passed, and the files are swapped in by rename, so a refused run changes nothing.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "ota/payload_cipher.h"

namespace tinyedge::deploy {

struct ProvisionRequest {
  std::vector<std::string> node_ids;  // already expanded and validated (expand_node_list)
  std::filesystem::path dir;
  std::string broker_url;    // what the nodes connect to, e.g. tcp://10.0.0.2:1883
  std::string fleet_key_id;  // hex id of the fleet public key the nodes trust (keys generate's .keyid)
  std::string gateway_user = "gateway";
  // The fleet's payload decryption key (keys generate --encryption): every node's blob carries it,
  // as its other credentials, so encrypted packages open on it. None: the blobs have no such field.
  std::optional<ota::DecryptionKey> decryption_key;
  bool rotate = false;
};

struct ProvisionResult {
  std::vector<std::string> created;
  std::vector<std::string> rotated;
  bool gateway_created = false;
};

// Throws CommandError naming the problem (and, for existing secrets, the nodes) before any write.
ProvisionResult provision_nodes(const ProvisionRequest& request);

}  // namespace tinyedge::deploy
