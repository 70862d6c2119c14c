// Prometheus text exposition format 0.0.4: HELP/TYPE headers, samples with escaped labels.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tinyedge::dashboard {

class PrometheusWriter {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;
  void header(const std::string& name, const std::string& help, const std::string& type);
  void sample(const std::string& name, const Labels& labels, double value);
  void counter(const std::string& name, const std::string& help, uint64_t value);
  void gauge(const std::string& name, const std::string& help, double value);
  static std::string number(double v);
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace tinyedge::dashboard
