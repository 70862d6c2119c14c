// Code-size probe: the smallest Cortex-M4 program that loads a .tem and runs it, so that
// --gc-sections keeps exactly the runtime a node needs. Built by m4_code_size.sh, never run.
#include <cstdint>

#include "node_firmware/runtime/interpreter.h"
#include "node_firmware/runtime/model.h"

extern "C" const uint8_t tem_blob[];
extern "C" const uint32_t tem_size;
alignas(4) static uint8_t arena[16384];

int main() {
#ifndef EMPTY_PROBE
  tinyedge::runtime::Model model;
  if (tinyedge::runtime::Model::load({tem_blob, tem_size}, model) != tinyedge::runtime::Status::kOk) return 1;
  tinyedge::runtime::Interpreter interp;
  if (interp.init(model, arena) != tinyedge::runtime::Status::kOk) return 2;
  interp.input()[0] = 1;
  if (interp.invoke() != tinyedge::runtime::Status::kOk) return 3;
  return interp.output()[0];
#else
  return arena[0];
#endif
}
