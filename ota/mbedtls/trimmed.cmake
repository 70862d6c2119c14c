# tinyedge_mbedtls_trimmed(<target> [DEFINES d...]): the verify-only Mbed TLS built from Debian's
# source package (unpacked by scripts/setup under TINYEDGE_DEPS_DIR) with our config header.
# Sets TINYEDGE_MBEDTLS_SOURCE_DIR in the caller (empty if the sources are missing).
function(tinyedge_mbedtls_trimmed target)
  cmake_parse_arguments(ARG "" "" "DEFINES" ${ARGN})
  file(GLOB _dirs LIST_DIRECTORIES true "${TINYEDGE_DEPS_DIR}/Mbed-TLS-mbedtls-*" "${TINYEDGE_DEPS_DIR}/mbedtls-*")
  set(_src "")
  foreach(dir IN LISTS _dirs)
    if(EXISTS "${dir}/library/ecdsa.c")
      set(_src "${dir}")
    endif()
  endforeach()
  set(TINYEDGE_MBEDTLS_SOURCE_DIR "${_src}" PARENT_SCOPE)
  if(NOT _src)
    return()
  endif()
  set(_lib "${_src}/library")
  add_library(${target} STATIC
    ${_lib}/aes.c ${_lib}/asn1parse.c ${_lib}/asn1write.c ${_lib}/bignum.c ${_lib}/constant_time.c ${_lib}/ecdsa.c
    ${_lib}/ecp.c ${_lib}/ecp_curves.c ${_lib}/memory_buffer_alloc.c ${_lib}/platform.c
    ${_lib}/platform_util.c ${_lib}/sha256.c)
  target_include_directories(${target} SYSTEM BEFORE PUBLIC $<BUILD_INTERFACE:${_src}/include>
                                                         $<BUILD_INTERFACE:${CMAKE_CURRENT_FUNCTION_LIST_DIR}>)
  target_compile_definitions(${target} PUBLIC "MBEDTLS_CONFIG_FILE=\"tinyedge_mbedtls_config.h\"" ${ARG_DEFINES})
endfunction()
