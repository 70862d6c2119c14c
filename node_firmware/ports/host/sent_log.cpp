#include "node_firmware/ports/host/sent_log.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace tinyedge::host {

SentLog::SentLog(const std::string& path) : file_(std::fopen(path.c_str(), "w"), &std::fclose) {
  if (!file_) throw std::runtime_error("cannot open sent log " + path + ": " + std::strerror(errno));
}

void SentLog::line(const std::string& text) {
  std::lock_guard lock(mu_);
  std::fputs(text.c_str(), file_.get());
  std::fflush(file_.get());
}

void SentLog::sent(std::string_view node, uint32_t boot, uint32_t first_seq, uint32_t last_seq) {
  line("sent " + std::string(node) + " " + std::to_string(boot) + " " + std::to_string(first_seq) + " " +
       std::to_string(last_seq) + "\n");
}

void SentLog::final_counts(std::string_view node, uint32_t boot, uint32_t produced, uint32_t unacked) {
  line("final " + std::string(node) + " " + std::to_string(boot) + " " + std::to_string(produced) + " " +
       std::to_string(unacked) + "\n");
}

}  // namespace tinyedge::host
