#include "deploy/package/package_model_info.h"

#include "deploy/command_registry.h"

namespace tinyedge::deploy {

#if !defined(TINYEDGE_HAVE_RUNTIME)
ModelInfo read_model_info(std::span<const uint8_t>) { return {}; }

ota::Digest run_self_test(std::span<const uint8_t>, std::span<const uint8_t>) {
  throw CommandError("--self-test needs the runtime, which this build of tinyedge does not include");
}
#endif

}  // namespace tinyedge::deploy
