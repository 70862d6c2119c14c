// `tinyedge model import MODEL.mlmodel --calibration DIR`: registers the Core ML importer with
// `model import` (deploy/model/import_formats.h), which needs this folder's float network and
// quantiser, so a build without the trainer refuses .mlmodel files instead.
#include <iomanip>
#include <iostream>

#include "deploy/command_registry.h"
#include "deploy/model/compile.h"
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
    model::Graph graph = train::coreml_to_int8_graph(m, calibration);
    // What quantisation costs, on labelled images the calibration did not see.
    const model::CompiledModel probe = model::compile(graph, meta);
    const train::ImportAccuracy a = train::compare_float_int8(m, probe.tem, request.calibration);
    if (a.images > 0) {
      std::cout << std::fixed << std::setprecision(2) << "accuracy on " << a.images << " held-out images of "
                << request.calibration << ": float " << a.float_percent << " %, int8 " << a.int8_percent
                << " % (int8 - float: " << std::showpos << a.int8_percent - a.float_percent << std::noshowpos
                << " points)\n";
    }
    return graph;
  } catch (const train::CoremlError& e) {
    throw model::ImportError(e.what());
  } catch (const model::CompileError& e) {
    throw model::ImportError(e.what());
  } catch (const std::runtime_error& e) {  // the data set readers name their file
    throw model::ImportError("--calibration " + request.calibration + ": " + e.what());
  }
}

void install(CLI::App&) { model::register_format_importer(".mlmodel", &import_coreml); }

const CommandRegistration kCoreml{"11-model-coreml", &install};

}  // namespace
}  // namespace tinyedge::deploy
