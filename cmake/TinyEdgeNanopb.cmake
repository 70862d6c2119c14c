# nanopb: the runtime library comes from libnanopb-dev on the host and from Debian's nanopb
# source package (unpacked by scripts/setup) on the firmware; the generator is Debian's
# nanopb_generator.py on both, so both sides compile the same generated codec.
find_program(NANOPB_GENERATOR nanopb_generator.py nanopb_generator REQUIRED)

if(TINYEDGE_FIRMWARE)
  file(GLOB _nanopb_src_dir LIST_DIRECTORIES true "${TINYEDGE_DEPS_DIR}/nanopb-*")
  if(NOT _nanopb_src_dir OR NOT EXISTS "${_nanopb_src_dir}/pb_decode.c")
    message(FATAL_ERROR "nanopb sources not found under ${TINYEDGE_DEPS_DIR}: run scripts/setup")
  endif()
  add_library(nanopb STATIC ${_nanopb_src_dir}/pb_common.c ${_nanopb_src_dir}/pb_encode.c
                            ${_nanopb_src_dir}/pb_decode.c)
  target_include_directories(nanopb SYSTEM PUBLIC $<BUILD_INTERFACE:${_nanopb_src_dir}>)
else()
  find_package(nanopb CONFIG REQUIRED)
  add_library(nanopb INTERFACE)
  target_link_libraries(nanopb INTERFACE nanopb::protobuf-nanopb-static)
endif()

# tinyedge_nanopb_generate(<out-var> <proto> [OPTIONS <file>]): generated .pb.c/.pb.h land in
# the current binary dir; <out-var> gets the .pb.c.
function(tinyedge_nanopb_generate out_var proto)
  cmake_parse_arguments(ARG "" "OPTIONS" "" ${ARGN})
  get_filename_component(name ${proto} NAME_WE)
  get_filename_component(proto_abs ${proto} ABSOLUTE)
  get_filename_component(proto_dir ${proto_abs} DIRECTORY)
  set(options_abs "")
  if(ARG_OPTIONS)
    get_filename_component(options_abs ${ARG_OPTIONS} ABSOLUTE)
  endif()
  add_custom_command(
    OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/${name}.pb.c ${CMAKE_CURRENT_BINARY_DIR}/${name}.pb.h
    COMMAND ${NANOPB_GENERATOR} -q -I ${proto_dir} -D ${CMAKE_CURRENT_BINARY_DIR}
            $<$<BOOL:${options_abs}>:-f> $<$<BOOL:${options_abs}>:${options_abs}> ${proto_abs}
    DEPENDS ${proto_abs} ${options_abs}
    COMMENT "nanopb: generating ${name}.pb.c")
  set(${out_var} ${CMAKE_CURRENT_BINARY_DIR}/${name}.pb.c PARENT_SCOPE)
endfunction()
