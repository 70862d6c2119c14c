// Plots as plain SVG text: no plotting library, opens in any browser.
#pragma once
#include <string>
#include <vector>

#include "deploy/train/metrics.h"

namespace tinyedge::train {

std::string confusion_matrix_svg(const ConfusionMatrix& cm, const std::vector<std::string>& labels,
                                 const std::string& title);
std::string roc_curve_svg(const std::vector<RocPoint>& curve, double auc, const std::string& title);

}  // namespace tinyedge::train
