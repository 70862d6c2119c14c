# The Cortex-M4 (mps2-an386) images the host tree's qemu tests run, built by ONE ExternalProject,
# `tinyedge_firmware`, in ${TINYEDGE_M4_FIRMWARE_BUILD_DIR}. The runtime, app, audio and OTA objects
# for the M4 are the same for every image, so each test area registers the images it needs here
# and they all link against the one set of objects (two sub-builds compiled ~110 objects twice).
#
#   tinyedge_m4_test_images(IMAGES <name|model.tem|ram_bytes[|arena[|audio.raw|detector_ram]]>...
#                           [VECTORS <name|model.tem|vectors-dir>...]
#                           [TARGETS <other sub-build targets>...]
#                           [DEPENDS <host targets the images are made from>...]
#                           [ARGS <-D options for the sub-build>...])
#
# Images land in ${TINYEDGE_M4_FIRMWARE_DIR}/<name>.elf. Tests that run them add
# `add_dependencies(<test> tinyedge_firmware)`. tinyedge_m4_test_firmware(), called once after every
# area, creates the ExternalProject from what was registered (nothing registered: no sub-build).
set(TINYEDGE_M4_FIRMWARE_BUILD_DIR ${CMAKE_BINARY_DIR}/firmware)
set(TINYEDGE_M4_FIRMWARE_DIR ${TINYEDGE_M4_FIRMWARE_BUILD_DIR}/node_firmware/ports/mps2_an386)
# A firmware sub-build's BUILD_COMMAND, followed by its targets. With Makefiles, $(MAKE) joins the
# parent's jobserver, so the sub-build shares the -j slots (`cmake --build` cannot: it fell back to
# -j1 with "jobserver unavailable" and ran its ~110 objects one by one).
if(CMAKE_GENERATOR MATCHES "Makefiles")
  set(TINYEDGE_SUBBUILD_MAKE $(MAKE))
else()
  set(TINYEDGE_SUBBUILD_MAKE ${CMAKE_COMMAND} --build . --target)
endif()

function(tinyedge_m4_test_images)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "" "IMAGES;VECTORS;TARGETS;DEPENDS;ARGS")
  foreach(image IN LISTS arg_IMAGES arg_VECTORS)
    string(REPLACE "|" ";" parts "${image}")
    list(GET parts 0 name)
    set_property(GLOBAL APPEND PROPERTY TINYEDGE_M4_TEST_TARGETS ${name})
  endforeach()
  foreach(kind IMAGES VECTORS TARGETS DEPENDS ARGS)
    if(arg_${kind})
      set_property(GLOBAL APPEND PROPERTY TINYEDGE_M4_TEST_${kind} ${arg_${kind}})
    endif()
  endforeach()
endfunction()

# True in out_var when some area asked for the sub-build target `target` (e.g. tinyedge_sdk).
function(tinyedge_m4_test_has_target target out_var)
  get_property(targets GLOBAL PROPERTY TINYEDGE_M4_TEST_TARGETS)
  if(target IN_LIST targets)
    set(${out_var} TRUE PARENT_SCOPE)
  else()
    set(${out_var} FALSE PARENT_SCOPE)
  endif()
endfunction()

function(tinyedge_m4_test_firmware)
  get_property(targets GLOBAL PROPERTY TINYEDGE_M4_TEST_TARGETS)
  if(NOT targets)
    return()
  endif()
  include(ExternalProject)
  get_property(images GLOBAL PROPERTY TINYEDGE_M4_TEST_IMAGES)
  get_property(vectors GLOBAL PROPERTY TINYEDGE_M4_TEST_VECTORS)
  get_property(depends GLOBAL PROPERTY TINYEDGE_M4_TEST_DEPENDS)
  get_property(args GLOBAL PROPERTY TINYEDGE_M4_TEST_ARGS)
  list(REMOVE_DUPLICATES targets)
  # The lists travel to the sub-build as ^^-separated strings (ExternalProject's LIST_SEPARATOR).
  string(REPLACE ";" "^^" images "${images}")
  string(REPLACE ";" "^^" vectors "${vectors}")
  set(byproducts "")
  foreach(target IN LISTS targets)
    if(NOT target MATCHES "^tinyedge_")
      list(APPEND byproducts ${TINYEDGE_M4_FIRMWARE_DIR}/${target}.elf)
    endif()
  endforeach()
  ExternalProject_Add(tinyedge_firmware
    SOURCE_DIR ${PROJECT_SOURCE_DIR}
    BINARY_DIR ${TINYEDGE_M4_FIRMWARE_BUILD_DIR}
    LIST_SEPARATOR ^^
    CMAKE_ARGS
      -DCMAKE_TOOLCHAIN_FILE=${PROJECT_SOURCE_DIR}/cmake/arm-none-eabi.cmake
      -DCMAKE_BUILD_TYPE=MinSizeRel
      -DTINYEDGE_DEPS_DIR=${TINYEDGE_DEPS_DIR}
      "-DTINYEDGE_FW_VARIANTS=${images}"
      "-DTINYEDGE_FW_VECTORS=${vectors}"
      ${args}
    BUILD_COMMAND ${TINYEDGE_SUBBUILD_MAKE} ${targets}
    INSTALL_COMMAND ""
    BUILD_ALWAYS ON
    BUILD_BYPRODUCTS ${byproducts}
    DEPENDS ${depends})
endfunction()
