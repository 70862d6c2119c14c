// What the train tests that drive the real `tinyedge` do between runs: run a command and keep its
// exit status and output, read a percentage it printed, and make a scratch folder of their own.
#pragma once
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

namespace tinyedge::train::testing {

struct Run {
  int status;
  std::string output;  // stdout and stderr
};

// `command` through the shell, to completion.
inline Run run(const std::string& command) {
  Run r{-1, {}};
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  while (fgets(buf.data(), buf.size(), p)) r.output += buf.data();
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

#ifdef TINYEDGE_CLI
// The `tinyedge` this build made (TINYEDGE_CLI), with `args`.
inline Run cli(const std::string& args) { return run(std::string(TINYEDGE_CLI) + " " + args); }
#endif

// The number printed right after `key` ("int8 accuracy: 87.5" -> 87.5), -1 when `key` is absent.
inline double percent_after(const std::string& text, const std::string& key) {
  const auto at = text.find(key);
  return at == std::string::npos ? -1 : std::stod(text.substr(at + key.size()));
}

// An empty folder for this test process: tinyedge_<kind>_<what>_<pid> under the temp directory.
inline std::filesystem::path scratch(const std::string& kind, const std::string& what) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("tinyedge_" + kind + "_" + what + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace tinyedge::train::testing
