#include "deploy/provision/link_key_file.h"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "deploy/command_registry.h"

namespace tinyedge::deploy {

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

std::string link_key_text(const ota::LinkKey& key) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text;
  for (uint8_t b : key) {
    text += kDigits[b >> 4];
    text += kDigits[b & 15];
  }
  text += '\n';
  return text;
}

void write_link_key_file(const std::string& path, const ota::LinkKey& key, bool replace) {
  const std::string text = link_key_text(key);
  if (replace) ::unlink(path.c_str());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | (replace ? 0 : O_EXCL), 0600);
  if (fd < 0) {
    if (errno == EEXIST) throw CommandError(path + " already exists (use --force to replace it)");
    throw CommandError("cannot create " + path + ": " + std::strerror(errno));
  }
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) throw CommandError("cannot write " + path);
}

}  // namespace tinyedge::deploy
