// `tinyedge model inspect`'s summary of a .tem.
#include "deploy/model/model_summary.h"

#include <algorithm>
#include <iterator>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "node_firmware/audio/front_end_record.h"
#include "node_firmware/enroll/embedding_head.h"
#include "node_firmware/runtime/kernel_table.h"
#include "node_firmware/text/text_record.h"

namespace tinyedge::model {

namespace rt = tinyedge::runtime;

std::string kernel_name(uint16_t k) {
  const rt::KernelRegistration* r = rt::find_kernel(k);
  return r != nullptr && r->name != nullptr ? r->name : "kernel " + std::to_string(k);
}

namespace {

std::string shape_string(const rt::TensorInfo& t) {
  std::ostringstream s;
  s << "[";
  for (int d = 0; d < t.rank; ++d) s << (d ? "," : "") << t.dims[d];
  s << "]";
  return s.str();
}

const char* type_name(uint8_t type) {
  static const char* names[] = {"int8", "int32", "int16", "int64", "float32", "bool"};
  return type < std::size(names) ? names[type] : "?";
}

void print_tensor_line(const char* what, const rt::TensorInfo& t, std::ostream& os) {
  os << what << ": " << type_name(t.type) << " " << shape_string(t) << " scale " << t.scale << " zero_point "
     << t.zero_point;
}

// The record is opaque to the runtime; the CLI reads the kinds it knows so a user sees what the
// node will compute before the model reaches it.
void print_front_end(std::span<const uint8_t> region, std::ostream& os) {
  // The region holds an audio record, an embedding head, or the audio record then the head.
  const std::span<const uint8_t> head = enroll::find_embedding_head(region);
  const std::span<const uint8_t> record =
      head.empty() ? region : region.first(static_cast<size_t>(head.data() - region.data()));
  if (!head.empty()) {
    enroll::EmbeddingHead h;
    if (enroll::decode_embedding_head(head, h) == enroll::EnrollStatus::kOk)
      os << "embedding head: " << h.class_count << " trained prototypes of " << h.dim
         << " dimensions (cosine); classes can be enrolled on the node\n";
    else
      os << "embedding head: " << head.size() << "-byte record this build cannot read\n";
  }
  if (record.empty()) return;
  if (text::TextFrontEndConfig t; text::decode_text_record(record, t) == text::TextStatus::kOk) {
    os << "front-end: text, hashed n-gram counts in " << t.buckets << " buckets, word n-grams " << int{t.word_min}
       << ".." << int{t.word_max} << ", character n-grams " << int{t.char_min} << ".." << int{t.char_max} << ", "
       << (t.lowercase ? "lower-cased" : "case kept") << ", seed " << t.seed << "\n";
    return;
  }
  audio::AudioFrontEndConfig c;
  const audio::AudioStatus s = audio::decode_front_end(record, c);
  if (s != audio::AudioStatus::kOk) {
    os << "front-end: " << record.size() << "-byte record this build cannot run (" << audio::to_string(s) << ")\n";
    return;
  }
  os << "front-end: audio " << c.sample_rate_hz << " Hz, window " << c.window_ms << " ms, stride " << c.stride_ms
     << " ms, " << c.mel_channels << " mel channels " << c.lower_hz << "-" << c.upper_hz << " Hz, ";
  if (c.mfcc_coefficients != 0)
    os << c.mfcc_coefficients << " MFCC";
  else
    os << "log-mel";
  os << ", noise reduction " << (c.noise_reduction ? "on" : "off") << ", output scale " << c.output_scale
     << " zero_point " << int{c.output_zero_point} << "\n";
}

}  // namespace

void print_model_summary(const rt::Model& m, std::ostream& os) {
  os << "model: " << (m.name().empty() ? "(unnamed)" : std::string(m.name())) << "  id " << m.model_id() << "  version "
     << m.version() << "\n";
  for (uint16_t i = 0; i < m.input_count(); ++i) {
    print_tensor_line(m.input_count() > 1 ? ("input " + std::to_string(i)).c_str() : "input", m.input_info(i), os);
    if (i == 0 && !m.input_description().empty()) os << "  \"" << m.input_description() << "\"";
    os << "\n";
  }
  for (uint16_t i = 0; i < m.output_count(); ++i) {
    print_tensor_line(m.output_count() > 1 ? ("output " + std::to_string(i)).c_str() : "output", m.output_info(i), os);
    os << "\n";
  }
  // Ops by kind, in first-seen order.
  std::vector<std::pair<std::string, int>> counts;
  for (uint16_t i = 0; i < m.op_count(); ++i) {
    const std::string k = kernel_name(m.op(i).kernel);
    auto it = std::find_if(counts.begin(), counts.end(), [&](auto& p) { return p.first == k; });
    if (it == counts.end())
      counts.push_back({k, 1});
    else
      ++it->second;
  }
  os << "ops: " << m.op_count() << " (";
  for (size_t i = 0; i < counts.size(); ++i) os << (i ? ", " : "") << counts[i].first << " x" << counts[i].second;
  os << ")\n";
  size_t params = 0;
  for (uint16_t i = 0; i < m.tensor_count(); ++i) {
    const auto& t = m.tensor(i);
    if (t.flags & rt::kTensorConstant) params += t.bytes / rt::element_bytes(t.type);
  }
  os << "parameters: " << params << "\n";
  os << "weight bytes: " << m.weights_bytes() << "\n";
  os << "file bytes: " << m.blob_bytes() << "\n";
  os << "arena: " << m.arena_bytes() << " bytes\n";
  print_front_end(m.front_end(), os);
  if (m.label_count() > 0) {
    os << "labels: ";
    for (size_t i = 0; i < m.label_count(); ++i) os << (i ? ", " : "") << m.label(i);
    os << "\n";
  }
}

}  // namespace tinyedge::model
