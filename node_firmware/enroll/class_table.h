// The enrolled classes in flash, power-fail-safe: two banks, each able to hold the whole table.
// A change is written into the bank that is NOT current (erase, body, then a 32-byte header with
// a sequence number and CRCs over header and body, programmed last); at mount the valid bank with
// the highest sequence wins. A power cut at any erase or program therefore leaves the old table
// (the new bank has no valid header yet) or the new one (its header is complete), never a mix.
//
// Bank: header | entries. The header (40 bytes, "ECT2") also keeps the sequence of the last shared
// class accepted, so a replayed share stays refused after its class is removed; banks written by
// older firmware ("ECT1", 32 bytes, no sequence) still mount. A shared class (learned on another
// node) has no examples: example_count 0.
//
// Entry: Entry: fixed 40-byte record (label, counts, the input quantisation the
// examples were stored with, threshold, quality) | int16 prototype[dim] | int8 examples
// [count][example_bytes] | pad to 4. The examples are the model inputs themselves (int8: the
// features a model consumes, 1 byte each), kept so that a new embedding model can recompute the
// prototype; the RAM copy holds only what classification needs.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "node_firmware/app/flash.h"
#include "node_firmware/enroll/enroll_status.h"
#include "node_firmware/enroll/prototype_math.h"

namespace tinyedge::enroll {

inline constexpr size_t kMaxEnrolledClasses = 8;  // compile-time bound (RAM); EnrollConfig sets the limit
inline constexpr size_t kLabelBytes = 16;
inline constexpr size_t kMaxExamples = 10;
inline constexpr size_t kMaxPrototypeDim = 64;  // RAM prototype size; a wider model's classes go stale
inline constexpr size_t kBankHeaderBytes = 40;
inline constexpr size_t kLegacyBankHeaderBytes = 32;
inline constexpr size_t kEntryHeaderBytes = 40;

enum class ClassState : uint8_t { kActive = 1, kStale = 2 };  // stale: the model cannot recompute it

struct EnrolledClass {
  char label[kLabelBytes] = {};  // NUL-padded; 16 characters fill it
  uint8_t example_count = 0;
  ClassState state = ClassState::kActive;
  uint16_t dim = 0;
  uint32_t example_bytes = 0;  // one example (= one model input)
  float input_scale = 0.0f;    // the quantisation the examples are stored in
  int32_t input_zero_point = 0;
  int16_t threshold_q14 = 0;
  int16_t nearest_q14 = 0;       // cosine to the nearest other class when enrolled
  uint32_t examples_offset = 0;  // RAM only: where the examples sit in the current bank
  int16_t prototype[kMaxPrototypeDim] = {};

  std::string_view name() const;
  bool shared() const { return example_count == 0; }  // received from another node: nothing to recompute from
  std::span<const int16_t> unit_prototype() const { return {prototype, dim}; }
};

// The whole table as one bank holds it.
struct TableImage {
  uint32_t model_id = 0;  // the embedding model the prototypes were computed with
  uint32_t model_version = 0;
  uint32_t count = 0;
  uint64_t share_sequence = 0;  // the last shared class accepted (EnrollShare's replay guard)
  EnrolledClass classes[kMaxEnrolledClasses];
};

size_t entry_bytes(uint16_t dim, uint8_t example_count, uint32_t example_bytes);

class ClassTable {
 public:
  // The table's flash region: [offset, offset + bytes), split into two banks of whole pages.
  ClassTable(app::Flash& flash, size_t offset, size_t bytes);

  // Reads both banks and keeps the newest valid one (an empty table if neither is valid).
  [[nodiscard]] EnrollStatus mount();
  const TableImage& image() const { return image_; }
  uint32_t sequence() const { return sequence_; }
  size_t bank_bytes() const { return bank_pages_ * flash_.page_size(); }

  // Writes `next` into the other bank and makes it current. The examples of next.classes[i] are
  // copied from the current bank (classes[i].examples_offset), except for i == new_index, whose
  // come from `new_examples`. On any failure the current table (flash and RAM) is unchanged.
  [[nodiscard]] EnrollStatus commit(const TableImage& next, int new_index, std::span<const int8_t> new_examples);

  // Reads example `e` of enrolled class `i` from flash.
  [[nodiscard]] EnrollStatus read_example(size_t i, size_t e, std::span<int8_t> out) const;

 private:
  size_t bank_offset(int bank) const { return offset_ + static_cast<size_t>(bank) * bank_pages_ * flash_.page_size(); }
  bool read_bank(int bank, TableImage& out, uint32_t& sequence) const;

  app::Flash& flash_;
  size_t offset_;
  size_t bank_pages_ = 0;
  TableImage image_{};
  int current_ = -1;
  uint32_t sequence_ = 0;
};

}  // namespace tinyedge::enroll
