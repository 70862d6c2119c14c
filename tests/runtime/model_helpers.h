// Shared by the runtime tests: import a .tflite through the real compiler into aligned storage
// and run it through the real interpreter.
#pragma once
#include <cstring>
#include <span>
#include <vector>

#include "deploy/model/compile.h"
#include "deploy/model/tflite_import.h"
#include "node_firmware/runtime/interpreter.h"
#include "node_firmware/runtime/model.h"

namespace tinyedge::testing {

// A .tem held in 4-aligned memory, loaded, with an arena and an interpreter.
struct Runner {
  std::vector<uint32_t> blob;
  size_t blob_bytes = 0;
  runtime::Model model;
  std::vector<uint32_t> arena;
  runtime::Interpreter interp;

  runtime::Status load(std::span<const uint8_t> tem) {
    blob.assign((tem.size() + 3) / 4, 0);
    if (!tem.empty()) std::memcpy(blob.data(), tem.data(), tem.size());
    blob_bytes = tem.size();
    runtime::Status s = runtime::Model::load(bytes(), model);
    if (s != runtime::Status::kOk) return s;
    arena.assign(model.arena_bytes() / 4 + 1, 0);
    return interp.init(model, {reinterpret_cast<uint8_t*>(arena.data()), arena.size() * 4});
  }
  std::span<const uint8_t> bytes() const { return {reinterpret_cast<const uint8_t*>(blob.data()), blob_bytes}; }
};

inline model::CompiledModel compile_tflite(std::span<const uint8_t> tflite, bool in_place = true) {
  model::ModelMetadata meta;
  meta.name = "test";
  model::CompileOptions opts;
  opts.in_place = in_place;
  return model::compile(model::import_tflite(tflite), meta, opts);
}

}  // namespace tinyedge::testing
