# Warnings and sanitizers for our own targets only (third-party sources keep their defaults).
add_library(tinyedge_warnings INTERFACE)
target_compile_options(tinyedge_warnings INTERFACE -Wall -Wextra -Werror)

if(TINYEDGE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()

# Every target includes from the repository root: "protocol/frame.h", "node_firmware/runtime/...".
include_directories(${PROJECT_SOURCE_DIR})

# Freestanding parts (runtime, app, protocol, ota verify) build the same on host and firmware:
# no exceptions, no RTTI on the firmware.
function(tinyedge_freestanding target)
  target_link_libraries(${target} PRIVATE tinyedge_warnings)
  if(TINYEDGE_FIRMWARE)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-fno-exceptions -fno-rtti>)
  endif()
endfunction()

function(tinyedge_add_subdirectory_if_present dir)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${dir}/CMakeLists.txt)
    add_subdirectory(${dir})
  endif()
endfunction()
