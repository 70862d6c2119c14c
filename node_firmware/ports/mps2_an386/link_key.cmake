# The node's link key built into the firmware (TINYEDGE_FW_LINK_KEY: a file of 64 hex digits, as
# `tinyedge keys link` writes it; the gateway holds the same file under its link_keys directory).
# Decoded here, at configure time, so the image carries the 32 bytes and no parser.

# Writes `out_cpp`, which defines built_in_link_key(): the key of `file`, or empty when file is "".
function(tinyedge_mps2_link_key file out_cpp)
  set(TINYEDGE_LINK_KEY_BODY "return {};  // no key built in")
  if(file)
    if(NOT EXISTS "${file}")
      message(FATAL_ERROR "TINYEDGE_FW_LINK_KEY: ${file} does not exist")
    endif()
    file(READ "${file}" text)
    string(STRIP "${text}" text)
    if(NOT text MATCHES "^[0-9a-fA-F]+$")
      message(FATAL_ERROR "TINYEDGE_FW_LINK_KEY: ${file} is not a link key (64 hex digits)")
    endif()
    string(LENGTH "${text}" length)
    if(NOT length EQUAL 64)
      message(FATAL_ERROR "TINYEDGE_FW_LINK_KEY: ${file} holds ${length} hex digits, a link key has 64")
    endif()
    string(REGEX REPLACE "([0-9a-fA-F][0-9a-fA-F])" "0x\\1," bytes "${text}")
    set(TINYEDGE_LINK_KEY_BODY "static constexpr uint8_t kKey[32] = {${bytes}};\n  return kKey;")
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${file}")
  endif()
  configure_file(${CMAKE_CURRENT_FUNCTION_LIST_DIR}/link_key.cpp.in "${out_cpp}" @ONLY)
endfunction()
