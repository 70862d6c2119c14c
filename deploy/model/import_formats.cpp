#include "deploy/model/import_formats.h"

#include <map>

namespace tinyedge::model {
namespace {

std::map<std::string, FormatImporter>& importers() {
  static std::map<std::string, FormatImporter> table;
  return table;
}

}  // namespace

void register_format_importer(const std::string& extension, FormatImporter importer) {
  importers()[extension] = importer;
}

FormatImporter find_format_importer(const std::string& extension) {
  const auto it = importers().find(extension);
  return it == importers().end() ? nullptr : it->second;
}

}  // namespace tinyedge::model
