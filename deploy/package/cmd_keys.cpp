// `tinyedge keys generate --out fleet`: fleet.key (PEM, 0600), fleet.pub (PEM), fleet.keyid.
// `--encryption`: the same files for the fleet's payload encryption key pair (a P-256 pair kept
// apart from the signing key): .pub to `package create --encrypt-for`, .key to the nodes.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include "deploy/command_registry.h"
#include "ota/signing_key.h"

namespace tinyedge::deploy {
namespace {

// The private key is created 0600 from the first byte (never chmod'ed after the fact) and never
// overwrites an existing key unless asked.
void write_private(const std::string& path, const std::string& pem, bool force) {
  int flags = O_WRONLY | O_CREAT | O_TRUNC | (force ? 0 : O_EXCL);
  if (force) ::unlink(path.c_str());
  const int fd = ::open(path.c_str(), flags, 0600);
  if (fd < 0) {
    if (errno == EEXIST) throw CommandError(path + " already exists (use --force to replace it)");
    throw CommandError("cannot create " + path + ": " + std::strerror(errno));
  }
  const ssize_t written = ::write(fd, pem.data(), pem.size());
  const bool ok = written == static_cast<ssize_t>(pem.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) throw CommandError("cannot write " + path);
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  if (!out || !(out << text) || !out.flush()) throw CommandError("cannot write " + path);
}

void install(CLI::App& app) {
  auto* keys = app.add_subcommand("keys", "Fleet signing keys (ECDSA P-256)");
  keys->require_subcommand(1);
  auto* generate = keys->add_subcommand("generate", "Create a signing key pair: <out>.key, <out>.pub, <out>.keyid");
  auto out = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  auto encryption = std::make_shared<bool>(false);
  generate->add_option("--out", *out, "Path prefix of the files to write")->required();
  generate->add_flag("--force", *force, "Replace an existing key");
  generate->add_flag("--encryption", *encryption,
                     "A payload encryption key pair (ECIES P-256) instead of a signing key: .pub for "
                     "package create --encrypt-for, .key for the nodes (tinyedge-node --decryption-key)");
  generate->callback([out, force, encryption] {
    try {
      const auto key = ota::SigningKey::generate();
      const std::string id = ota::key_id_hex(key.key_id());
      write_private(*out + ".key", key.private_pem(), *force);
      write_text(*out + ".pub", key.public_pem());
      write_text(*out + ".keyid", id + "\n");
      std::cout << "wrote " << *out << ".key (private, 0600), " << *out << ".pub, " << *out << ".keyid\n"
                << "key id " << id << "\n";
      if (*encryption)
        std::cout << "encryption key: packages made with --encrypt-for " << *out << ".pub open only on nodes given "
                  << *out << ".key\n";
    } catch (const ota::KeyError& e) {
      throw CommandError(e.what());
    }
  });
}

const CommandRegistration kReg{"20-keys", &install};

}  // namespace
}  // namespace tinyedge::deploy
