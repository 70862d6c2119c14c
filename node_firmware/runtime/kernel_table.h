// The runtime's kernels: one constexpr table of the KernelRegistrations this build links. Which
// kernels those are is a build choice (CMake's TINYEDGE_KERNELS, default every kernels/*.cpp),
// so a firmware links only what its models use; a model with another kernel is refused at load.
#pragma once
#include <cstdint>
#include <span>

#include "node_firmware/runtime/kernels/registration.h"

namespace tinyedge::runtime {

// nullptr when this build has no kernel `id`.
const KernelRegistration* find_kernel(uint16_t id);
std::span<const KernelRegistration* const> linked_kernels();

}  // namespace tinyedge::runtime
