// Labelled texts for `tinyedge train text --data`: a TSV file (one text per line, "label<TAB>text")
// or a folder of folders (DIR/<label>/*.txt, one text per file). Every problem is an error naming
// the file and line: an empty file, a line without a label, a label with no text, bytes that are
// not UTF-8, an empty class, a class too small to hold one text out.
#pragma once
#include <string>
#include <vector>

namespace tinyedge::train {

struct TextCorpus {
  std::vector<std::string> labels;  // sorted
  std::vector<std::string> texts;
  std::vector<int> label;          // per text, into labels
  std::vector<bool> test;          // per text: held out (every fifth text of each class, in file order)
  std::vector<std::string> where;  // per text: "file:line" or the file, for messages
  std::size_t count(bool test_split) const;
};

// Throws std::runtime_error naming the file (and line) of the first problem.
TextCorpus read_text_corpus(const std::string& path);

// One text of a TSV line or a node's input line: the part after the first tab if there is one.
// (The node ignores a label its input may carry.)
std::string_view text_of_line(std::string_view line);

}  // namespace tinyedge::train
