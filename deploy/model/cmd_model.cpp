// `tinyedge model import|inspect|run|bench`: .tflite (or a format registered in import_formats.h) -> .tem, and the node
// runtime on the host.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "deploy/command_registry.h"
#include "deploy/model/compile.h"
#include "deploy/model/import_formats.h"
#include "deploy/model/model_summary.h"
#include "deploy/model/tflite_import.h"
#include "node_firmware/runtime/interpreter.h"
#include "node_firmware/runtime/kernel_table.h"
#include "node_firmware/runtime/model.h"

namespace tinyedge::deploy {
namespace {

namespace rt = tinyedge::runtime;
namespace md = tinyedge::model;

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw CommandError("cannot open " + path);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void write_file(const std::string& path, const void* data, size_t n) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw CommandError("cannot write " + path);
  f.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
  if (!f) throw CommandError("error writing " + path);
}

// A .tem loaded into 4-aligned storage (the runtime executes it in place).
struct LoadedModel {
  std::vector<uint32_t> storage;
  rt::Model model;
};

void load_tem(const std::string& path, LoadedModel& out) {
  const std::vector<uint8_t> bytes = read_file(path);
  out.storage.assign((bytes.size() + 3) / 4, 0);
  if (!bytes.empty()) std::memcpy(out.storage.data(), bytes.data(), bytes.size());
  const rt::Status s = rt::Model::load({reinterpret_cast<const uint8_t*>(out.storage.data()), bytes.size()}, out.model);
  if (s != rt::Status::kOk) throw CommandError(path + ": invalid model: " + rt::to_string(s));
}

std::vector<std::string> read_labels(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw CommandError("cannot open labels file " + path);
  std::vector<std::string> labels;
  std::string line;
  while (std::getline(f, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) labels.push_back(line);
  }
  return labels;
}

void install(CLI::App& app) {
  auto* model = app.add_subcommand("model", "Import, inspect, run and benchmark .tem models");
  model->require_subcommand(1);

  // import
  auto* imp = model->add_subcommand(
      "import",
      "Convert an int8 .tflite model, or a Core ML .mlmodel with --calibration, to .tem (plans the arena offline)");
  static std::string in_path, out_path, labels_path, name, description, calibration;
  static uint32_t model_id = 0, version = 1;
  imp->add_option("model", in_path, ".tflite or .mlmodel file")->required();
  imp->add_option(
      "--calibration", calibration,
      "float models (.mlmodel): images to quantise with (fashion-mnist, an IDX folder or DIR/<label>/*.png)");
  imp->add_option("-o,--output", out_path, ".tem file to write")->required();
  imp->add_option("--labels", labels_path, "class labels, one per line (in output order)");
  imp->add_option("--name", name, "model name (default: the input file's stem)");
  imp->add_option("--model-id", model_id, "model id (fleet-wide)");
  imp->add_option("--version", version, "model version (anti-rollback counter)");
  imp->add_option("--input-description", description, "what the input is, e.g. \"49x10 MFCC\"");
  static bool m4_blocked_weights = false;
  imp->add_flag("--m4-blocked-weights", m4_blocked_weights,
                "store FULLY_CONNECTED and CONV_2D filters in the order the Cortex-M4 kernels read them (same "
                "bytes, same flash): fewer cycles on the M4, slower on a host");
  imp->callback([] {
    const std::vector<uint8_t> bytes = read_file(in_path);
    md::ModelMetadata meta;
    if (!labels_path.empty()) meta.labels = read_labels(labels_path);
    meta.input_description = description;
    const size_t dot = in_path.find_last_of('.');
    const std::string extension = dot == std::string::npos ? "" : in_path.substr(dot);
    md::Graph graph;
    try {
      if (extension == ".mlmodel") {
        const md::FormatImporter importer = md::find_format_importer(extension);
        if (!importer)
          throw CommandError(in_path + ": this tinyedge is built without Core ML import (TINYEDGE_TRAIN=OFF)");
        if (calibration.empty()) throw CommandError(in_path + ": a Core ML model is float: give --calibration images");
        graph = importer({bytes, calibration}, meta);
      } else {
        if (!calibration.empty())
          throw CommandError("--calibration is for float models (.mlmodel); a .tflite is already int8");
        graph = md::import_tflite(bytes);
      }
    } catch (const md::ImportError& e) {
      throw CommandError(in_path + ": " + e.what());
    }
    meta.name = name;
    if (meta.name.empty()) {
      std::string stem = in_path.substr(in_path.find_last_of('/') + 1);
      meta.name = stem.substr(0, stem.find_last_of('.'));
    }
    meta.model_id = model_id;
    meta.version = version;
    md::CompiledModel compiled;
    try {
      md::CompileOptions options;
      options.m4_blocked_weights = m4_blocked_weights;
      compiled = md::compile(graph, meta, options);
    } catch (const md::CompileError& e) {
      throw CommandError(in_path + ": " + e.what());
    }
    LoadedModel check;
    check.storage.assign((compiled.tem.size() + 3) / 4, 0);
    std::memcpy(check.storage.data(), compiled.tem.data(), compiled.tem.size());
    rt::Model::load({reinterpret_cast<const uint8_t*>(check.storage.data()), compiled.tem.size()}, check.model);
    if (!meta.labels.empty() && meta.labels.size() != check.model.output_info().element_count) {
      throw CommandError((labels_path.empty() ? in_path : labels_path) + ": " + std::to_string(meta.labels.size()) +
                         " labels for " + std::to_string(check.model.output_info().element_count) + " outputs");
    }
    write_file(out_path, compiled.tem.data(), compiled.tem.size());
    std::cout << "wrote " << out_path << "\n";
    md::print_model_summary(check.model, std::cout);
  });

  // inspect
  auto* insp = model->add_subcommand("inspect", "Validate a .tem and print its summary");
  static std::string inspect_path;
  insp->add_option("model", inspect_path, ".tem file")->required();
  insp->callback([] {
    LoadedModel m;
    load_tem(inspect_path, m);
    md::print_model_summary(m.model, std::cout);
  });

  // ops: what this runtime runs, straight from its kernel table (each kernel's registration
  // carries its TFLite name and constraints).
  auto* ops = model->add_subcommand("ops", "List the ops the runtime supports, with their constraints");
  ops->callback([] {
    std::vector<const rt::KernelRegistration*> kernels(rt::linked_kernels().begin(), rt::linked_kernels().end());
    std::sort(kernels.begin(), kernels.end(), [](auto* a, auto* b) { return std::string(a->name) < b->name; });
    std::cout << kernels.size() << " ops (TFLite builtin name: what the TinyEdge runtime accepts)\n";
    for (const rt::KernelRegistration* k : kernels) {
      std::cout << "  " << std::left << std::setw(20) << k->name << std::right << " " << k->constraints << "\n";
    }
  });

  // run
  auto* run = model->add_subcommand("run", "Run one inference on a raw int8 input tensor (NHWC)");
  static std::string run_model, run_input, run_output;
  run->add_option("model", run_model, ".tem file")->required();
  run->add_option("--input", run_input, "raw int8 input tensor")->required();
  run->add_option("--output", run_output, "write the raw int8 output tensor here");
  run->callback([] {
    LoadedModel m;
    load_tem(run_model, m);
    const std::vector<uint8_t> input = read_file(run_input);
    std::vector<uint32_t> arena((m.model.arena_bytes() + 3) / 4);
    rt::Interpreter interp;
    rt::Status s = interp.init(m.model, {reinterpret_cast<uint8_t*>(arena.data()), arena.size() * 4});
    if (s != rt::Status::kOk) throw CommandError(std::string("init: ") + rt::to_string(s));
    if (input.size() != interp.input().size()) {
      throw CommandError(run_input + ": " + std::to_string(input.size()) + " bytes, model input needs " +
                         std::to_string(interp.input().size()));
    }
    std::memcpy(interp.input().data(), input.data(), input.size());
    s = interp.invoke();
    if (s != rt::Status::kOk) throw CommandError(std::string("invoke: ") + rt::to_string(s));
    const auto out = interp.output();
    if (!run_output.empty()) write_file(run_output, out.data(), out.size());
    // Top class with its dequantised score (labels when the model carries them).
    const rt::TensorInfo info = m.model.output_info();
    size_t best = 0;
    for (size_t i = 1; i < out.size(); ++i) {
      if (out[i] > out[best]) best = i;
    }
    const double score = info.scale * (out[best] - info.zero_point);
    std::cout << "top: ";
    if (!m.model.label(best).empty())
      std::cout << m.model.label(best);
    else
      std::cout << "class " << best;
    std::cout << " " << std::fixed << std::setprecision(2) << score << "\n";
  });

  // bench
  auto* bench = model->add_subcommand("bench", "Time inferences on the host (µs/inference, arena bytes)");
  static std::string bench_model;
  static int iterations = 50;
  static bool reference = false;
  static bool per_op = false;
  bench->add_option("model", bench_model, ".tem file")->required();
  bench->add_flag("--per-op", per_op, "also print the median µs of every op");
  bench->add_option("-n,--iterations", iterations, "timed inferences")->check(CLI::Range(1, 1000000));
  bench->add_flag("--reference", reference, "use the reference kernels");
  bench->callback([] {
    LoadedModel m;
    load_tem(bench_model, m);
    std::vector<uint32_t> arena((m.model.arena_bytes() + 3) / 4);
    rt::Interpreter interp;
    if (interp.init(m.model, {reinterpret_cast<uint8_t*>(arena.data()), arena.size() * 4}) != rt::Status::kOk) {
      throw CommandError("init failed");
    }
    interp.set_kernel_set(reference ? rt::KernelSet::kReference : rt::KernelSet::kOptimized);
    uint32_t state = 2463534242u;  // xorshift32 input, like the reference vectors
    for (int8_t& v : interp.input()) {
      state ^= state << 13;
      state ^= state >> 17;
      state ^= state << 5;
      v = static_cast<int8_t>(state >> 24);
    }
    interp.invoke();
    std::vector<double> us;
    for (int i = 0; i < iterations; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      interp.invoke();
      us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(us.begin(), us.end());
    std::cout << "model: " << m.model.name() << "\n";
    std::cout << "kernels: " << (reference ? "reference" : "optimized") << "\n";
    std::cout << "us/inference (median of " << iterations << "): " << std::fixed << std::setprecision(1)
              << us[us.size() / 2] << "\n";
    std::cout << "arena: " << m.model.arena_bytes() << " bytes\n";
    if (!per_op) return;
    for (uint16_t op = 0; op < m.model.op_count(); ++op) {
      std::vector<double> t;
      for (int i = 0; i < iterations; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        interp.invoke_ops(op, static_cast<uint16_t>(op + 1));
        t.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
      }
      std::sort(t.begin(), t.end());
      std::cout << "  op " << std::setw(2) << op << " " << std::left << std::setw(18)
                << md::kernel_name(m.model.op(op).kernel) << std::right << std::setw(9) << t[t.size() / 2] << " us\n";
    }
  });
}

const CommandRegistration kModel{"10-model", &install};

}  // namespace
}  // namespace tinyedge::deploy
