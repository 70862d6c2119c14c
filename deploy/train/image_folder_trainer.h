// Training the image-folder classifiers (image_arch.h) with libtorch. Torch-free header: only
// image_folder_trainer.cpp includes torch.
#pragma once
#include <span>

#include "deploy/train/float_net.h"
#include "deploy/train/image_arch.h"
#include "deploy/train/torch_trainer.h"

namespace tinyedge::train {

// Random changes to each training image, per step (never to test images).
struct ImageAugment {
  bool flip = true;         // mirror left-right half the time (off for text, digits, arrows...)
  int shift = -1;           // move by up to this many pixels each way, zero-filled (-1: an eighth of the side)
  float brightness = 0.2f;  // multiply by a factor in [1 - b, 1 + b], clamped to [0, 1] (images)
  bool clamp = true;        // false for sensor values (any range)
};

// `images`: count x input.h x input.w x input.c values in [0, 1], HWC (the runtime's layout);
// `labels` in [0, classes). Returns the network with batch norm folded, in the skeleton's geometry.
FloatNet train_image_folder_net(std::span<const float> images, Shape3 input, std::span<const int> labels, int classes,
                                const ImageNetSpec& spec, const ImageAugment& augment, const TrainOptions& options,
                                const ProgressFn& progress);

}  // namespace tinyedge::train
