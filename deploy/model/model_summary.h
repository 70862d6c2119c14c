// What `tinyedge model inspect` prints about a loaded .tem: tensors, ops, sizes, labels and the
// sensor front-end record the node will configure from it.
#pragma once
#include <cstdint>
#include <ostream>
#include <string>

#include "node_firmware/runtime/model.h"

namespace tinyedge::model {

// The kernel's TFLite name as registered in the runtime (or "kernel N").
std::string kernel_name(uint16_t kernel);

void print_model_summary(const runtime::Model& m, std::ostream& os);

}  // namespace tinyedge::model
