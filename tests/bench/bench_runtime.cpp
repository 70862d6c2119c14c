// µs per inference and arena bytes for the four MLPerf Tiny models, optimised and reference
// kernels, next to TFLite Micro's figures from ../shared/models/README.md (same machine class).
//   bench_runtime [--benchmark_filter=kws] ; TINYEDGE_SHARED_MODELS overrides the models folder.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "deploy/model/compile.h"
#include "deploy/model/tflite_import.h"
#include "node_firmware/runtime/interpreter.h"
#include "node_firmware/runtime/model.h"

namespace {

namespace rt = tinyedge::runtime;

struct ModelCase {
  const char* short_name;
  const char* file;
  double tflm_reference_us;
  double tflm_cmsis_us;
  uint32_t tflm_arena_m4;
};
constexpr ModelCase kCases[] = {
    {"kws", "kws_ref_model", 2782, 1023, 22772},
    {"vww", "vww_96_int8", 7138, 2978, 100660},
    {"resnet", "pretrainedResnet_quant", 8888, 4670, 54340},
    {"ad01", "ad01_int8", 189, 94, 2260},
};

struct Loaded {
  std::vector<uint32_t> blob;
  rt::Model model;
  std::vector<uint32_t> arena;
  rt::Interpreter interp;
};

std::filesystem::path models_dir() {
  if (const char* env = std::getenv("TINYEDGE_SHARED_MODELS"); env && *env) return env;
  return TINYEDGE_DEFAULT_SHARED_MODELS;
}

std::unique_ptr<Loaded> load(const ModelCase& c) {
  const auto path = models_dir() / (std::string(c.file) + ".tflite");
  std::ifstream f(path, std::ios::binary);
  if (!f) return nullptr;
  const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
  tinyedge::model::ModelMetadata meta;
  meta.name = c.short_name;
  const auto compiled = tinyedge::model::compile(tinyedge::model::import_tflite(bytes), meta);
  auto l = std::make_unique<Loaded>();
  l->blob.assign((compiled.tem.size() + 3) / 4, 0);
  std::memcpy(l->blob.data(), compiled.tem.data(), compiled.tem.size());
  if (rt::Model::load({reinterpret_cast<const uint8_t*>(l->blob.data()), compiled.tem.size()}, l->model) != rt::Status::kOk) {
    return nullptr;
  }
  l->arena.assign(l->model.arena_bytes() / 4 + 1, 0);
  if (l->interp.init(l->model, {reinterpret_cast<uint8_t*>(l->arena.data()), l->arena.size() * 4}) != rt::Status::kOk) {
    return nullptr;
  }
  const auto input = models_dir() / "vectors" / c.file / "in_000.bin";
  std::ifstream in(input, std::ios::binary);
  in.read(reinterpret_cast<char*>(l->interp.input().data()), static_cast<std::streamsize>(l->interp.input().size()));
  return l;
}

void run(benchmark::State& state, const ModelCase* c, rt::KernelSet set) {
  static std::unique_ptr<Loaded> cache[std::size(kCases)];
  const size_t idx = static_cast<size_t>(c - kCases);
  if (!cache[idx]) cache[idx] = load(*c);
  Loaded* l = cache[idx].get();
  if (l == nullptr) {
    state.SkipWithError("model not found (set TINYEDGE_SHARED_MODELS)");
    return;
  }
  l->interp.set_kernel_set(set);
  for (auto _ : state) {
    l->interp.invoke();
    benchmark::DoNotOptimize(l->interp.output().data());
    benchmark::ClobberMemory();
  }
  state.counters["arena_bytes"] = l->model.arena_bytes();
  state.counters["arena_vs_tflm_m4"] = static_cast<double>(l->model.arena_bytes()) / c->tflm_arena_m4;
  state.counters["tflm_ref_us"] = c->tflm_reference_us;
  state.counters["tflm_cmsis_us"] = c->tflm_cmsis_us;
}

const bool kRegistered = [] {
  for (const ModelCase& c : kCases) {
    benchmark::RegisterBenchmark((std::string(c.short_name) + "/optimized").c_str(), run, &c, rt::KernelSet::kOptimized)
        ->Unit(benchmark::kMicrosecond)->MinTime(0.5);
    benchmark::RegisterBenchmark((std::string(c.short_name) + "/reference").c_str(), run, &c, rt::KernelSet::kReference)
        ->Unit(benchmark::kMicrosecond)->MinTime(0.5);
  }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
