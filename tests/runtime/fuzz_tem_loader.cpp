// libFuzzer: Model::load + Interpreter::invoke on hostile bytes. Three input shapes: a raw blob
// (first byte even), or patches to a valid model (first byte odd; then 3-byte records offset_lo,
// offset_hi, value), so the fuzzer also explores models that pass the early checks: the tiny
// model (bit 1 clear) or a one-op LSTM with persistent state and packed biases (bit 1 set).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "node_firmware/runtime/interpreter.h"
#include "node_firmware/runtime/model.h"
#include "tests/runtime/lstm_blob.h"
#include "tests/runtime/tiny_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tinyedge;
  if (size == 0) return 0;
  std::vector<uint32_t> words;
  size_t n = 0;
  if ((data[0] & 1) == 0) {
    n = size - 1;
    words.assign(n / 4 + 1, 0);
    std::memcpy(words.data(), data + 1, n);
  } else {
    static const std::vector<uint8_t> lstm = testing::lstm_blob::build();
    const bool use_lstm = (data[0] & 2) != 0;
    n = use_lstm ? lstm.size() : testing::kTinyModelTemSize;
    words.assign(n / 4 + 1, 0);
    std::memcpy(words.data(), use_lstm ? lstm.data() : testing::kTinyModelTem, n);
    auto* bytes = reinterpret_cast<uint8_t*>(words.data());
    for (size_t i = 1; i + 3 <= size; i += 3) {
      const size_t at = (data[i] | (data[i + 1] << 8)) % n;
      bytes[at] = data[i + 2];
    }
  }
  runtime::Model model;
  if (runtime::Model::load({reinterpret_cast<const uint8_t*>(words.data()), n}, model) != runtime::Status::kOk)
    return 0;
  if (model.arena_bytes() > (1u << 20)) return 0;
  std::vector<uint32_t> arena(model.arena_bytes() / 4 + 1, 0);
  runtime::Interpreter interp;
  if (interp.init(model, {reinterpret_cast<uint8_t*>(arena.data()), model.arena_bytes()}) != runtime::Status::kOk) {
    return 0;
  }
  for (size_t i = 0; i < interp.input().size(); ++i) interp.input()[i] = static_cast<int8_t>(i * 31);
  for (auto set : {runtime::KernelSet::kOptimized, runtime::KernelSet::kReference}) {
    interp.set_kernel_set(set);
    interp.invoke();
  }
  return 0;
}
