// Core ML NeuralNetwork models (.mlmodel) -> the trainer's float network, quantised to int8 with
// calibration images by the trainer's own post-training quantiser and lowered like a trained model.
// Only a chain of the layers a small image/sensor classifier uses is read; anything else (another
// model kind, an unsupported layer or option, a malformed file) is refused with the layer's name
// and kind or the field that is wrong, before anything is written.
#pragma once
#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "deploy/model/graph.h"
#include "deploy/train/float_net.h"

namespace tinyedge::train {

class CoremlError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CoremlModel {
  // In the runtime's layout (HWC), its input being pixel/255 (the node's camera path): an image
  // input's scale and biases are folded into the first layer.
  FloatNet net;
  std::vector<std::string> labels;  // a classifier's class labels, in output order
  std::string input_name;
  bool image_input = false;       // an image feature (else a float multi-array)
  std::string input_description;  // e.g. "28x28x1 image 'image'"
};

// Throws CoremlError naming the layer (name and kind) or the field that is wrong.
CoremlModel read_coreml(std::span<const std::uint8_t> bytes);

// Calibration inputs for `model` (pixel/255, HWC): the train images of a Fashion-MNIST IDX folder
// ("fashion-mnist" = Debian's) or the images of an image folder DIR/<label>/*.png|*.jpg, converted to
// the model's input size. At most `limit` images. Throws CoremlError naming the path.
std::vector<std::vector<float>> read_calibration(const std::string& path, const CoremlModel& model,
                                                 std::size_t limit = 500);

// The accuracy drop the int8 .tem costs against the float Core ML network, on labelled images
// the calibration did not use: Fashion-MNIST's test split (first `limit`), or an image folder's
// test split (its folders named as the model's labels). images = 0 when `path` has no such labels.
struct ImportAccuracy {
  std::size_t images = 0;
  double float_percent = 0, int8_percent = 0;
};
ImportAccuracy compare_float_int8(const CoremlModel& model, std::span<const std::uint8_t> tem, const std::string& path,
                                  std::size_t limit = 1000);

// read_coreml + quantise with the calibration inputs: the int8 graph the compiler lowers.
model::Graph coreml_to_int8_graph(const CoremlModel& model, std::span<const std::vector<float>> calibration);

}  // namespace tinyedge::train
