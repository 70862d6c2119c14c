// A folder of labelled 1 s recordings in the Speech Commands layout (DIR/<label>/*.wav) and its
// train/test split. The split is the one the folder records: DIR/testing_list.txt (written by
// `tinyedge data speech`, whose test voices are never heard in training; Speech Commands ships one
// too) lists the test files, one "<label>/<file>.wav" a line. A folder without a list is split by
// speaker: Speech Commands names files "<speaker>_nohash_<n>.wav", so the speaker is the part
// before "_nohash_" (else the whole file name), and a speaker is held out when the FNV-1a hash of
// that name, mod 100, is below the test percentage. The same files give the same split anywhere.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace tinyedge::train {

struct SpeechClipRef {
  std::filesystem::path path;
  int label = 0;  // index into SpeechFolder::labels
  bool test = false;
};

struct SpeechFolder {
  std::vector<std::string> labels;  // class names, in output order
  std::vector<SpeechClipRef> clips;
  std::string split;  // how the split was made, for the user
  std::size_t count(bool test) const;
};

struct SpeechFolderOptions {
  // Keywords to classify; every other label folder becomes "_unknown_" ("_silence_" stays itself).
  // Empty: every label folder is a class.
  std::vector<std::string> words;
  int test_percent = 20;  // for folders without testing_list.txt
};

// Label folders: the sub-folders holding .wav files, except "_background_noise_" (Speech Commands'
// long noise recordings, not a class). Throws std::runtime_error naming the folder when there are
// none, when a label folder has no .wav files, or when a listed word has no folder.
SpeechFolder scan_speech_folder(const std::filesystem::path& dir, const SpeechFolderOptions& options);

// The same folder labelled with a model's classes: a folder named like a class is that class;
// any other folder is "_unknown_" if the model has it, else an error naming the folder.
SpeechFolder scan_speech_folder_for_labels(const std::filesystem::path& dir, const std::vector<std::string>& labels,
                                           int test_percent);

// The split rule for one file name without a list (see above).
bool hash_split_is_test(const std::string& file_name, int test_percent);

}  // namespace tinyedge::train
