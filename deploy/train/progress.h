// A one-line progress bar per epoch on stderr: "epoch 3/10 [#######.....] 120/469 loss 0.3120 acc 88.41%".
// On a terminal it redraws in place; otherwise only the finished epoch line is printed.
#pragma once
#include <chrono>
#include <cstdio>

namespace tinyedge::train {

class ProgressBar {
 public:
  explicit ProgressBar(int epochs, std::FILE* out = stderr);
  void update(int epoch, int batch, int batches, double loss, double accuracy);

 private:
  void draw(int epoch, int batch, int batches, double loss, double accuracy, bool final);
  int epochs_;
  std::FILE* out_;
  bool tty_;
  std::chrono::steady_clock::time_point epoch_start_, last_draw_;
};

}  // namespace tinyedge::train
