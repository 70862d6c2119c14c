// `tinyedge data fortunes`: a real labelled text corpus from Debian's `fortunes` package (quotes
// and jokes filed by topic, one file per category), as the TSV `train text --data` reads: one
// fortune per line, "category<TAB>text". Torch-free, so it lives in tinyedge.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "deploy/command_registry.h"

namespace tinyedge::deploy {
namespace {

// One fortune as one line: old terminals' overstrike ("_\bx" underlines x) dropped, every run of
// whitespace and control characters one space.
std::string flatten(const std::string& entry) {
  std::string out;
  bool space = false;
  for (char ch : entry) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\b') {
      if (!out.empty() && !space) out.pop_back();
      continue;
    }
    if (c < 0x20 || c == 0x7f || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += ch;
  }
  return out;
}

std::vector<std::string> read_fortunes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw CommandError(file.string() +
                       ": cannot open (is the Debian package `fortunes` installed, and is "
                       "the category spelled as its file in " +
                       file.parent_path().string() + "?)");
  std::vector<std::string> entries;
  std::string line, entry;
  const auto flush = [&] {
    if (auto t = flatten(entry); !t.empty()) entries.push_back(std::move(t));
    entry.clear();
  };
  while (std::getline(in, line)) {
    if (line == "%") {
      flush();
    } else {
      entry += line;
      entry += '\n';
    }
  }
  flush();
  return entries;
}

void install_data(CLI::App& app) {
  auto* data = app.get_subcommand("data");
  static std::string out, dir = "/usr/share/games/fortunes";
  static std::vector<std::string> categories{"computers", "food", "law", "love", "politics", "science", "sports"};
  static std::size_t max_per_class = 0;
  auto* cmd = data->add_subcommand(
      "fortunes",
      "A labelled text corpus from Debian's `fortunes` package: one fortune per line, category<TAB>text (the TSV "
      "that `train text --data` reads)");
  cmd->add_option("-o,--output", out, "TSV to write")->required();
  cmd->add_option("--dir", dir, "fortune files")->capture_default_str();
  cmd->add_option("--categories", categories, "categories (fortune file names) to take, as labels")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--max-per-class", max_per_class,
                  "at most this many fortunes per category, spread over the file "
                  "(0: all)");
  cmd->callback([] {
    std::ostringstream tsv;
    std::string summary;
    std::size_t total = 0;
    for (const auto& c : categories) {
      if (c.empty() || c.find_first_of("/\t") != std::string::npos) throw CommandError("bad category '" + c + "'");
      const auto entries = read_fortunes(std::filesystem::path(dir) / c);
      if (entries.empty()) throw CommandError(dir + "/" + c + ": no fortunes");
      const std::size_t n = max_per_class > 0 ? std::min(max_per_class, entries.size()) : entries.size();
      for (std::size_t k = 0; k < n; ++k) tsv << c << '\t' << entries[k * entries.size() / n] << '\n';
      summary += (summary.empty() ? "" : ", ") + c + " " + std::to_string(n);
      total += n;
    }
    std::ofstream f(out, std::ios::binary);
    if (!(f << tsv.str()) || !f.flush()) throw CommandError(out + ": cannot write");
    std::printf("wrote %s: %zu fortunes (%s)\n", out.c_str(), total, summary.c_str());
  });
}

const CommandRegistration kData{"54-train-data-fortunes", &install_data};

}  // namespace
}  // namespace tinyedge::deploy
