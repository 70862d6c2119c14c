// `tinyedge train image --data DIR` on a folder of labelled images, end to end: Fashion-MNIST
// (Debian's dataset-fashion-mnist) written as PNG folders by `data image-folder`, a reduced
// depthwise-separable network picked for a small RAM/flash budget, int8 accuracy in the runtime far
// above chance on Fashion-MNIST's own test images, `model eval` on the folder agreeing, and bad
// input (not an image, a truncated JPEG, an empty class) refused by name with nothing written.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "deploy/train/image_folder.h"
#include "deploy/train/runtime_eval.h"
#include "node_firmware/camera/image_convert.h"
#include "node_firmware/camera/image_file.h"
#include "tests/train/cli_run.h"

namespace {

namespace fs = std::filesystem;
namespace cam = tinyedge::camera;

using tinyedge::train::testing::cli;
using tinyedge::train::testing::percent_after;
using tinyedge::train::testing::Run;
using tinyedge::train::testing::run;

fs::path scratch(const std::string& what) { return tinyedge::train::testing::scratch("image_folder", what); }

TEST(CameraConvert, BoxAveragesWhenShrinkingAndWeighsLumaLikeBt601) {
  // 4x2 RGB -> 2x1 gray: each output pixel is the mean luma of a 2x2 block.
  const std::vector<uint8_t> src = {255, 0, 0, 255, 0, 0, 0, 255, 0,   0, 255, 0,  //
                                    255, 0, 0, 255, 0, 0, 0, 0,   255, 0, 0,   255};
  std::vector<uint8_t> dst(2);
  ASSERT_EQ(cam::convert_image(src, {4, 2, 3}, dst, {2, 1, 1}), cam::ImageStatus::kOk);
  EXPECT_EQ(dst[0], 77);              // red: 0.299 * 255
  EXPECT_EQ(dst[1], (150 + 29) / 2);  // half green (0.587), half blue (0.114)
  // Gray -> RGB upscale repeats pixels into every channel.
  std::vector<uint8_t> big(2 * 2 * 3);
  ASSERT_EQ(cam::convert_image(std::vector<uint8_t>{10}, {1, 1, 1}, big, {2, 2, 3}), cam::ImageStatus::kOk);
  for (auto v : big) EXPECT_EQ(v, 10);
  EXPECT_EQ(cam::convert_image(src, {4, 2, 3}, dst, {2, 2, 1}), cam::ImageStatus::kWrongBufferSize);
  EXPECT_EQ(cam::convert_image(src, {4, 2, 2}, dst, {2, 1, 1}), cam::ImageStatus::kBadChannels);
  // PNG and JPEG files decode to what was written (JPEG within its loss).
  const auto dir = scratch("codec");
  cam::DecodedImage img{{8, 8, 3}, std::vector<uint8_t>(8 * 8 * 3)};
  for (std::size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = static_cast<uint8_t>(i % 3 == 0 ? 200 : 40);
  cam::write_png(dir / "a.png", img);
  cam::write_jpeg(dir / "a.jpg", img, 95);
  EXPECT_EQ(cam::read_image_file(dir / "a.png").pixels, img.pixels);
  const auto jpg = cam::read_image_file(dir / "a.jpg");
  ASSERT_EQ(jpg.shape.bytes(), img.shape.bytes());
  for (std::size_t i = 0; i < jpg.pixels.size(); ++i) EXPECT_NEAR(jpg.pixels[i], img.pixels[i], 12) << i;
  fs::remove_all(dir);
}

TEST(TrainImageFolder, ReducedDsCnnOnFashionMnistPngsBeatsChanceAndEvalAgrees) {
  const auto dir = scratch("train");
  // Three classes (chance 33 %); the test images are Fashion-MNIST's own test set.
  auto r = cli("data image-folder --classes Trouser,Sneaker,Bag --train-per-class 120 --test-per-class 40 -o " +
               (dir / "data").string());
  ASSERT_EQ(r.status, 0) << r.output;
  ASSERT_TRUE(fs::exists(dir / "data" / "testing_list.txt"));

  r = cli("train image --data " + (dir / "data").string() +
          " --size 16x16 --ram 8K --flash 16K --epochs 10 --batch-size 32 --lr 1e-2 --seed 1 --threads 1 -o " +
          (dir / "m.tem").string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("architecture picked for --ram 8192 --flash 16384 bytes: ds-cnn width"), std::string::npos)
      << r.output;
  const double int8 = percent_after(r.output, "int8 (runtime) ");
  EXPECT_GE(int8, 80.0) << "3 classes (chance 33 %), Fashion-MNIST test images\n" << r.output;

  // The model fits the budget it was picked for, carries the labels, and takes a 16x16x1 image.
  const auto blob = tinyedge::train::read_file(dir / "m.tem");
  EXPECT_LE(blob.size(), 16384u);
  tinyedge::train::TemRunner runner(blob);
  EXPECT_LE(runner.model().arena_bytes(), 8192u);
  ASSERT_EQ(runner.model().label_count(), 3u);
  EXPECT_EQ(std::string(runner.model().label(0)), "Bag");
  const auto in = runner.model().input_info();
  EXPECT_EQ(in.rank, 4);
  EXPECT_EQ(in.dims[1], 16);
  EXPECT_EQ(in.dims[2], 16);
  EXPECT_EQ(in.dims[3], 1);

  // model eval on the folder: the same figure, with a confusion matrix.
  r = cli("model eval " + (dir / "m.tem").string() + " --data " + (dir / "data").string() + " --plot " +
          (dir / "cm.svg").string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NEAR(percent_after(r.output, "images: "), int8, 0.01) << r.output;
  EXPECT_NE(r.output.find("confusion matrix"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(dir / "cm.svg"));
  fs::remove_all(dir);
}

// A good two-class folder plus bad files: every bad file is named, and (through the CLI, once)
// nothing is written. Each file kind is checked in process (cheap); the CLI run checks the whole path.
TEST(TrainImageFolderBadInput, UnreadableImagesAndEmptyClassesAreRefusedByNameAndNothingIsWritten) {
  const auto dir = scratch("bad");
  const auto data = dir / "data";
  cam::DecodedImage gray{{12, 12, 1}, std::vector<uint8_t>(144, 90)};
  for (const char* label : {"cat", "dog"}) {
    fs::create_directories(data / label);
    for (int i = 0; i < 4; ++i) cam::write_png(data / label / (std::to_string(i) + ".png"), gray);
  }
  cam::DecodedImage rgb{{32, 32, 3}, std::vector<uint8_t>(32 * 32 * 3)};
  for (std::size_t i = 0; i < rgb.pixels.size(); ++i) rgb.pixels[i] = static_cast<uint8_t>(i * 7);
  cam::write_jpeg(dir / "x.jpg", rgb);
  cam::write_png(dir / "x.png", rgb);
  auto jpeg = tinyedge::train::read_file(dir / "x.jpg");
  jpeg.resize(jpeg.size() / 2);  // libjpeg would fill the rest with gray: refused instead
  auto png = tinyedge::train::read_file(dir / "x.png");
  png.resize(png.size() - 20);
  const std::vector<std::pair<std::string, std::vector<uint8_t>>> bad = {
      {"notes.png", {'h', 'e', 'l', 'l', 'o'}}, {"empty.jpg", {}}, {"cut.jpg", jpeg}, {"cut.png", png}};
  const std::vector<std::string> problem = {"not a PNG or JPEG image", "empty file, not an image",
                                            "corrupt JPEG: Premature end of JPEG file", "corrupt PNG"};
  for (const auto& [name, bytes] : bad)
    std::ofstream(data / "dog" / name, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  try {
    (void)tinyedge::train::read_image_folder(data, {16, 16, 1}, 20, 1);
    ADD_FAILURE() << "a folder with bad images was read";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("4 unreadable images"), std::string::npos) << what;
    for (std::size_t i = 0; i < bad.size(); ++i)
      EXPECT_NE(what.find((data / "dog" / bad[i].first).string() + ": " + problem[i]), std::string::npos) << what;
  }
  auto r = cli("train image --data " + data.string() + " --epochs 1 -o " + (dir / "m.tem").string());
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find((data / "dog" / "cut.jpg").string() + ": corrupt JPEG"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir / "m.tem")) << "a model was written despite the bad files";

  // An empty label folder.
  fs::remove_all(data / "dog");
  fs::create_directories(data / "dog");
  try {
    (void)tinyedge::train::read_image_folder(data, {16, 16, 1}, 20, 1);
    ADD_FAILURE() << "an empty class was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find((data / "dog").string() + ": label folder 'dog' has no .png or .jpg images"),
              std::string::npos)
        << e.what();
  }
  fs::remove_all(dir);
}

}  // namespace
