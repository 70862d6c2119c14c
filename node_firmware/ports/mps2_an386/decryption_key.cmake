# The fleet's payload decryption key built into the firmware, taken from the node's config blob
# (TINYEDGE_FW_NODE_BLOB: nodes/<id>.json from `tinyedge fleet provision --decryption-key`), as the
# link key is from its file. Decoded here, at configure time, so the image carries the 32-byte
# scalar and its 8-byte key id in flash, and no JSON parser.

# Writes `out_cpp`, which defines built_in_decryption_key(): the blob's key, or nullptr when `blob`
# is "" or carries none. The blob must be `node_id`'s; a malformed field stops the configure
# naming that field.
function(tinyedge_mps2_decryption_key blob node_id out_cpp)
  set(TINYEDGE_DECRYPTION_KEY_BODY "return nullptr;  // no key built in")
  if(blob)
    if(NOT EXISTS "${blob}")
      message(FATAL_ERROR "TINYEDGE_FW_NODE_BLOB: ${blob} does not exist")
    endif()
    file(READ "${blob}" text)
    string(JSON blob_node ERROR_VARIABLE error GET "${text}" node_id)
    if(error)
      message(FATAL_ERROR "TINYEDGE_FW_NODE_BLOB: ${blob} is not a node config blob (node_id: ${error})")
    endif()
    if(NOT blob_node STREQUAL node_id)
      message(FATAL_ERROR "TINYEDGE_FW_NODE_BLOB: ${blob} is node ${blob_node}'s, the images are ${node_id}'s")
    endif()
    string(JSON scalar ERROR_VARIABLE missing GET "${text}" decryption_key)
    if(NOT missing)
      if(NOT scalar MATCHES "^[0-9a-fA-F]+$")
        message(FATAL_ERROR "TINYEDGE_FW_NODE_BLOB: ${blob}: decryption_key is not a P-256 private key (64 hex digits)")
      endif()
      string(LENGTH "${scalar}" length)
      if(NOT length EQUAL 64)
        message(FATAL_ERROR
                "TINYEDGE_FW_NODE_BLOB: ${blob}: decryption_key holds ${length} hex digits, a P-256 private key 64")
      endif()
      string(JSON key_id ERROR_VARIABLE error GET "${text}" decryption_key_id)
      if(error OR NOT key_id MATCHES "^[0-9a-f]+$")
        message(FATAL_ERROR "TINYEDGE_FW_NODE_BLOB: ${blob}: decryption_key_id is missing or not hex digits")
      endif()
      string(LENGTH "${key_id}" length)
      if(NOT length EQUAL 16)
        message(FATAL_ERROR "TINYEDGE_FW_NODE_BLOB: ${blob}: decryption_key_id holds ${length} hex digits, a key id 16")
      endif()
      string(REGEX REPLACE "([0-9a-fA-F][0-9a-fA-F])" "0x\\1," scalar_bytes "${scalar}")
      string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," id_bytes "${key_id}")
      set(TINYEDGE_DECRYPTION_KEY_BODY
          "static constexpr ota::DecryptionKey kKey{{${scalar_bytes}}, {${id_bytes}}};\n  return &kKey;")
    endif()
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${blob}")
  endif()
  configure_file(${CMAKE_CURRENT_FUNCTION_LIST_DIR}/decryption_key.cpp.in "${out_cpp}" @ONLY)
endfunction()
