#include "deploy/train/image_folder.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>

#include "deploy/train/parallel.h"
#include "deploy/train/speech_folder.h"
#include "node_firmware/camera/image_file.h"

namespace tinyedge::train {
namespace {

namespace fs = std::filesystem;

// Label folder name -> its image files, sorted (the order never depends on the file system).
std::map<std::string, std::vector<fs::path>> label_folders(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw std::runtime_error(dir.string() + ": not a folder");
  std::map<std::string, std::vector<fs::path>> folders;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_directory()) continue;
    std::vector<fs::path> files;
    for (const auto& f : fs::directory_iterator(e.path()))
      if (f.is_regular_file() && camera::is_image_file_name(f.path())) files.push_back(f.path());
    const auto name = e.path().filename().string();
    if (files.empty())
      throw std::runtime_error(e.path().string() + ": label folder '" + name + "' has no .png or .jpg images");
    std::sort(files.begin(), files.end());
    folders.emplace(name, std::move(files));
  }
  if (folders.empty())
    throw std::runtime_error(dir.string() + ": no label folders (expected DIR/<label>/*.png or *.jpg)");
  return folders;
}

ImageFolderSet read(const fs::path& dir, camera::ImageShape shape, const std::vector<std::string>& labels,
                    const std::map<std::string, std::vector<fs::path>>& folders, int test_percent, int threads) {
  if (const auto s = camera::validate(shape); s != camera::ImageStatus::kOk)
    throw std::runtime_error(std::string("model input image: ") + camera::to_string(s));
  if (test_percent < 0 || test_percent > 100) throw std::runtime_error("test percentage must be within 0..100");
  ImageFolderSet out;
  out.labels = labels;
  out.shape = shape;
  std::set<std::string> listed;
  bool has_list = false;
  if (std::ifstream in(dir / "testing_list.txt"); in) {
    has_list = true;
    for (std::string line; std::getline(in, line);) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      if (!line.empty()) listed.insert(line);
    }
  }
  out.split = has_list ? "the files in " + (dir / "testing_list.txt").string() + " are the test split"
                       : "no testing_list.txt: files (name before \"_nohash_\") with FNV-1a hash % 100 < " +
                             std::to_string(test_percent) + " are the test split";
  for (const auto& [name, files] : folders) {
    const auto label = static_cast<int>(std::find(labels.begin(), labels.end(), name) - labels.begin());
    for (const auto& f : files) {
      const auto file = f.filename().string();
      out.files.push_back(f);
      out.label.push_back(label);
      out.test.push_back(has_list ? listed.count(name + "/" + file) > 0 : hash_split_is_test(file, test_percent));
    }
  }
  // Decode everything; every bad file is named (up to ten), then nothing is used.
  out.pixels.resize(out.files.size() * shape.bytes());
  std::mutex mutex;
  std::map<std::size_t, std::string> errors;
  parallel_chunks(out.files.size(), threads, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t i = lo; i < hi; ++i) {
      try {
        const auto px = camera::read_image_as(out.files[i], shape);
        std::copy(px.begin(), px.end(), out.pixels.begin() + static_cast<std::ptrdiff_t>(i * shape.bytes()));
      } catch (const std::exception& e) {
        std::lock_guard lock(mutex);
        errors.emplace(i, e.what());
      }
    }
  });
  if (!errors.empty()) {
    std::string message = std::to_string(errors.size()) + " unreadable image" + (errors.size() > 1 ? "s" : "") + ":";
    int shown = 0;
    for (const auto& [i, e] : errors) {
      if (shown++ == 10) {
        message += "\n  ...";
        break;
      }
      message += "\n  " + e;
    }
    throw std::runtime_error(message);
  }
  return out;
}

}  // namespace

std::size_t ImageFolderSet::count(bool test_split) const {
  return static_cast<std::size_t>(std::count(test.begin(), test.end(), test_split));
}

bool is_image_folder(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return false;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_directory()) continue;
    for (const auto& f : fs::directory_iterator(e.path(), ec))
      if (f.is_regular_file() && camera::is_image_file_name(f.path())) return true;
  }
  return false;
}

ImageFolderSet read_image_folder(const fs::path& dir, camera::ImageShape shape, int test_percent, int threads) {
  const auto folders = label_folders(dir);
  std::vector<std::string> labels;
  for (const auto& [name, files] : folders) labels.push_back(name);
  if (labels.size() < 2) throw std::runtime_error(dir.string() + ": a classifier needs at least two label folders");
  return read(dir, shape, labels, folders, test_percent, threads);
}

ImageFolderSet read_image_folder_for_labels(const fs::path& dir, camera::ImageShape shape,
                                            const std::vector<std::string>& labels, int test_percent, int threads) {
  const auto folders = label_folders(dir);
  for (const auto& [name, files] : folders)
    if (std::find(labels.begin(), labels.end(), name) == labels.end())
      throw std::runtime_error((dir / name).string() + ": the model has no class '" + name + "'");
  return read(dir, shape, labels, folders, test_percent, threads);
}

}  // namespace tinyedge::train
