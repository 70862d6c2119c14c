// `tinyedge model import MODEL.mlmodel --calibration DIR`: registers the Core ML importer with
// `model import` (deploy/model/import_formats.h), which needs this folder's float network and
// quantiser, so a build without the trainer refuses .mlmodel files instead.
#include "deploy/command_registry.h"
#include "deploy/model/import_formats.h"
#include "deploy/model/tflite_import.h"
#include "deploy/train/coreml_import.h"

namespace tinyedge::deploy {
namespace {

model::Graph import_coreml(const model::FormatImport& request, model::ModelMetadata& meta) {
  try {
    const train::CoremlModel m = train::read_coreml(request.bytes);
    const auto calibration = train::read_calibration(request.calibration, m);
    if (meta.labels.empty()) meta.labels = m.labels;
    if (meta.input_description.empty()) meta.input_description = m.input_description;
    return train::coreml_to_int8_graph(m, calibration);
  } catch (const train::CoremlError& e) {
    throw model::ImportError(e.what());
  }
}

void install(CLI::App&) { model::register_format_importer(".mlmodel", &import_coreml); }

const CommandRegistration kCoreml{"11-model-coreml", &install};

}  // namespace
}  // namespace tinyedge::deploy
