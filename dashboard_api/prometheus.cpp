#include "dashboard_api/prometheus.h"

#include <cmath>
#include <cstdio>

namespace tinyedge::dashboard {
namespace {

std::string escape(const std::string& s, bool in_label) {
  std::string out;
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '"' && in_label) out += "\\\"";
    else out += c;
  }
  return out;
}

}  // namespace

std::string PrometheusWriter::number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void PrometheusWriter::header(const std::string& name, const std::string& help, const std::string& type) {
  out_ += "# HELP " + name + " " + escape(help, false) + "\n# TYPE " + name + " " + type + "\n";
}

void PrometheusWriter::sample(const std::string& name, const Labels& labels, double value) {
  out_ += name;
  if (!labels.empty()) {
    out_ += '{';
    for (size_t i = 0; i < labels.size(); ++i)
      out_ += (i ? "," : "") + labels[i].first + "=\"" + escape(labels[i].second, true) + "\"";
    out_ += '}';
  }
  out_ += ' ' + number(value) + '\n';
}

void PrometheusWriter::counter(const std::string& name, const std::string& help, uint64_t value) {
  header(name, help, "counter");
  sample(name, {}, static_cast<double>(value));
}

void PrometheusWriter::gauge(const std::string& name, const std::string& help, double value) {
  header(name, help, "gauge");
  sample(name, {}, value);
}

}  // namespace tinyedge::dashboard
