// What the host node's enrollment sources share: the examples live in files under --enroll-from
// DIR named by the label the gateway sends (DIR/<label>.wav for words, DIR/<label>/*.png for
// images). A label that could name a file outside DIR is refused; each refusal's reason (the
// file and its fault) is kept for last_error() and, with a log prefix, goes to stderr: the
// EnrollmentStatus carries only the refusal code, the file is the node owner's business.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>

namespace tinyedge::host {

class EnrollmentFiles {
 public:
  explicit EnrollmentFiles(std::filesystem::path dir) : dir_(std::move(dir)) {}

  const std::string& last_error() const { return error_; }
  void set_log_prefix(std::string prefix) { log_prefix_ = std::move(prefix); }

 protected:
  ~EnrollmentFiles() = default;

  // Starts an enrollment's reading: forgets the last error. False (and the reason noted) when the
  // node has no DIR or the label cannot name a file in it.
  bool begin(std::string_view label);
  // Notes (and logs) why this enrollment's examples are refused.
  void refuse(std::string reason);
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  std::string error_;
  std::string log_prefix_;
};

}  // namespace tinyedge::host
