// Model formats other than TFLite that `tinyedge model import` reads, chosen by the file's
// extension. Their importers need libraries the compiler does not link (Core ML: protobuf and
// the trainer's float network and quantiser), so the area that has them registers one here when
// the CLI's commands are installed, and a build without it says so instead of misreading the file.
#pragma once
#include <cstdint>
#include <span>
#include <string>

#include "deploy/model/compile.h"
#include "deploy/model/graph.h"

namespace tinyedge::model {

struct FormatImport {
  std::span<const uint8_t> bytes;
  std::string calibration;  // --calibration: what a float model is quantised with (may be empty)
};

// Returns the int8 graph; fills `meta` where the file says more than the command line (labels,
// input description) without overriding what the user gave. Throws ImportError naming the problem.
using FormatImporter = Graph (*)(const FormatImport& request, ModelMetadata& meta);

void register_format_importer(const std::string& extension, FormatImporter importer);
// nullptr when no importer for `extension` (".mlmodel") is linked in.
FormatImporter find_format_importer(const std::string& extension);

}  // namespace tinyedge::model
