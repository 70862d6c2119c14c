// The learning-rate schedule both torch translation units train with (torch_trainer.cpp and
// image_folder_trainer.cpp): AdamW with a cosine decay from the peak rate to zero over the run.
// Include only from a file that already includes torch.
#pragma once
#include <torch/torch.h>

#include <cmath>
#include <cstdint>

namespace tinyedge::train {

inline void set_lr(torch::optim::AdamW& opt, double lr) {
  for (auto& group : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
}

inline double cosine_lr(double base, std::int64_t step, std::int64_t total) {
  return base * 0.5 * (1.0 + std::cos(M_PI * static_cast<double>(step) / static_cast<double>(total)));
}

}  // namespace tinyedge::train
