#include "node_firmware/ports/host/enrollment_files.h"

#include <cstdio>

namespace tinyedge::host {

bool EnrollmentFiles::begin(std::string_view label) {
  error_.clear();
  if (dir_.empty()) {
    refuse("no enrollment examples: the node was started without --enroll-from");
    return false;
  }
  // Labels come over the network: one that could leave DIR ("../x", "a/b") is no file of ours.
  if (label.empty() || label.front() == '.' || label.find('/') != std::string_view::npos ||
      label.find('\\') != std::string_view::npos) {
    refuse("enrollment label '" + std::string(label) + "' cannot name a recording or a folder of frames in " +
           dir_.string());
    return false;
  }
  return true;
}

void EnrollmentFiles::refuse(std::string reason) {
  error_ = std::move(reason);
  if (!log_prefix_.empty()) std::fprintf(stderr, "%s%s\n", log_prefix_.c_str(), error_.c_str());
}

}  // namespace tinyedge::host
