// µs per inference and arena bytes for the four MLPerf Tiny models, optimised and reference
// kernels, next to TFLite Micro's figures from ../shared/models/README.md (same machine class);
// then every model in ../shared/models/wild (wild/<name>/<name>.tflite, input in_000.bin) that
// imports, next to TFLite Micro's x86-64 arena from wild/README.md. A wild model that does not
// import is listed as skipped with the importer's message.
//   bench_runtime [--benchmark_filter=kws|wild/] ; TINYEDGE_SHARED_MODELS overrides the models folder.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
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
  if (rt::Model::load({reinterpret_cast<const uint8_t*>(l->blob.data()), compiled.tem.size()}, l->model) !=
      rt::Status::kOk) {
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

// The wild models: compiled on first use (mobilenet_v2 takes a while), inputs in_000.bin (several
// graph inputs concatenated in order, as the vectors' README says).
struct WildCase {
  std::string name;
  std::unique_ptr<Loaded> loaded;
  std::string error;  // why it does not run, once tried
  bool tried = false;
};

// TFLite Micro's arena_used_bytes on x86-64 (wild/README.md), for the counters.
const std::map<std::string, uint32_t> kTflmWildArena = {
    {"hello_world_int8", 1184},
    {"micro_speech_quantized", 7312},
    {"person_detect", 85024},
    {"trained_lstm_int8", 3936},
    {"keyword_scrambled_8bit", 9600},
    {"mobilenet_v2_quantized_1x3x224x224", 2606896},
    {"id_model", 259488},
    {"retinaface", 350320},
    {"simple_add_model", 49936},
    {"seanet_conv0", 11232},
    {"seanet_add0", 2704},
    {"seanet_transpose_conv4", 57888},
};

std::unique_ptr<Loaded> load_wild(const std::string& name, std::string& error) {
  const auto dir = models_dir() / "wild" / name;
  std::ifstream f(dir / (name + ".tflite"), std::ios::binary);
  const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
  tinyedge::model::ModelMetadata meta;
  meta.name = name;
  tinyedge::model::CompiledModel compiled;
  try {
    compiled = tinyedge::model::compile(tinyedge::model::import_tflite(bytes), meta);
  } catch (const std::exception& e) {
    error = std::string("does not import: ") + e.what();
    return nullptr;
  }
  auto l = std::make_unique<Loaded>();
  l->blob.assign((compiled.tem.size() + 3) / 4, 0);
  std::memcpy(l->blob.data(), compiled.tem.data(), compiled.tem.size());
  if (rt::Model::load({reinterpret_cast<const uint8_t*>(l->blob.data()), compiled.tem.size()}, l->model) !=
      rt::Status::kOk) {
    error = "the compiled model does not load";
    return nullptr;
  }
  l->arena.assign(l->model.arena_bytes() / 4 + 1, 0);
  if (l->interp.init(l->model, {reinterpret_cast<uint8_t*>(l->arena.data()), l->arena.size() * 4}) != rt::Status::kOk) {
    error = "the interpreter does not start";
    return nullptr;
  }
  std::ifstream in(dir / "in_000.bin", std::ios::binary);
  for (uint16_t i = 0; i < l->model.input_count(); ++i) {
    const auto dst = l->interp.input(i);
    in.read(reinterpret_cast<char*>(dst.data()), static_cast<std::streamsize>(dst.size()));
  }
  return l;
}

void run_wild(benchmark::State& state, WildCase* c, rt::KernelSet set) {
  if (!c->tried) {
    c->loaded = load_wild(c->name, c->error);
    c->tried = true;
  }
  if (!c->loaded) {
    state.SkipWithError(c->error.c_str());
    return;
  }
  Loaded* l = c->loaded.get();
  l->interp.set_kernel_set(set);
  for (auto _ : state) {
    // Stateful models (SVDF, LSTM) carry state on; the time per inference does not depend on it.
    l->interp.invoke();
    benchmark::DoNotOptimize(l->interp.output(0).data());
    benchmark::ClobberMemory();
  }
  state.counters["arena_bytes"] = l->model.arena_bytes();
  if (const auto it = kTflmWildArena.find(c->name); it != kTflmWildArena.end()) {
    state.counters["tflm_arena_x86"] = it->second;
  }
}

std::deque<WildCase>& wild_cases() {
  static std::deque<WildCase> cases;
  return cases;
}

const bool kRegistered = [] {
  for (const ModelCase& c : kCases) {
    benchmark::RegisterBenchmark((std::string(c.short_name) + "/optimized").c_str(), run, &c, rt::KernelSet::kOptimized)
        ->Unit(benchmark::kMicrosecond)
        ->MinTime(0.5);
    benchmark::RegisterBenchmark((std::string(c.short_name) + "/reference").c_str(), run, &c, rt::KernelSet::kReference)
        ->Unit(benchmark::kMicrosecond)
        ->MinTime(0.5);
  }
  std::error_code ec;
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(models_dir() / "wild", ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && std::filesystem::exists(entry.path() / (name + ".tflite"))) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    WildCase* c = &wild_cases().emplace_back(WildCase{name, nullptr, {}, false});
    benchmark::RegisterBenchmark(("wild/" + name + "/optimized").c_str(), run_wild, c, rt::KernelSet::kOptimized)
        ->Unit(benchmark::kMicrosecond)
        ->MinTime(0.2);
    benchmark::RegisterBenchmark(("wild/" + name + "/reference").c_str(), run_wild, c, rt::KernelSet::kReference)
        ->Unit(benchmark::kMicrosecond)
        ->MinTime(0.2);
  }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
