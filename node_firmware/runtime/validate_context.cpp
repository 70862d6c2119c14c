#include <cstring>

#include "node_firmware/runtime/kernels/registration.h"

namespace tinyedge::runtime {

Status ValidateContext::quant_table(uint32_t expected_a, uint32_t expected_b, bool shifts_nonpositive) const {
  // The loader checked that quant_count * 8 bytes at quant_offset lie in the blob, 4-aligned.
  if (op->quant_count != expected_a && op->quant_count != expected_b) return Status::kBadQuantization;
  const uint8_t* base = blob.data() + op->quant_offset;
  for (uint32_t k = 0; k < op->quant_count; ++k) {
    int32_t m = 0;
    int32_t s = 0;
    std::memcpy(&m, base + 4 * k, 4);
    std::memcpy(&s, base + 4 * (op->quant_count + k), 4);
    if (m < 0 || s < -31 || s > 30 || (shifts_nonpositive && s > 0)) return Status::kBadQuantization;
  }
  return Status::kOk;
}

}  // namespace tinyedge::runtime
