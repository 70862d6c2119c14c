#include "deploy/provision/provision.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "deploy/command_registry.h"
#include "deploy/provision/link_key_file.h"
#include "deploy/provision/mosquitto_password.h"
#include "ota/signing_key.h"
#include "protocol/topics.h"

namespace tinyedge::deploy {
namespace {

namespace fs = std::filesystem;

// Files written beside their destination and renamed into place only by commit(); whatever
// was not committed is removed again, so a failure half way leaves the directory as it was.
class StagedFiles {
 public:
  StagedFiles() = default;
  StagedFiles(const StagedFiles&) = delete;
  StagedFiles& operator=(const StagedFiles&) = delete;
  ~StagedFiles() {
    for (const auto& file : files_) ::unlink(file.staged.c_str());
  }

  void add(const fs::path& path, const std::string& text, mode_t mode) {
    const std::string staged = path.string() + ".new-" + std::to_string(::getpid());
    ::unlink(staged.c_str());
    const int fd = ::open(staged.c_str(), O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0) throw CommandError("cannot create " + staged + ": " + std::strerror(errno));
    files_.push_back({staged, path.string()});
    const bool ok = ::fchmod(fd, mode) == 0 &&  // exact mode whatever the umask
                    ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) throw CommandError("cannot write " + staged + ": " + std::strerror(errno));
  }

  void commit() {
    for (auto& file : files_) {
      if (::rename(file.staged.c_str(), file.final_path.c_str()) != 0) {
        throw CommandError("cannot rename " + file.staged + " to " + file.final_path + ": " + std::strerror(errno));
      }
      file.staged.clear();
    }
    files_.clear();
  }

 private:
  struct File {
    std::string staged, final_path;
  };
  std::vector<File> files_;
};

struct PasswdEntry {
  std::string user, hash;
};

std::vector<PasswdEntry> read_passwd(const fs::path& path) {
  std::vector<PasswdEntry> entries;
  std::ifstream in(path);
  if (!in) {
    if (fs::exists(path)) throw CommandError("cannot read " + path.string());
    return entries;
  }
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    const size_t colon = line.find(':');
    if (colon == 0 || colon == std::string::npos) {
      throw CommandError(path.string() + " line " + std::to_string(number) + " is not <user>:<hash>");
    }
    entries.push_back({line.substr(0, colon), line.substr(colon + 1)});
  }
  return entries;
}

std::string topic(const std::string& node_id, protocol::Channel channel) {
  std::array<char, protocol::kMaxTopicLength> buffer{};
  const size_t n = protocol::format_topic(buffer, node_id, channel);
  if (n == 0) throw CommandError("no topic for node id '" + node_id + "'");
  return std::string(buffer.data(), n);
}

// A gateway reads and writes every node's topics; a node publishes its results (up) and its
// retained online/offline state (also its last will), and subscribes to its downlinks. Nothing else.
std::string acl_text(const std::set<std::string>& gateway_users, const std::vector<PasswdEntry>& entries) {
  std::string text =
      "# Written by `tinyedge fleet provision` from mosquitto.passwd and gateway-users on every run: edits here\n"
      "# are lost.\n";
  for (const auto& user : gateway_users) {
    text += "\n# gateway " + user + ": every node's topics\nuser " + user + "\ntopic readwrite " +
            std::string(protocol::kTopicPrefix) + "#\n";
  }
  for (const auto& entry : entries) {
    if (gateway_users.count(entry.user)) continue;
    text += "\n# node " + entry.user + ": its own topics only\nuser " + entry.user + "\n";
    text += "topic write " + topic(entry.user, protocol::Channel::kUp) + "\n";
    text += "topic write " + topic(entry.user, protocol::Channel::kState) + "\n";
    text += "topic read " + topic(entry.user, protocol::Channel::kDown) + "\n";
  }
  return text;
}

// The logins with gateway rights, one per line (every --gateway-user any run was given).
std::set<std::string> read_gateway_users(const fs::path& path) {
  std::set<std::string> users;
  std::ifstream in(path);
  if (!in && fs::exists(path)) throw CommandError("cannot read " + path.string());
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    if (!protocol::is_valid_node_id(line)) throw CommandError(path.string() + ": '" + line + "' is not a login");
    users.insert(line);
  }
  return users;
}

std::string conf_text(const fs::path& dir) {
  return "# Written by `tinyedge fleet provision`. Add to the broker's configuration (Debian: copy to\n"
         "# /etc/mosquitto/conf.d/tinyedge.conf) next to a listener line.\n"
         "# Logins only; each client limited by mosquitto.acl to its own topics.\n"
         "allow_anonymous false\n"
         "password_file " +
         (dir / "mosquitto.passwd").string() +
         "\n"
         "acl_file " +
         (dir / "mosquitto.acl").string() +
         "\n"
         "# The client id is the login, so no client can take over another's session by claiming its id.\n"
         "use_username_as_clientid true\n";
}

void check_request(const ProvisionRequest& r) {
  if (r.node_ids.empty()) throw CommandError("no node ids given");
  if (!protocol::is_valid_node_id(r.gateway_user)) {
    throw CommandError("invalid gateway user '" + r.gateway_user + "' (1..32 of [A-Za-z0-9_-])");
  }
  if (std::find(r.node_ids.begin(), r.node_ids.end(), r.gateway_user) != r.node_ids.end()) {
    throw CommandError("node id '" + r.gateway_user + "' is the gateway's login (--gateway-user)");
  }
  const auto scheme_end = r.broker_url.find("://");
  static const std::set<std::string> kSchemes{"tcp", "ssl", "mqtt", "mqtts", "ws", "wss"};
  if (scheme_end == std::string::npos || !kSchemes.count(r.broker_url.substr(0, scheme_end)) ||
      r.broker_url.size() == scheme_end + 3) {
    throw CommandError("broker URL '" + r.broker_url + "' is not <tcp|ssl|mqtt|mqtts|ws|wss>://host[:port]");
  }
  if (r.fleet_key_id.size() != 16 || r.fleet_key_id.find_first_not_of("0123456789abcdef") != std::string::npos) {
    throw CommandError("fleet key id '" + r.fleet_key_id + "' is not 16 lower-case hex digits");
  }
}

