// `tinyedge keys link --node n1 --out DIR`: a node's link key, DIR/n1.key (64 hex digits, 0600).
// The same file goes into the node at manufacture (the M4 build's TINYEDGE_FW_LINK_KEY, the host
// node's --link-key) and into the gateway's link_keys directory; serial/BLE-bridge links prove
// their node with it (ota/link_proof.h).
#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "deploy/command_registry.h"
#include "ota/link_proof.h"
#include "protocol/topics.h"

namespace tinyedge::deploy {
namespace {

ota::LinkKey random_link_key() {
  ota::LinkKey key{};
  size_t filled = 0;
  while (filled < key.size()) {
    const ssize_t n = ::getrandom(key.data() + filled, key.size() - filled, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw CommandError(std::string("no randomness for a link key: ") + std::strerror(errno));
    filled += static_cast<size_t>(n);
  }
  return key;
}

// Created 0600 from the first byte; an existing key is never replaced unless asked (a node
// already built with it would be locked out).
void write_key(const std::string& path, const ota::LinkKey& key, bool force) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text;
  for (uint8_t b : key) {
    text += kDigits[b >> 4];
    text += kDigits[b & 15];
  }
  text += '\n';
  if (force) ::unlink(path.c_str());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | (force ? 0 : O_EXCL), 0600);
  if (fd < 0) {
    if (errno == EEXIST) throw CommandError(path + " already exists (use --force to replace it)");
    throw CommandError("cannot create " + path + ": " + std::strerror(errno));
  }
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) throw CommandError("cannot write " + path);
}

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
    write_key(path, random_link_key(), *force);
    std::cout << "wrote " << path << " (link key of node " << *node << ", 0600)\n";
  });
}

// After "20-keys", which creates the `keys` command.
const CommandRegistration kReg{"21-keys-link", &install};

}  // namespace
}  // namespace tinyedge::deploy
