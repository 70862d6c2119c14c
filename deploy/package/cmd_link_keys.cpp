// `tinyedge keys link --node n1 --out DIR`: a node's link key, DIR/n1.key (64 hex digits, 0600).
// The same file goes into the node at manufacture (the M4 build's TINYEDGE_FW_LINK_KEY, the host
// node's --link-key) and into the gateway's link_keys directory; serial/BLE-bridge links prove
// their node with it (ota/link_proof.h).
#include <filesystem>
#include <iostream>

#include "deploy/command_registry.h"
#include "deploy/provision/link_key_file.h"
#include "protocol/topics.h"

namespace tinyedge::deploy {
namespace {

void install(CLI::App& app) {
  CLI::App* keys = app.get_subcommand("keys");
  auto* link = keys->add_subcommand("link", "Create a node's link key <out>/<node>.key (serial/BLE-bridge links)");
  auto node = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  link->add_option("--node", *node, "Node id the key is for")->required();
  link->add_option("--out", *out, "Directory to write <node>.key into (the gateway's link_keys)")->required();
  link->add_flag("--force", *force, "Replace an existing key");
  link->callback([node, out, force] {
    if (!protocol::is_valid_node_id(*node)) {
      throw CommandError("invalid node id '" + *node + "' (1..32 of [A-Za-z0-9_-])");
    }
    std::error_code ec;
    std::filesystem::create_directories(*out, ec);
    if (!std::filesystem::is_directory(*out)) throw CommandError(*out + " is not a directory");
    const std::string path = (std::filesystem::path(*out) / (*node + ".key")).string();
    write_link_key_file(path, random_link_key(), *force);
    std::cout << "wrote " << path << " (link key of node " << *node << ", 0600)\n";
  });
}

// After "20-keys", which creates the `keys` command.
const CommandRegistration kReg{"21-keys-link", &install};

}  // namespace
}  // namespace tinyedge::deploy
