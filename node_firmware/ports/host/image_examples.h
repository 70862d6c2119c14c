// The host camera node's enrollment frames: DIR/<label>/*.png (or .jpg), read in path order when
// an EnrollCommand asks for that label, example i being the i-th frame. What a board takes from
// its camera after a button press, the host takes from the frames the user saved. A frame must be
// the camera's frame for the model: its width and height are the model's input image's (gray or
// RGB is converted); a frame of another size, a file that does not decode, a missing folder or one
// with fewer frames than asked for is refused, the reason naming the file or folder.
#pragma once
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

#include "node_firmware/app/enroll_service.h"
#include "node_firmware/app/runtime_engine.h"
#include "node_firmware/ports/host/enrollment_files.h"

namespace tinyedge::host {

class ImageExamples final : public app::ExampleSource, public EnrollmentFiles {
 public:
  // Frames are quantised for `engine`'s current model (the one enrolled into).
  ImageExamples(std::filesystem::path dir, const app::RuntimeEngine& engine)
      : EnrollmentFiles(std::move(dir)), engine_(engine) {}

  // kBadExamples: no folder, a frame that does not decode or is not the model's size, a model
  // whose input is not an image; kTooFewExamples: the folder has no frame `index`.
  [[nodiscard]] enroll::EnrollStatus capture(std::string_view label, uint32_t index, std::span<int8_t> out) override;

 private:
  const app::RuntimeEngine& engine_;
  std::filesystem::path folder_;
  std::vector<std::filesystem::path> frames_;
};

}  // namespace tinyedge::host
