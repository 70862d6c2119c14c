#include "node_firmware/ports/host/text_lines.h"

#include <fstream>
#include <stdexcept>

#include "node_firmware/runtime/model.h"
#include "node_firmware/text/text_front_end.h"
#include "node_firmware/text/text_record.h"

namespace tinyedge::host {

std::shared_ptr<const std::vector<int8_t>> load_text_lines(const std::string& path,
                                                           const std::vector<uint8_t>& model_blob) {
  runtime::Model model;
  if (runtime::Model::load(model_blob, model) != runtime::Status::kOk)
    throw std::runtime_error("--text: the model does not load");
  text::TextFrontEndConfig config;
  if (model.front_end().empty()) throw std::runtime_error("--text: the model has no text front-end record");
  if (const auto s = text::decode_text_record(model.front_end(), config); s != text::TextStatus::kOk)
    throw std::runtime_error(std::string("--text: the model's front-end record is not one this node runs: ") +
                             text::to_string(s));
  const auto in = model.input_info();
  if (in.element_count != config.buckets || in.scale <= 0)
    throw std::runtime_error("--text: the model's input (" + std::to_string(in.element_count) +
                             " values) is not its text front-end's " + std::to_string(config.buckets) + " buckets");
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("--text: cannot open " + path);
  auto tensors = std::make_shared<std::vector<int8_t>>();
  std::vector<uint16_t> counts(config.buckets);
  std::vector<int8_t> tensor(config.buckets);
  std::string line;
  for (std::size_t n = 1; std::getline(f, line); ++n) {
    std::string_view text(line);
    if (const auto tab = text.find('\t'); tab != std::string_view::npos) text.remove_prefix(tab + 1);
    while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
    if (text.empty()) continue;
    std::size_t bad = 0;
    const auto s =
        text::count_ngrams(config, {reinterpret_cast<const uint8_t*>(text.data()), text.size()}, counts, &bad);
    if (s == text::TextStatus::kBadUtf8)
      throw std::runtime_error(path + ":" + std::to_string(n) + ": byte " +
                               std::to_string(bad + 1 + static_cast<std::size_t>(text.data() - line.data())) +
                               " is not UTF-8");
    if (s != text::TextStatus::kOk ||
        text::quantize_counts(counts, in.scale, in.zero_point, tensor) != text::TextStatus::kOk)
      throw std::runtime_error(path + ":" + std::to_string(n) + ": " + text::to_string(s));
    tensors->insert(tensors->end(), tensor.begin(), tensor.end());
  }
  if (tensors->empty()) throw std::runtime_error(path + ": no text lines");
  return tensors;
}

}  // namespace tinyedge::host
