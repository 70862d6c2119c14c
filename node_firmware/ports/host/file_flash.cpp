#include "node_firmware/ports/host/file_flash.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace tinyedge::host {
namespace {

uint8_t* map_file(const std::filesystem::path& file, size_t bytes) {
  if (bytes == 0 || bytes % FileFlash::kPageBytes != 0) {
    throw std::runtime_error("flash size " + std::to_string(bytes) + " is not a whole number of 4 KB pages");
  }
  std::filesystem::create_directories(file.parent_path());
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT, 0644);
  if (fd < 0) throw std::runtime_error("cannot open flash file " + file.string() + ": " + std::strerror(errno));
  struct stat st{};
  ::fstat(fd, &st);
  const bool fresh = st.st_size == 0;
  if (!fresh && static_cast<size_t>(st.st_size) != bytes) {
    ::close(fd);
    throw std::runtime_error("flash file " + file.string() + " has " + std::to_string(st.st_size) +
                             " bytes, this node needs " + std::to_string(bytes) +
                             " (remove it to start the node from scratch)");
  }
  if (fresh && ::ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot size flash file " + file.string() + ": " + std::strerror(errno));
  }
  void* map = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) throw std::runtime_error("cannot map flash file " + file.string() + ": " + std::strerror(errno));
  if (fresh) std::memset(map, 0xFF, bytes);  // a new chip comes erased
  return static_cast<uint8_t*>(map);
}

}  // namespace

FileFlash::FileFlash(const std::filesystem::path& file, size_t bytes)
    : map_(map_file(file, bytes)), size_(bytes), memory_(std::span<uint8_t>(map_, bytes), kPageBytes, kWriteUnit) {}

FileFlash::~FileFlash() {
  if (map_ != nullptr) ::munmap(map_, size_);
}

}  // namespace tinyedge::host
