// `tinyedge model export m.tem --c-header -o m_model.h [--name kws]`: the model as a header a
// firmware without a file system compiles in (see c_header.h).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <vector>

#include "deploy/command_registry.h"
#include "deploy/export/c_header.h"
#include "node_firmware/runtime/model.h"

namespace tinyedge::deploy {
namespace {

struct ExportArgs {
  std::string model, out, name;
  bool c_header = false;
};

void run_export(const ExportArgs& a) {
  if (!a.c_header) throw CommandError("choose an export format: --c-header");
  std::ifstream in(a.model, std::ios::binary);
  if (!in) throw CommandError("cannot read " + a.model);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // A copy at the alignment the runtime checks, so load() judges the model and not the vector.
  std::vector<uint64_t> aligned((bytes.size() + 7) / 8);
  std::copy(bytes.begin(), bytes.end(), reinterpret_cast<uint8_t*>(aligned.data()));
  runtime::Model model;
  const runtime::Status status =
      runtime::Model::load(std::span(reinterpret_cast<const uint8_t*>(aligned.data()), bytes.size()), model);
  if (status != runtime::Status::kOk) {
    throw CommandError(a.model + " is not a model this runtime loads: " + runtime::to_string(status));
  }
  CHeaderModel m;
  m.identifier = c_identifier(a.name.empty() ? std::filesystem::path(a.out).stem().string() : a.name);
  m.source = std::filesystem::path(a.model).filename().string();
  m.model_name = std::string(model.name());
  m.model_id = model.model_id();
  m.version = model.version();
  m.arena_bytes = model.arena_bytes();
  std::ofstream out(a.out, std::ios::trunc);
  if (!out || !(out << c_header(m, bytes)) || !out.flush()) throw CommandError("cannot write " + a.out);
  std::cout << "wrote " << a.out << ": " << m.identifier << "[" << bytes.size() << "], arena " << m.arena_bytes
            << " bytes\n";
}

void install(CLI::App& app) {
  CLI::App* model = app.get_subcommand("model");
  auto args = std::make_shared<ExportArgs>();
  auto* cmd = model->add_subcommand("export", "Write a .tem as a C/C++ header for firmware without a file system");
  cmd->add_option("model", args->model, ".tem file")->required();
  cmd->add_flag("--c-header", args->c_header, "An aligned const array of the model's bytes plus its arena size");
  cmd->add_option("-o,--out", args->out, "Header to write, e.g. kws_model.h")->required();
  cmd->add_option("--name", args->name, "C identifier of the array (default: the output file's stem)");
  cmd->callback([args] { run_export(*args); });
}

// After "10-model", which creates `model`.
const CommandRegistration kReg{"11-model-export", &install};

}  // namespace
}  // namespace tinyedge::deploy
