#include "deploy/train/text_corpus.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "node_firmware/text/text_front_end.h"

namespace tinyedge::train {
namespace {

namespace fs = std::filesystem;

std::string trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

void require_utf8(const std::string& text, const std::string& where) {
  std::size_t bad = 0;
  if (text::check_utf8({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, &bad) !=
      text::TextStatus::kOk) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned>(static_cast<unsigned char>(text[bad])));
    throw std::runtime_error(where + ": byte " + std::to_string(bad + 1) + " (" + hex +
                             ") is not UTF-8 (convert the file, e.g. iconv -f latin1 -t utf-8)");
  }
}

struct Raw {
  std::string label, text, where;
};

std::vector<Raw> read_tsv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::vector<Raw> raw;
  std::string line;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    const std::string where = path + ":" + std::to_string(n);
    require_utf8(line, where);
    if (trim(line).empty()) continue;  // blank lines separate nothing
    const auto tab = line.find('\t');
    if (tab == std::string::npos || trim(std::string_view(line).substr(0, tab)).empty())
      throw std::runtime_error(where + ": no label (each line is label<TAB>text)");
    Raw r{trim(std::string_view(line).substr(0, tab)), trim(std::string_view(line).substr(tab + 1)), where};
    if (r.text.empty()) throw std::runtime_error(where + ": label '" + r.label + "' with no text");
    raw.push_back(std::move(r));
  }
  if (raw.empty()) throw std::runtime_error(path + ": no labelled texts (each line is label<TAB>text)");
  return raw;
}

std::vector<Raw> read_folders(const std::string& dir) {
  std::vector<fs::path> classes;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory()) classes.push_back(e.path());
  std::sort(classes.begin(), classes.end());
  if (classes.empty()) throw std::runtime_error(dir + ": no class folders (DIR/<label>/*.txt)");
  std::vector<Raw> raw;
  for (const auto& c : classes) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(c))
      if (e.is_regular_file() && e.path().extension() == ".txt") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    if (files.empty()) throw std::runtime_error(c.string() + ": an empty class (no .txt files)");
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      std::string text = ss.str();
      require_utf8(text, f.string());
      std::replace_if(
          text.begin(), text.end(), [](char ch) { return ch == '\n' || ch == '\r' || ch == '\t'; }, ' ');
      text = trim(text);
      if (text.empty()) throw std::runtime_error(f.string() + ": an empty text");
      raw.push_back({c.filename().string(), std::move(text), f.string()});
    }
  }
  return raw;
}

}  // namespace

std::size_t TextCorpus::count(bool test_split) const {
  return static_cast<std::size_t>(std::count(test.begin(), test.end(), test_split));
}

std::string_view text_of_line(std::string_view line) {
  const auto tab = line.find('\t');
  if (tab != std::string_view::npos) line.remove_prefix(tab + 1);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  return line;
}

TextCorpus read_text_corpus(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw std::runtime_error(path + ": no such file or folder");
  const auto raw = fs::is_directory(path, ec) ? read_folders(path) : read_tsv(path);
  std::map<std::string, std::vector<std::size_t>> by_label;
  for (std::size_t i = 0; i < raw.size(); ++i) by_label[raw[i].label].push_back(i);
  if (by_label.size() < 2)
    throw std::runtime_error(path + ": one class ('" + by_label.begin()->first + "'); a classifier needs two or more");
  TextCorpus c;
  c.label.resize(raw.size());
  c.test.resize(raw.size());
  for (const auto& [name, members] : by_label) {
    if (members.size() < 2)
      throw std::runtime_error(raw[members.front()].where + ": class '" + name +
                               "' has one text; each class needs two or more (one is held out)");
    const int id = static_cast<int>(c.labels.size());
    c.labels.push_back(name);
    for (std::size_t k = 0; k < members.size(); ++k) {
      c.label[members[k]] = id;
      c.test[members[k]] = k % 5 == 4 || (members.size() < 5 && k + 1 == members.size());
    }
  }
  for (const auto& r : raw) {
    c.texts.push_back(r.text);
    c.where.push_back(r.where);
  }
  return c;
}

}  // namespace tinyedge::train
