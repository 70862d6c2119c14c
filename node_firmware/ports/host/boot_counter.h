// Boot ids of a simulated node: a counter kept in <data-dir>/<node>/boot_id, incremented at every
// (re)boot, so seqs restart at 1 under a new boot id exactly as on a device.
#pragma once
#include <cstdint>
#include <filesystem>

namespace tinyedge::host {

// Reads, increments and writes the counter; returns the new boot id (>= 1). Throws
// std::runtime_error naming the file when it cannot be written or holds garbage.
uint32_t next_boot_id(const std::filesystem::path& node_dir);

}  // namespace tinyedge::host
