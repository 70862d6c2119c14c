#include <gtest/gtest.h>

#include "deploy/train/metrics.h"
#include "deploy/train/svg_plot.h"

namespace tinyedge::train {
namespace {

TEST(RocAuc, PerfectInvertedAndTied) {
  const std::vector<std::uint8_t> labels{0, 0, 1, 1};
  EXPECT_DOUBLE_EQ(roc_auc(std::vector<double>{0.1, 0.2, 0.8, 0.9}, labels), 1.0);
  EXPECT_DOUBLE_EQ(roc_auc(std::vector<double>{0.9, 0.8, 0.2, 0.1}, labels), 0.0);
  EXPECT_DOUBLE_EQ(roc_auc(std::vector<double>{0.5, 0.5, 0.5, 0.5}, labels), 0.5);
  // One of four positive/negative pairs misordered.
  EXPECT_DOUBLE_EQ(roc_auc(std::vector<double>{0.1, 0.6, 0.5, 0.9}, labels), 0.75);
  EXPECT_THROW(roc_auc(std::vector<double>{0.1, 0.2}, std::vector<std::uint8_t>{0, 0}), std::runtime_error);
}

TEST(RocCurve, RunsFromOriginToOneOne) {
  const std::vector<std::uint8_t> labels{0, 1, 0, 1};
  const auto c = roc_curve(std::vector<double>{0.1, 0.4, 0.35, 0.8}, labels);
  EXPECT_DOUBLE_EQ(c.front().false_positive_rate, 0.0);
  EXPECT_DOUBLE_EQ(c.back().true_positive_rate, 1.0);
  EXPECT_DOUBLE_EQ(c.back().false_positive_rate, 1.0);
  for (std::size_t i = 1; i < c.size(); ++i) EXPECT_GE(c[i].false_positive_rate, c[i - 1].false_positive_rate);
}

TEST(Confusion, AccuracyAndSvg) {
  ConfusionMatrix cm(3);
  cm.add(0, 0);
  cm.add(1, 1);
  cm.add(2, 1);
  cm.add(2, 2);
  EXPECT_EQ(cm.total(), 4);
  EXPECT_DOUBLE_EQ(cm.accuracy(), 0.75);
  const auto svg = confusion_matrix_svg(cm, {"a<b", "b", "c"}, "t&t");
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_NE(svg.find("a&lt;b"), std::string::npos);  // labels are escaped
  EXPECT_NE(svg.find("t&amp;t"), std::string::npos);
  EXPECT_NE(svg.find("75.00%"), std::string::npos);
  const auto roc = roc_curve_svg({{0, 0, 1}, {0.5, 1, 0.5}, {1, 1, 0}}, 0.875, "roc");
  EXPECT_NE(roc.find("AUC 0.8750"), std::string::npos);
  EXPECT_NE(roc.find("<polyline"), std::string::npos);
}

}  // namespace
}  // namespace tinyedge::train
