// Payload bytes on the wire per model update, full / compressed / delta, for two kinds of update
// of the same model: retrained (same architecture, new weights: RETRAINED.tem, e.g. the same
// `tinyedge train` run with another seed) and fine-tuned head (BASE.tem with only its classifier
// head, from the last FULLY_CONNECTED op to the output, taken from RETRAINED.tem: the bytes a
// head-only fine-tune changes). Packages are made by the same code as `tinyedge package create`,
// and every delta is decoded against its base and compared with the target before it is counted.
//   bench_package_wire BASE.tem RETRAINED.tem
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "node_firmware/runtime/model.h"
#include "ota/package.h"
#include "ota/payload_identity.h"

namespace {

using namespace tinyedge;

runtime::Model load(std::span<const uint8_t> blob, const char* what) {
  runtime::Model model;
  if (runtime::Model::load(blob, model) != runtime::Status::kOk)
    throw std::runtime_error(std::string(what) + ": not a loadable .tem");
  return model;
}

// `base` with every byte that the ops from the last FULLY_CONNECTED on depend on (their params,
// requantisation, packed data, constant inputs past the first, and the table entries of those
// constants and of their outputs) taken from `donor`, whose graph must have the same layout.
std::vector<uint8_t> with_head_of(const std::vector<uint8_t>& base, const std::vector<uint8_t>& donor) {
  const runtime::Model a = load(base, "base"), b = load(donor, "retrained");
  if (base.size() != donor.size() || a.op_count() != b.op_count() || a.tensor_count() != b.tensor_count())
    throw std::runtime_error("the two models do not share one layout (another architecture?)");
  int head = -1;
  for (int i = 0; i < a.op_count(); ++i)
    if (a.op(i).kernel == static_cast<uint16_t>(runtime::Kernel::kFullyConnected)) head = i;
  if (head < 0) throw std::runtime_error("the model has no fully connected layer");
  std::vector<uint8_t> out = base;
  auto take = [&](size_t offset, size_t bytes) {
    if (offset + bytes > out.size()) throw std::runtime_error("region outside the model");
    std::memcpy(out.data() + offset, donor.data() + offset, bytes);
  };
  auto take_entry = [&](uint16_t t) {
    take(static_cast<size_t>(reinterpret_cast<const uint8_t*>(&a.tensor(t)) - base.data()), sizeof(runtime::TemTensor));
  };
  for (int i = head; i < a.op_count(); ++i) {
    const runtime::TemOp &op = a.op(i), &other = b.op(i);
    if (std::memcmp(&op, &other, sizeof op) != 0)
      throw std::runtime_error("op " + std::to_string(i) + " differs in layout");
    take(op.params_offset, op.params_bytes);
    take(op.quant_offset, size_t{op.quant_count} * 8);
    take(op.packed_offset, op.packed_bytes);
    const auto inputs = a.op_inputs(i);
    for (size_t k = 1; k < inputs.size(); ++k) {
      if (inputs[k] == runtime::kNoTensor || !(a.tensor(inputs[k]).flags & runtime::kTensorConstant)) continue;
      take_entry(inputs[k]);
      take(a.tensor(inputs[k]).offset, a.tensor(inputs[k]).bytes);
    }
    for (uint16_t t : a.op_outputs(i)) take_entry(t);
  }
  load(out, "base with the retrained head");
  return out;
}

size_t bytes_differing(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  size_t n = a.size() > b.size() ? a.size() - b.size() : b.size() - a.size();
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) n += a[i] != b[i];
  return n;
}

size_t wire_bytes(const std::vector<uint8_t>& target, tinyedge_v1_PayloadEncoding encoding,
                  const std::vector<uint8_t>& base, const ota::SigningKey& key) {
  const runtime::Model model = load(target, "target");
  ota::PackageSpec spec;
  spec.model_id = model.model_id();
  spec.version = model.version();
  spec.payload = target;
  spec.arena_bytes = model.arena_bytes();
  spec.encoding = encoding;
  if (encoding == tinyedge_v1_PayloadEncoding_PAYLOAD_LZ_DELTA) spec.base = base;
  const ota::Package package = ota::create_package(spec, key);
  if (ota::installed_payload(package, base) != target)
    throw std::runtime_error("a package does not decode to its model");
  return package.payload.size();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: bench_package_wire BASE.tem RETRAINED.tem\n");
    return 2;
  }
  try {
    const std::vector<uint8_t> base = ota::read_file(argv[1]), retrained = ota::read_file(argv[2]);
    std::vector<uint8_t> fine_tuned = with_head_of(base, retrained);
    // The update is a new version: the retrained model's header identity, the base's body.
    std::memcpy(fine_tuned.data() + ota::kTemVersionOffset, retrained.data() + ota::kTemVersionOffset, 4);
    const ota::SigningKey key = ota::SigningKey::generate();
    std::printf("| update | .tem bytes | bytes changed | full | compressed | delta from the base |\n");
    std::printf("|---|---|---|---|---|---|\n");
    for (const auto& [name, target] :
         {std::pair{"retrained (new seed)", &retrained}, {"head fine-tuned", &fine_tuned}}) {
      const size_t full = wire_bytes(*target, tinyedge_v1_PayloadEncoding_PAYLOAD_PLAIN, base, key);
      const size_t lz = wire_bytes(*target, tinyedge_v1_PayloadEncoding_PAYLOAD_LZ_BLOCKS, base, key);
      const size_t delta = wire_bytes(*target, tinyedge_v1_PayloadEncoding_PAYLOAD_LZ_DELTA, base, key);
      std::printf("| %s | %zu | %zu | %zu | %zu (%.1f %%) | %zu (%.1f %%) |\n", name, target->size(),
                  bytes_differing(base, *target), full, lz, 100.0 * lz / full, delta, 100.0 * delta / full);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_package_wire: %s\n", e.what());
    return 1;
  }
  return 0;
}