std::string hex_list(const std::vector<std::string>& ids) {
  std::string text;
  for (size_t i = 0; i < ids.size() && i < 8; ++i) text += (i ? ", " : "") + ids[i];
  if (ids.size() > 8) text += " and " + std::to_string(ids.size() - 8) + " more";
  return text;
}

void make_dir(const fs::path& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) {
    throw CommandError("cannot create directory " + path.string() + ": " + std::strerror(errno));
  }
  if (!fs::is_directory(path)) throw CommandError(path.string() + " is not a directory");
}

}  // namespace

ProvisionResult provision_nodes(const ProvisionRequest& request) {
  check_request(request);
  const fs::path dir = fs::absolute(request.dir);
  if (fs::exists(dir) && !fs::is_directory(dir)) throw CommandError(dir.string() + " is not a directory");
  const fs::path passwd_path = dir / "mosquitto.passwd", keys_dir = dir / "link-keys", blobs_dir = dir / "nodes";
  std::vector<PasswdEntry> entries = read_passwd(passwd_path);
  std::set<std::string> gateway_users = read_gateway_users(dir / "gateway-users");
  for (const auto& id : request.node_ids) {
    if (gateway_users.count(id)) throw CommandError("node id '" + id + "' is a gateway's login in " + dir.string());
  }

  // Which of the requested nodes already hold a secret here, in any of the three places.
  std::set<std::string> with_login;
  for (const auto& e : entries) with_login.insert(e.user);
  std::vector<std::string> existing;
  for (const auto& id : request.node_ids) {
    if (with_login.count(id) || fs::exists(keys_dir / (id + ".key")) || fs::exists(blobs_dir / (id + ".json"))) {
      existing.push_back(id);
    }
  }
  if (!existing.empty() && !request.rotate) {
    throw CommandError(std::to_string(existing.size()) + " node(s) already provisioned in " + dir.string() + ": " +
                       hex_list(existing) + " (use --rotate to replace their secrets; nothing was changed)");
  }

  const bool gateway_exists =
      std::any_of(entries.begin(), entries.end(), [&](const PasswdEntry& e) { return e.user == request.gateway_user; });
  if (gateway_exists && !gateway_users.count(request.gateway_user)) {
    throw CommandError("gateway user '" + request.gateway_user + "' is a node's login in " + dir.string() +
                       " (a node never gets gateway rights)");
  }

  make_dir(dir, 0755);
  make_dir(keys_dir, 0700);
  make_dir(blobs_dir, 0700);

  ProvisionResult result;
  StagedFiles staged;
  if (!gateway_exists) {
    const std::string password = random_mqtt_password();
    entries.insert(entries.begin(), {request.gateway_user, ""});
    entries.front().hash =
        mosquitto_password_entry(request.gateway_user, password).substr(request.gateway_user.size() + 1);
    staged.add(dir / (request.gateway_user + ".password"), password + "\n", 0600);
    result.gateway_created = true;
  }
  gateway_users.insert(request.gateway_user);
  std::string gateway_list;
  for (const auto& user : gateway_users) gateway_list += user + "\n";
  staged.add(dir / "gateway-users", gateway_list, 0644);
  const std::set<std::string> rotating(existing.begin(), existing.end());
  std::erase_if(entries, [&](const PasswdEntry& e) { return rotating.count(e.user) > 0; });
  for (const auto& id : request.node_ids) {
    const std::string password = random_mqtt_password();
    const ota::LinkKey key = random_link_key();
    std::string link_key = link_key_text(key);
    link_key.pop_back();  // the newline
    entries.push_back({id, mosquitto_password_entry(id, password).substr(id.size() + 1)});
    staged.add(keys_dir / (id + ".key"), link_key_text(key), 0600);
    nlohmann::ordered_json blob = {
        {"node_id", id},
        {"broker", request.broker_url},
        {"username", id},
        {"password", password},
        {"link_key", link_key},
        {"fleet_key_id", request.fleet_key_id},
        {"topics",
         {{"up", topic(id, protocol::Channel::kUp)},
          {"down", topic(id, protocol::Channel::kDown)},
          {"state", topic(id, protocol::Channel::kState)}}},
    };
    if (request.decryption_key) {
      std::string scalar = link_key_text(request.decryption_key->scalar);  // the same 64 hex digits
      scalar.pop_back();
      blob["decryption_key"] = scalar;
      blob["decryption_key_id"] = ota::key_id_hex(request.decryption_key->id);
    }
    staged.add(blobs_dir / (id + ".json"), blob.dump(2) + "\n", 0600);
    (rotating.count(id) ? result.rotated : result.created).push_back(id);
  }

  std::string passwd;
  for (const auto& e : entries) passwd += e.user + ":" + e.hash + "\n";
  // Readable by the broker, which drops to its own user: hashes of 192-bit random passwords.
  staged.add(passwd_path, passwd, 0644);
  staged.add(dir / "mosquitto.acl", acl_text(gateway_users, entries), 0644);
  staged.add(dir / "mosquitto.conf", conf_text(dir), 0644);
  staged.commit();
  return result;
}

}  // namespace tinyedge::deploy
