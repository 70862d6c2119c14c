#include "deploy/train/speech_folder.h"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>

namespace tinyedge::train {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSilence = "_silence_";
constexpr const char* kUnknown = "_unknown_";

bool is_wav(const fs::directory_entry& e) {
  if (!e.is_regular_file()) return false;
  auto ext = e.path().extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".wav";
}

// Label folder name -> its .wav files (sorted, so the order never depends on the file system).
std::map<std::string, std::vector<fs::path>> label_folders(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw std::runtime_error(dir.string() + ": not a folder");
  std::map<std::string, std::vector<fs::path>> folders;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_directory() || e.path().filename() == "_background_noise_") continue;
    std::vector<fs::path> files;
    for (const auto& f : fs::directory_iterator(e.path()))
      if (is_wav(f)) files.push_back(f.path());
    const auto name = e.path().filename().string();
    if (files.empty()) throw std::runtime_error(e.path().string() + ": label folder '" + name + "' has no .wav files");
    std::sort(files.begin(), files.end());
    folders.emplace(name, std::move(files));
  }
  if (folders.empty())
    throw std::runtime_error(dir.string() + ": no label folders (expected DIR/<label>/*.wav, Speech Commands layout)");
  return folders;
}

// "<label>/<file>.wav" lines of DIR/testing_list.txt, if the folder has one.
bool read_test_list(const fs::path& dir, std::set<std::string>& out) {
  std::ifstream in(dir / "testing_list.txt");
  if (!in) return false;
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) out.insert(line);
  }
  return true;
}

SpeechFolder assemble(const fs::path& dir, const std::map<std::string, std::vector<fs::path>>& folders,
                      std::vector<std::string> labels, const std::function<int(const std::string&)>& class_of,
                      int test_percent) {
  if (test_percent < 0 || test_percent > 100) throw std::runtime_error("test percentage must be within 0..100");
  SpeechFolder out;
  out.labels = std::move(labels);
  std::set<std::string> listed;
  const bool has_list = read_test_list(dir, listed);
  out.split = has_list ? "the files in " + (dir / "testing_list.txt").string() + " are the test split"
                       : "no testing_list.txt: speakers (file name before \"_nohash_\") with FNV-1a hash % 100 < " +
                             std::to_string(test_percent) + " are the test split";
  for (const auto& [name, files] : folders) {
    const int label = class_of(name);
    for (const auto& f : files) {
      const auto file = f.filename().string();
      out.clips.push_back(
          {f, label, has_list ? listed.count(name + "/" + file) > 0 : hash_split_is_test(file, test_percent)});
    }
  }
  return out;
}

}  // namespace

std::size_t SpeechFolder::count(bool test) const {
  return static_cast<std::size_t>(
      std::count_if(clips.begin(), clips.end(), [&](const SpeechClipRef& c) { return c.test == test; }));
}

bool hash_split_is_test(const std::string& file_name, int test_percent) {
  const auto cut = file_name.find("_nohash_");
  const std::string speaker = cut == std::string::npos ? file_name : file_name.substr(0, cut);
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : speaker) h = (h ^ c) * 1099511628211ull;
  return static_cast<int>(h % 100) < test_percent;
}

SpeechFolder scan_speech_folder(const fs::path& dir, const SpeechFolderOptions& o) {
  const auto folders = label_folders(dir);
  std::vector<std::string> labels;
  if (o.words.empty()) {
    for (const auto& [name, files] : folders) labels.push_back(name);
  } else {
    for (const auto& w : o.words) {
      if (!folders.count(w)) throw std::runtime_error(dir.string() + ": no folder for the word '" + w + "'");
      if (std::count(o.words.begin(), o.words.end(), w) > 1)
        throw std::runtime_error("--words: '" + w + "' is listed twice");
      labels.push_back(w);
    }
    if (folders.count(kSilence) && std::find(labels.begin(), labels.end(), kSilence) == labels.end())
      labels.push_back(kSilence);
    const bool others = std::any_of(folders.begin(), folders.end(), [&](const auto& f) {
      return std::find(labels.begin(), labels.end(), f.first) == labels.end();
    });
    if (others && std::find(labels.begin(), labels.end(), kUnknown) == labels.end()) labels.push_back(kUnknown);
  }
  if (labels.size() < 2) throw std::runtime_error(dir.string() + ": a classifier needs at least two label folders");
  const auto class_of = [&](const std::string& name) {
    const auto it = std::find(labels.begin(), labels.end(), name);
    return static_cast<int>((it != labels.end() ? it : std::find(labels.begin(), labels.end(), kUnknown)) -
                            labels.begin());
  };
  return assemble(dir, folders, labels, class_of, o.test_percent);
}

SpeechFolder scan_speech_folder_for_labels(const fs::path& dir, const std::vector<std::string>& labels,
                                           int test_percent) {
  const auto folders = label_folders(dir);
  const auto unknown = std::find(labels.begin(), labels.end(), kUnknown);
  for (const auto& [name, files] : folders)
    if (std::find(labels.begin(), labels.end(), name) == labels.end() && unknown == labels.end())
      throw std::runtime_error((dir / name).string() + ": the model has no class '" + name + "' and no " + kUnknown);
  const auto class_of = [&](const std::string& name) {
    const auto it = std::find(labels.begin(), labels.end(), name);
    return static_cast<int>((it != labels.end() ? it : unknown) - labels.begin());
  };
  return assemble(dir, folders, labels, class_of, test_percent);
}

}  // namespace tinyedge::train
