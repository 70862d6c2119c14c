#include "deploy/train/svg_plot.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace tinyedge::train {
namespace {

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string fmt(double v, const char* spec = "%.1f") {
  char buf[32];
  std::snprintf(buf, sizeof buf, spec, v);
  return buf;
}

}  // namespace

std::string confusion_matrix_svg(const ConfusionMatrix& cm, const std::vector<std::string>& labels,
                                 const std::string& title) {
  const int n = cm.classes, cell = 48, left = 110, top = 60;
  const int width = left + n * cell + 20, height = top + n * cell + 90;
  auto name = [&](int i) { return i < static_cast<int>(labels.size()) ? labels[static_cast<std::size_t>(i)] : std::to_string(i); };
  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
    << "\" font-family=\"sans-serif\" font-size=\"11\">\n"
    << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    << "<text x=\"" << width / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">" << escape(title) << " (accuracy "
    << fmt(100.0 * cm.accuracy(), "%.2f") << "%)</text>\n"
    << "<text x=\"" << left + n * cell / 2 << "\" y=\"" << height - 8 << "\" text-anchor=\"middle\">predicted</text>\n"
    << "<text x=\"14\" y=\"" << top + n * cell / 2 << "\" transform=\"rotate(-90 14 " << top + n * cell / 2
    << ")\" text-anchor=\"middle\">true class</text>\n";
  for (int t = 0; t < n; ++t) {
    std::int64_t row = 0;
    for (int p = 0; p < n; ++p) row += cm.at(t, p);
    s << "<text x=\"" << left - 6 << "\" y=\"" << top + t * cell + cell / 2 + 4 << "\" text-anchor=\"end\">"
      << escape(name(t)) << "</text>\n";
    for (int p = 0; p < n; ++p) {
      const double frac = row ? static_cast<double>(cm.at(t, p)) / static_cast<double>(row) : 0.0;
      const int shade = 255 - static_cast<int>(frac * 200);
      const int x = left + p * cell, y = top + t * cell;
      s << "<rect x=\"" << x << "\" y=\"" << y << "\" width=\"" << cell << "\" height=\"" << cell << "\" fill=\"rgb("
        << shade << ',' << shade << ",255)\" stroke=\"#ccc\"/>"
        << "<text x=\"" << x + cell / 2 << "\" y=\"" << y + cell / 2 + 4 << "\" text-anchor=\"middle\" fill=\""
        << (frac > 0.6 ? "white" : "black") << "\">" << cm.at(t, p) << "</text>\n";
    }
  }
  for (int p = 0; p < n; ++p) {
    const int x = left + p * cell + cell / 2, y = top + n * cell + 12;
    s << "<text x=\"" << x << "\" y=\"" << y << "\" transform=\"rotate(40 " << x << ' ' << y << ")\">"
      << escape(name(p)) << "</text>\n";
  }
  s << "</svg>\n";
  return s.str();
}

std::string roc_curve_svg(const std::vector<RocPoint>& curve, double auc, const std::string& title) {
  const int left = 60, top = 40, size = 360;
  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << left + size + 30 << "\" height=\"" << top + size + 60
    << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
    << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    << "<text x=\"" << left + size / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">" << escape(title)
    << " (AUC " << fmt(auc, "%.4f") << ")</text>\n"
    << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << size << "\" height=\"" << size
    << "\" fill=\"none\" stroke=\"black\"/>\n"
    << "<line x1=\"" << left << "\" y1=\"" << top + size << "\" x2=\"" << left + size << "\" y2=\"" << top
    << "\" stroke=\"#aaa\" stroke-dasharray=\"4 4\"/>\n";
  for (int i = 0; i <= 4; ++i) {
    const double v = i / 4.0;
    s << "<text x=\"" << left + v * size << "\" y=\"" << top + size + 16 << "\" text-anchor=\"middle\">" << fmt(v, "%.2f")
      << "</text><text x=\"" << left - 6 << "\" y=\"" << top + size - v * size + 4 << "\" text-anchor=\"end\">"
      << fmt(v, "%.2f") << "</text>\n";
  }
  s << "<text x=\"" << left + size / 2 << "\" y=\"" << top + size + 36
    << "\" text-anchor=\"middle\">false positive rate</text>\n"
    << "<text x=\"16\" y=\"" << top + size / 2 << "\" transform=\"rotate(-90 16 " << top + size / 2
    << ")\" text-anchor=\"middle\">true positive rate</text>\n<polyline fill=\"none\" stroke=\"#c03\" stroke-width=\"2\" points=\"";
  for (const auto& p : curve)
    s << fmt(left + p.false_positive_rate * size, "%.2f") << ',' << fmt(top + size - p.true_positive_rate * size, "%.2f")
      << ' ';
  s << "\"/>\n</svg>\n";
  return s.str();
}

}  // namespace tinyedge::train
