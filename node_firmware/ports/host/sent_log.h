// `--sent-log FILE`: one line per event, for tests that must know what each node produced.
//   sent <node> <boot> <first_seq> <last_seq>      an InferenceResults uplink was handed to MQTT
//   final <node> <boot> <produced> <unacked>       at exit: results made this boot, still unacked
// Lines from many nodes interleave; each line is written whole.
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace tinyedge::host {

class SentLog {
 public:
  // Opens (truncates) `path`; throws std::runtime_error naming the path when it cannot.
  explicit SentLog(const std::string& path);
  void sent(std::string_view node, uint32_t boot, uint32_t first_seq, uint32_t last_seq);
  void final_counts(std::string_view node, uint32_t boot, uint32_t produced, uint32_t unacked);

 private:
  void line(const std::string& text);
  std::mutex mu_;
  std::unique_ptr<FILE, int (*)(FILE*)> file_;
};

}  // namespace tinyedge::host
