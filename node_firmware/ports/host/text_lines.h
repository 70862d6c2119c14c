// `tinyedge-node --text FILE`: lines of a text file as the node's sensor. Each non-empty line (the
// part after a tab, if it has one: a labelled TSV plays as is, its labels ignored) goes through the
// node's text front-end as the model's record configures it (node_firmware/text: hashed n-gram
// counts, quantised with the model's input scale and zero point) and is replayed like --samples.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tinyedge::host {

// The model's input tensors, one per line, back to back. Throws std::runtime_error when the model
// carries no text record or one this node cannot run, and on a line that is not UTF-8 (file:line).
std::shared_ptr<const std::vector<int8_t>> load_text_lines(const std::string& path,
                                                           const std::vector<uint8_t>& model_blob);

}  // namespace tinyedge::host
