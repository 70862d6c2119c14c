// `tinyedge fleet provision --nodes cam-1..cam-50 --out DIR --broker URL --fleet-key fleet.pub
// [--decryption-key fleet-enc.key] [--rotate]`: per-node MQTT logins and ACL, link keys and config
// blobs (see provision.h for the layout).
#include <fstream>
#include <iostream>
#include <iterator>

#include "deploy/command_registry.h"
#include "deploy/provision/node_list.h"
#include "deploy/provision/provision.h"
#include "ota/signing_key.h"

namespace tinyedge::deploy {
namespace {

std::string fleet_key_id(const std::string& pem_path) {
  std::ifstream in(pem_path);
  if (!in) throw CommandError("cannot read fleet key " + pem_path);
  const std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  try {
    return ota::key_id_hex(ota::public_key_from_pem(pem).id);
  } catch (const ota::KeyError& e) {
    throw CommandError("fleet key " + pem_path + ": " + e.what());
  }
}

// The fleet's payload decryption key, checked here so a bad file is refused before any write.
ota::DecryptionKey decryption_key(const std::string& pem_path) {
  std::ifstream in(pem_path);
  if (!in) throw CommandError("cannot read decryption key " + pem_path);
  const std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  try {
    return ota::decryption_key_from_pem(pem);
  } catch (const ota::KeyError& e) {
    throw CommandError("decryption key " + pem_path + ": " + e.what());
  }
}

void install(CLI::App& app) {
  auto* fleet = app.add_subcommand("fleet", "Set up nodes before they join the fleet");
  fleet->require_subcommand(1);
  auto* cmd = fleet->add_subcommand(
      "provision",
      "Create nodes' MQTT logins + ACL, link keys and config blobs in one directory (refuses existing nodes "
      "without --rotate)");
  auto nodes = std::make_shared<std::vector<std::string>>();
  auto request = std::make_shared<ProvisionRequest>();
  auto key_path = std::make_shared<std::string>();
  auto decryption_path = std::make_shared<std::string>();
  cmd->add_option("--nodes", *nodes, "Node ids and ranges: cam-1..cam-50,lab-7 (n001..n120 keeps the zero padding)")
      ->required()
      ->delimiter(',');
  cmd->add_option("--out", request->dir, "Provisioning directory (created; reused by later runs)")->required();
  cmd->add_option("--broker", request->broker_url, "Broker URL the nodes connect to (goes into their config blobs)")
      ->required();
  cmd->add_option("--fleet-key", *key_path, "Fleet PUBLIC key (fleet.pub) the nodes trust; its id goes into the blobs")
      ->required();
  cmd->add_option("--decryption-key", *decryption_path,
                  "Fleet payload decryption PRIVATE key (keys generate --encryption's .key): goes into every blob "
                  "written, so the nodes open encrypted packages");
  cmd->add_option("--gateway-user", request->gateway_user,
                  "The gateway's broker login (created once; each gateway sharing the broker needs its own)")
      ->capture_default_str();
  cmd->add_flag("--rotate", request->rotate, "Replace the password, link key and blob of nodes already provisioned");
  cmd->callback([nodes, request, key_path, decryption_path] {
    request->node_ids = expand_node_list(*nodes);
    request->fleet_key_id = fleet_key_id(*key_path);
    if (!decryption_path->empty()) request->decryption_key = decryption_key(*decryption_path);
    const ProvisionResult result = provision_nodes(*request);
    const auto dir = std::filesystem::absolute(request->dir).string();
    if (result.gateway_created) {
      std::cout << "gateway login '" << request->gateway_user << "': password in " << dir << "/"
                << request->gateway_user << ".password\n";
    }
    std::cout << "provisioned " << result.created.size() << " new node(s), rotated " << result.rotated.size() << " in "
              << dir << " (fleet key " << request->fleet_key_id << ")\n";
    if (request->decryption_key) {
      std::cout << "  decryption key " << ota::key_id_hex(request->decryption_key->id) << " in the new blobs\n";
    }
    std::cout << "  broker: include " << dir << "/mosquitto.conf, then reload it (SIGHUP)\n"
              << "  gateway: link_keys = " << dir << "/link-keys\n"
              << "  nodes: " << dir << "/nodes/<id>.json (tinyedge-node --provisioned " << dir << "/nodes)\n";
  });
}

// After the fleet queries ("60-fleet").
const CommandRegistration kReg{"65-fleet-provision", &install};

}  // namespace
}  // namespace tinyedge::deploy
