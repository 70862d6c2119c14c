// `tinyedge train text` end to end on a real corpus (`data fortunes`: Debian's fortunes package,
// three categories, reduced): far above chance on the held-out fortunes, `model eval` agreeing;
// the node (tinyedge-node --text's loader) turns every line into the bytes the trainer evaluated,
// from the record in the .tem alone, and refuses a model whose record it cannot run; bad corpora
// (empty file, a line without a label, an empty class, bytes that are not UTF-8) refused by file
// and line with nothing written.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "deploy/train/runtime_eval.h"
#include "deploy/train/text_corpus.h"
#include "deploy/train/text_eval.h"
#include "node_firmware/ports/host/text_lines.h"
#include "node_firmware/text/text_record.h"
#include "tests/train/cli_run.h"

namespace {

namespace fs = std::filesystem;
namespace tr = tinyedge::train;

using tinyedge::train::testing::cli;
using tinyedge::train::testing::percent_after;
using tinyedge::train::testing::Run;
using tinyedge::train::testing::run;

fs::path scratch(const std::string& what) { return tinyedge::train::testing::scratch("text", what); }

TEST(TrainText, FortunesByCategoryFarAboveChanceEvalAgreesAndTheNodeTokenizesAsTheTrainer) {
  const auto dir = scratch("train");
  const auto tsv = (dir / "fortunes.tsv").string(), tem = (dir / "m.tem").string();
  auto r = cli("data fortunes --categories computers,food,sports --max-per-class 140 -o " + tsv);
  ASSERT_EQ(r.status, 0) << r.output;
  // --hidden is kept; the budget picks the buckets: 2048 would need 4 KB of counts alone.
  r = cli("train text --data " + tsv +
          " --ram 4K --flash 24K --word-ngrams 1 2 --char-ngrams 3 4 --hidden 16 --epochs 40 -o " + tem);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("flash 24576 B: picked 1024 buckets, 16 hidden"), std::string::npos) << r.output;
  const double int8 = percent_after(r.output, "int8 (runtime) ");
  EXPECT_GE(int8, 55.0) << "3 categories (chance 33 %), held-out fortunes\n" << r.output;
  r = cli("model eval " + tem + " --data " + tsv);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NEAR(percent_after(r.output, "texts: "), int8, 0.01) << r.output;
  EXPECT_NE(r.output.find("confusion matrix"), std::string::npos) << r.output;

  // The record in the .tem says what the command line asked for...
  const auto blob = tr::read_file(tem);
  tr::TemRunner runner(blob);
  const auto config = tr::text_front_end_of(runner.model());
  EXPECT_EQ(config.buckets, 1024u);
  EXPECT_EQ(config.word_min, 1);
  EXPECT_EQ(config.word_max, 2);
  EXPECT_EQ(config.char_min, 3);
  EXPECT_EQ(config.char_max, 4);
  // ... and the node, from that record alone, gives every line the trainer's input bytes.
  const auto corpus = tr::read_text_corpus(tsv);
  const auto node = tinyedge::host::load_text_lines(tsv, std::vector<uint8_t>(blob.begin(), blob.end()));
  ASSERT_EQ(node->size(), corpus.texts.size() * config.buckets);
  std::size_t differing = 0;
  for (std::size_t i = 0; i < corpus.texts.size(); ++i) {
    const auto trainer = tr::text_input(config, runner.model().input_info(), corpus.texts[i], corpus.where[i]);
    differing += !std::equal(trainer.begin(), trainer.end(), node->begin() + i * config.buckets);
  }
  EXPECT_EQ(differing, 0u) << "texts the node and the trainer tokenized differently";

  // A model whose record this node cannot run (a character order of 9) is refused before any text.
  auto patched = std::vector<uint8_t>(blob.begin(), blob.end());
  const auto at = static_cast<std::size_t>(runner.model().front_end().data() - blob.data());
  patched[at + 11] = 9;
  try {
    (void)tinyedge::host::load_text_lines(tsv, patched);
    ADD_FAILURE() << "a record with character n-grams of order 9 was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("not one this node runs"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

Run train_on(const fs::path& data, const fs::path& dir) {
  return cli("train text --data " + data.string() + " --epochs 1 -o " + (dir / "m.tem").string());
}

TEST(TrainTextBadInput, EmptyFileMissingLabelEmptyClassAndNonUtf8AreRefusedByFileAndLine) {
  const auto dir = scratch("bad");
  const auto tsv = dir / "texts.tsv";
  const std::string good = "food\tpie and cake\nfood\tbread\nsports\tthe ball game\nsports\ta race\n";
  struct Case {
    std::string content, message;
  };
  const std::vector<Case> cases{
      {"", tsv.string() + ": no labelled texts"},
      {good + "a line with no tab\n", tsv.string() + ":5: no label (each line is label<TAB>text)"},
      {good + "\tno label before the tab\n", tsv.string() + ":5: no label"},
      {good + "food\t\n", tsv.string() + ":5: label 'food' with no text"},
      {good + "law\tone lonely text\n", tsv.string() + ":5: class 'law' has one text"},
      {"food\tcaf\xE9 au lait\n" + good, tsv.string() + ":1: byte 9 (0xE9) is not UTF-8"}};
  // Each corpus through the reader the command uses (in process: a CLI run loads the trainer, a
  // second per case), then one through the command: exit 1, the message, nothing written.
  for (const auto& c : cases) {
    std::ofstream(tsv, std::ios::binary | std::ios::trunc) << c.content;
    try {
      tr::read_text_corpus(tsv.string());
      ADD_FAILURE() << "accepted: " << c.message;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << "expected: " << c.message << "\n"
                                                                          << e.what();
    }
  }
  const auto r = train_on(tsv, dir);  // the last case: a byte that is not UTF-8
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find(cases.back().message), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir / "m.tem"));
  // DIR/<label>/*.txt: a class folder with no texts.
  const auto folders = dir / "folders";
  fs::create_directories(folders / "food");
  fs::create_directories(folders / "sports");
  std::ofstream(folders / "food" / "1.txt") << "pie";
  std::ofstream(folders / "food" / "2.txt") << "cake";
  try {
    tr::read_text_corpus(folders.string());
    ADD_FAILURE() << "accepted a folder with an empty class";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find((folders / "sports").string() + ": an empty class (no .txt files)"),
              std::string::npos)
        << e.what();
  }
  fs::remove_all(dir);
}

}  // namespace
