#include "node_firmware/enroll/class_table.h"

#include <cstring>

namespace tinyedge::enroll {
namespace {

constexpr uint32_t kBankMagic = 0x32544345;        // "ECT2": 40-byte header with the share sequence
constexpr uint32_t kLegacyBankMagic = 0x31544345;  // "ECT1": 32-byte header
constexpr size_t kMaxWriteUnit = 16;
constexpr size_t kStageBytes = 64;  // a multiple of every write unit we accept
static_assert(kStageBytes % kMaxWriteUnit == 0);

uint32_t crc32_update(uint32_t crc, std::span<const uint8_t> bytes) {
  crc = ~crc;
  for (uint8_t byte : bytes) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
void put32(uint8_t* p, uint32_t v) {
  put16(p, static_cast<uint16_t>(v));
  put16(p + 2, static_cast<uint16_t>(v >> 16));
}
uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t get32(const uint8_t* p) { return get16(p) | (uint32_t{get16(p + 2)} << 16); }

size_t align4(size_t n) { return (n + 3) & ~size_t{3}; }

bool label_ok(const char (&label)[kLabelBytes]) {
  size_t n = 0;
  while (n < kLabelBytes && label[n] != 0) {
    if (label[n] <= ' ' || label[n] > '~') return false;
    ++n;
  }
  for (size_t i = n; i < kLabelBytes; ++i)
    if (label[i] != 0) return false;
  return n > 0;
}

// Streams bytes into flash through a small staging buffer, so every program() is a whole number
// of write units at an aligned offset, and keeps the CRC of what went through.
class BankWriter {
 public:
  BankWriter(app::Flash& flash, size_t offset) : flash_(flash), offset_(offset) {}

  bool append(std::span<const uint8_t> bytes) {
    crc_ = crc32_update(crc_, bytes);
    written_ += bytes.size();
    while (!bytes.empty()) {
      const size_t n = bytes.size() < kStageBytes - fill_ ? bytes.size() : kStageBytes - fill_;
      std::memcpy(stage_ + fill_, bytes.data(), n);
      fill_ += n;
      bytes = bytes.subspan(n);
      if (fill_ == kStageBytes && !flush()) return false;
    }
    return true;
  }
  bool pad4() {
    static constexpr uint8_t zeros[3] = {};
    return append(std::span(zeros, align4(written_) - written_));
  }
  // Programs what is staged, padded with 0xFF to the write unit.
  bool flush() {
    if (fill_ == 0) return true;
    const size_t unit = flash_.write_unit();
    const size_t n = (fill_ + unit - 1) / unit * unit;
    std::memset(stage_ + fill_, 0xFF, n - fill_);
    const bool ok = flash_.program(offset_, std::span(stage_, n)) == app::FlashStatus::kOk;
    offset_ += n;
    fill_ = 0;
    return ok;
  }
  size_t written() const { return written_; }
  uint32_t crc() const { return crc_; }

 private:
  app::Flash& flash_;
  size_t offset_;
  uint8_t stage_[kStageBytes];
  size_t fill_ = 0;
  size_t written_ = 0;
  uint32_t crc_ = 0;
};

void encode_entry_header(const EnrolledClass& c, uint8_t (&out)[kEntryHeaderBytes]) {
  std::memset(out, 0, sizeof out);
  std::memcpy(out, c.label, kLabelBytes);
  out[16] = c.example_count;
  out[17] = static_cast<uint8_t>(c.state);
  put16(out + 18, c.dim);
  put32(out + 20, c.example_bytes);
  uint32_t scale_bits;
  std::memcpy(&scale_bits, &c.input_scale, 4);
  put32(out + 24, scale_bits);
  put32(out + 28, static_cast<uint32_t>(c.input_zero_point));
  put16(out + 32, static_cast<uint16_t>(c.threshold_q14));
  put16(out + 34, static_cast<uint16_t>(c.nearest_q14));
  put32(out + 36, static_cast<uint32_t>(entry_bytes(c.dim, c.example_count, c.example_bytes)));
}

}  // namespace

std::string_view EnrolledClass::name() const {
  size_t n = 0;
  while (n < kLabelBytes && label[n] != 0) ++n;
  return {label, n};
}

size_t entry_bytes(uint16_t dim, uint8_t example_count, uint32_t example_bytes) {
  return align4(kEntryHeaderBytes + size_t{dim} * 2 + size_t{example_count} * example_bytes);
}

ClassTable::ClassTable(app::Flash& flash, size_t offset, size_t bytes) : flash_(flash), offset_(offset) {
  const size_t page = flash_.page_size();
  const size_t unit = flash_.write_unit();
  if (page == 0 || unit == 0 || unit > kMaxWriteUnit || kStageBytes % unit != 0 || offset % page != 0 ||
      offset > flash_.size() || bytes > flash_.size() - offset)
    return;
  const size_t pages = bytes / page / 2;
  if (pages * page < kBankHeaderBytes + kEntryHeaderBytes) return;
  bank_pages_ = pages;
}

bool ClassTable::read_bank(int bank, TableImage& out, uint32_t& sequence) const {
  const size_t base = bank_offset(bank);
  uint8_t header[kBankHeaderBytes];
  if (flash_.read(base, header) != app::FlashStatus::kOk) return false;
  const bool legacy = get32(header) == kLegacyBankMagic;
  const size_t header_bytes = legacy ? kLegacyBankHeaderBytes : kBankHeaderBytes;
  if ((!legacy && get32(header) != kBankMagic) ||
      get32(header + header_bytes - 4) != crc32_update(0, std::span(header, header_bytes - 4)))
    return false;
  const uint32_t count = get32(header + 8);
  const uint32_t body_bytes = get32(header + 12);
  if (count > kMaxEnrolledClasses || body_bytes > bank_bytes() - header_bytes) return false;

  // The body's CRC first: a bank whose erase or programming was cut short fails here.
  uint32_t crc = 0;
  uint8_t chunk[kStageBytes];
  for (size_t at = 0; at < body_bytes; at += kStageBytes) {
    const size_t n = body_bytes - at < kStageBytes ? body_bytes - at : kStageBytes;
    if (flash_.read(base + header_bytes + at, std::span(chunk, n)) != app::FlashStatus::kOk) return false;
    crc = crc32_update(crc, std::span(chunk, n));
  }
  if (crc != get32(header + 24)) return false;

  out = TableImage{};
  out.model_id = get32(header + 16);
  out.model_version = get32(header + 20);
  out.count = count;
  out.share_sequence = legacy ? 0 : get32(header + 28) | (uint64_t{get32(header + 32)} << 32);
  size_t at = header_bytes;
  for (uint32_t i = 0; i < count; ++i) {
    uint8_t e[kEntryHeaderBytes];
    if (at + kEntryHeaderBytes > header_bytes + body_bytes || flash_.read(base + at, e) != app::FlashStatus::kOk)
      return false;
    EnrolledClass& c = out.classes[i];
    std::memcpy(c.label, e, kLabelBytes);
    c.example_count = e[16];
    c.state = static_cast<ClassState>(e[17]);
    c.dim = get16(e + 18);
    c.example_bytes = get32(e + 20);
    const uint32_t scale_bits = get32(e + 24);
    std::memcpy(&c.input_scale, &scale_bits, 4);
    c.input_zero_point = static_cast<int32_t>(get32(e + 28));
    c.threshold_q14 = static_cast<int16_t>(get16(e + 32));
    c.nearest_q14 = static_cast<int16_t>(get16(e + 34));
    // A shared class (no examples) has no example size either.
    if (!label_ok(c.label) || c.example_count > kMaxExamples || c.dim > kMaxPrototypeDim ||
        (c.state != ClassState::kActive && c.state != ClassState::kStale) ||
        (c.example_bytes == 0) != (c.example_count == 0) || c.example_bytes > body_bytes ||
        get32(e + 36) != entry_bytes(c.dim, c.example_count, c.example_bytes))
      return false;
    const size_t size = entry_bytes(c.dim, c.example_count, c.example_bytes);
    if (size > header_bytes + body_bytes - at) return false;
    if (flash_.read(base + at + kEntryHeaderBytes,
                    std::span(reinterpret_cast<uint8_t*>(c.prototype), size_t{c.dim} * 2)) != app::FlashStatus::kOk)
      return false;
    c.examples_offset = static_cast<uint32_t>(base + at + kEntryHeaderBytes + size_t{c.dim} * 2);
    at += size;
  }
  if (at != header_bytes + body_bytes) return false;
  sequence = get32(header + 4);
  return true;
}

EnrollStatus ClassTable::mount() {
  if (bank_pages_ == 0) return EnrollStatus::kBadLayout;
  image_ = TableImage{};
  current_ = -1;
  sequence_ = 0;
  TableImage candidate;
  for (int bank = 0; bank < 2; ++bank) {
    uint32_t sequence = 0;
    if (read_bank(bank, candidate, sequence) && (current_ < 0 || sequence > sequence_)) {
      image_ = candidate;
      current_ = bank;
      sequence_ = sequence;
    }
  }
  return EnrollStatus::kOk;
}

EnrollStatus ClassTable::read_example(size_t i, size_t e, std::span<int8_t> out) const {
  if (i >= image_.count || e >= image_.classes[i].example_count || out.size() != image_.classes[i].example_bytes)
    return EnrollStatus::kBadExamples;
  const size_t at = image_.classes[i].examples_offset + e * image_.classes[i].example_bytes;
  return flash_.read(at, std::span(reinterpret_cast<uint8_t*>(out.data()), out.size())) == app::FlashStatus::kOk
             ? EnrollStatus::kOk
             : EnrollStatus::kFlashError;
}

EnrollStatus ClassTable::commit(const TableImage& next, int new_index, std::span<const int8_t> new_examples) {
  if (bank_pages_ == 0) return EnrollStatus::kBadLayout;
  if (next.count > kMaxEnrolledClasses) return EnrollStatus::kTableFull;
  size_t body_bytes = 0;
  for (uint32_t i = 0; i < next.count; ++i) {
    const EnrolledClass& c = next.classes[i];
    if (!label_ok(c.label) || c.dim > kMaxPrototypeDim || c.example_count > kMaxExamples ||
        (c.example_bytes == 0) != (c.example_count == 0))
      return EnrollStatus::kBadExamples;
    if (static_cast<int>(i) == new_index && new_examples.size() != size_t{c.example_count} * c.example_bytes)
      return EnrollStatus::kBadExamples;
    body_bytes += entry_bytes(c.dim, c.example_count, c.example_bytes);
  }
  if (body_bytes > bank_bytes() - kBankHeaderBytes) return EnrollStatus::kNoSpace;

  const int target = current_ == 0 ? 1 : 0;
  const size_t base = bank_offset(target);
  const size_t page = flash_.page_size();
  const size_t pages = (kBankHeaderBytes + body_bytes + page - 1) / page;
  for (size_t p = 0; p < pages; ++p)
    if (flash_.erase_page(base / page + p) != app::FlashStatus::kOk) return EnrollStatus::kFlashError;

  TableImage written = next;
  BankWriter body(flash_, base + kBankHeaderBytes);
  for (uint32_t i = 0; i < next.count; ++i) {
    const EnrolledClass& c = next.classes[i];
    uint8_t header[kEntryHeaderBytes];
    encode_entry_header(c, header);
    if (!body.append(header)) return EnrollStatus::kFlashError;
    written.classes[i].examples_offset =
        static_cast<uint32_t>(base + kBankHeaderBytes + body.written() + size_t{c.dim} * 2);
    if (!body.append(std::span(reinterpret_cast<const uint8_t*>(c.prototype), size_t{c.dim} * 2)))
      return EnrollStatus::kFlashError;
    const size_t examples = size_t{c.example_count} * c.example_bytes;
    if (static_cast<int>(i) == new_index) {
      if (!body.append(std::span(reinterpret_cast<const uint8_t*>(new_examples.data()), examples)))
        return EnrollStatus::kFlashError;
    } else {
      uint8_t chunk[kStageBytes];
      for (size_t at = 0; at < examples; at += kStageBytes) {
        const size_t n = examples - at < kStageBytes ? examples - at : kStageBytes;
        if (flash_.read(c.examples_offset + at, std::span(chunk, n)) != app::FlashStatus::kOk ||
            !body.append(std::span(chunk, n)))
          return EnrollStatus::kFlashError;
      }
    }
    if (!body.pad4()) return EnrollStatus::kFlashError;
  }
  if (!body.flush()) return EnrollStatus::kFlashError;

  // The header last: until it is complete the bank does not exist.
  uint8_t header[kBankHeaderBytes] = {};
  put32(header, kBankMagic);
  put32(header + 4, sequence_ + 1);
  put32(header + 8, next.count);
  put32(header + 12, static_cast<uint32_t>(body.written()));
  put32(header + 16, next.model_id);
  put32(header + 20, next.model_version);
  put32(header + 24, body.crc());
  put32(header + 28, static_cast<uint32_t>(next.share_sequence));
  put32(header + 32, static_cast<uint32_t>(next.share_sequence >> 32));
  put32(header + 36, crc32_update(0, std::span(header, 36)));
  if (flash_.program(base, header) != app::FlashStatus::kOk) return EnrollStatus::kFlashError;

  image_ = written;
  current_ = target;
  sequence_ += 1;
  return EnrollStatus::kOk;
}

}  // namespace tinyedge::enroll
