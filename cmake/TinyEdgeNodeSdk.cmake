# The node SDK: a firmware build's freestanding libraries (runtime, audio front-end, node app with
# its OTA client and slot store, protocol, OTA verify, and the nanopb and trimmed Mbed TLS they
# were built with) as the CMake package TinyEdgeNode, for firmware projects outside this tree:
#
#   cmake --preset m4 && cmake --build --preset m4 --target tinyedge_sdk
#   cmake --install build/m4 --component sdk --prefix /opt/tinyedge-node-m4
#
# A firmware project then writes `find_package(TinyEdgeNode 0.1 REQUIRED)` and links
# TinyEdgeNode::app_ota (or ::runtime, ::audio ...), configured with the toolchain file installed
# beside the package (lib/cmake/TinyEdgeNode/arm-none-eabi.cmake). The same target names exist
# for `add_subdirectory(<this tree>)` under an arm-none-eabi toolchain.
#
# The libraries are object code for one core (TINYEDGE_ARM_CPU): the package refuses a project
# built for another. Headers go to include/tinyedge with the paths the sources use
# ("node_firmware/app/node.h"), so the board interfaces of README's port contract
# (app/platform.h, flash.h, bearer.h, sensor.h) come with them.
include(CMakePackageConfigHelpers)

set(_tinyedge_sdk_targets
  tinyedge_warnings nanopb tinyedge_protocol tinyedge_mbedtls_verify tinyedge_ota tinyedge_runtime tinyedge_audio
  tinyedge_app tinyedge_node_ota tinyedge_node_ota_runtime tinyedge_app_ota)
foreach(target IN LISTS _tinyedge_sdk_targets)
  if(NOT TARGET ${target})
    message(FATAL_ERROR "node SDK: ${target} is not part of this build (run scripts/setup for the .deps sources)")
  endif()
  string(REGEX REPLACE "^tinyedge_" "" short ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${short})
  # Sources include from the repository root ("node_firmware/runtime/model.h"); so do users.
  target_include_directories(${target} INTERFACE $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>)
  if(NOT TARGET TinyEdgeNode::${short})
    add_library(TinyEdgeNode::${short} ALIAS ${target})
  endif()
endforeach()
add_custom_target(tinyedge_sdk DEPENDS ${_tinyedge_sdk_targets})

set(_sdk_include include/tinyedge)
set(_sdk_cmake lib/cmake/TinyEdgeNode)
install(TARGETS ${_tinyedge_sdk_targets} EXPORT TinyEdgeNodeTargets
        ARCHIVE DESTINATION lib COMPONENT sdk
        INCLUDES DESTINATION ${_sdk_include})
install(EXPORT TinyEdgeNodeTargets NAMESPACE TinyEdgeNode:: DESTINATION ${_sdk_cmake} COMPONENT sdk)

foreach(dir node_firmware/runtime node_firmware/audio node_firmware/app protocol ota)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir}/ DESTINATION ${_sdk_include}/${dir} COMPONENT sdk
          FILES_MATCHING PATTERN "*.h" PATTERN "size" EXCLUDE PATTERN "mbedtls" EXCLUDE)
endforeach()
# Generated and third-party headers the public ones include.
get_target_property(_protocol_bin tinyedge_protocol BINARY_DIR)
install(FILES ${_protocol_bin}/tinyedge.pb.h ${PROJECT_SOURCE_DIR}/ota/mbedtls/tinyedge_mbedtls_config.h
        DESTINATION ${_sdk_include} COMPONENT sdk)
file(GLOB _nanopb_src_dir LIST_DIRECTORIES true "${TINYEDGE_DEPS_DIR}/nanopb-*")
install(FILES ${_nanopb_src_dir}/pb.h ${_nanopb_src_dir}/pb_common.h ${_nanopb_src_dir}/pb_encode.h
              ${_nanopb_src_dir}/pb_decode.h DESTINATION ${_sdk_include} COMPONENT sdk)
get_target_property(_mbedtls_sources tinyedge_mbedtls_verify SOURCES)  # <mbedtls>/library/*.c
list(GET _mbedtls_sources 0 _mbedtls_source)
get_filename_component(_mbedtls_dir ${_mbedtls_source} DIRECTORY)
get_filename_component(_mbedtls_dir ${_mbedtls_dir} DIRECTORY)
install(DIRECTORY ${_mbedtls_dir}/include/mbedtls DESTINATION ${_sdk_include} COMPONENT sdk)

set(TINYEDGE_SDK_CPU ${TINYEDGE_ARM_CPU})
if(TINYEDGE_ARM_CPU STREQUAL "cortex-m4")
  set(TINYEDGE_SDK_TOOLCHAIN arm-none-eabi.cmake)
else()
  set(TINYEDGE_SDK_TOOLCHAIN arm-none-eabi-${TINYEDGE_ARM_CPU}.cmake)
endif()
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/TinyEdgeNodeConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/TinyEdgeNodeConfig.cmake INSTALL_DESTINATION ${_sdk_cmake})
# 0.x: a minor version may change the interfaces, so only the same minor is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/TinyEdgeNodeConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/TinyEdgeNodeConfig.cmake ${PROJECT_BINARY_DIR}/TinyEdgeNodeConfigVersion.cmake
              ${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi.cmake ${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi-cortex-m33.cmake
        DESTINATION ${_sdk_cmake} COMPONENT sdk)
