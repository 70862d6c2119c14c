#include "deploy/train/progress.h"

#include <unistd.h>

namespace tinyedge::train {

ProgressBar::ProgressBar(int epochs, std::FILE* out)
    : epochs_(epochs), out_(out), tty_(isatty(fileno(out)) != 0), epoch_start_(std::chrono::steady_clock::now()) {}

void ProgressBar::update(int epoch, int batch, int batches, double loss, double accuracy) {
  const auto now = std::chrono::steady_clock::now();
  if (batch == 1) epoch_start_ = now;
  const bool final = batch == batches;
  if (final || (tty_ && now - last_draw_ > std::chrono::milliseconds(100))) {
    draw(epoch, batch, batches, loss, accuracy, final);
    last_draw_ = now;
  }
}

void ProgressBar::draw(int epoch, int batch, int batches, double loss, double accuracy, bool final) {
  constexpr int kWidth = 30;
  const int filled = batches ? batch * kWidth / batches : kWidth;
  char bar[kWidth + 1];
  for (int i = 0; i < kWidth; ++i) bar[i] = i < filled ? '#' : '.';
  bar[kWidth] = '\0';
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start_).count();
  std::fprintf(out_, "%sepoch %d/%d [%s] %d/%d loss %.4f", tty_ ? "\r" : "", epoch, epochs_, bar, batch, batches, loss);
  if (accuracy >= 0) std::fprintf(out_, " acc %.2f%%", 100.0 * accuracy);
  std::fprintf(out_, " %.1fs", secs);
  if (final) std::fputc('\n', out_);
  std::fflush(out_);
}

}  // namespace tinyedge::train
