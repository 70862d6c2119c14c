# The node images of an MPS2 board (CMSDK UART and SysTick; this folder's startup and main), shared
# by the AN386 (Cortex-M4, this folder) and the AN505 (Cortex-M33, ../mps2_an505). A board's
# CMakeLists.txt sets TINYEDGE_MPS2_LD_TEMPLATE (its memory map, with the RAM budget) and
# TINYEDGE_MPS2_BOARD_DEFINES (board.h's values; empty for the AN386), includes this file, then
# calls tinyedge_mps2_port() and tinyedge_mps2_firmware_variants().
#
# TINYEDGE_FW_VARIANTS: list of <name>|<model.tem or empty>|<RAM budget bytes>[|<arena bytes>]. Each
# variant is one image, <name>.elf, whose linker script holds the whole node to that RAM budget. The
# arena is the model's own unless a bigger one is given, room for the models updates will bring.
set(TINYEDGE_FW_VARIANTS "tinyedge-fw||16384" CACHE STRING "Firmware images: name|model.tem|ram_bytes[|arena_bytes];...")
# 4 KB of stack on both boards: an update's self-test runs the model below the OTA client's frames,
# deeper than an ordinary inference, and 3 KB overflowed there. The M33 faulted on its stack limit
# (MSPLIM) mid-update; the M4 has no limit register and its stack sits above the arena, so there the
# same overflow wrote silently into the top of the arena.
set(TINYEDGE_FW_STACK_BYTES 4096 CACHE STRING "Stack reserved in every firmware image")
set(TINYEDGE_FW_FLEET_KEY "" CACHE FILEPATH "Fleet public key (PEM) the images trust for updates; none: every offer is refused")
set(TINYEDGE_FW_ROLLBACK_KEY "" CACHE FILEPATH
    "Rollback public key (PEM, the gateway's --rollback-key) the images trust for rollback grants only; none: no grants")
set(TINYEDGE_FW_LINK_KEY "" CACHE FILEPATH "The node's link key (64 hex digits, tinyedge keys link); none: serial links never bind")
set(TINYEDGE_FW_NODE_ID "mps2-1" CACHE STRING "Node id the images report (the link key is this node's)")
set(TINYEDGE_FW_NODE_BLOB "" CACHE FILEPATH
    "The node's config blob (tinyedge fleet provision --decryption-key): its payload decryption key is built in; none: encrypted offers are refused")

enable_language(ASM)
include(${CMAKE_CURRENT_LIST_DIR}/fleet_key.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/link_key.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/decryption_key.cmake)

# tinyedge_mps2_port_board: the board support (UART, SysTick, semihosting, startup, timed engine),
# no secrets; tinyedge_mps2_port: with the images' built-in keys.
function(tinyedge_mps2_port)
  set(here ${CMAKE_CURRENT_FUNCTION_LIST_DIR})
  add_library(tinyedge_mps2_port_board STATIC ${here}/cmsdk_uart.cpp ${here}/systick.cpp ${here}/semihost.cpp
                                              ${here}/startup.cpp ${here}/timed_engine.cpp)
  target_compile_definitions(tinyedge_mps2_port_board PUBLIC ${TINYEDGE_MPS2_BOARD_DEFINES})
  target_link_libraries(tinyedge_mps2_port_board PUBLIC tinyedge_app_ota)
  tinyedge_freestanding(tinyedge_mps2_port_board)

  tinyedge_mps2_fleet_key("${TINYEDGE_FW_FLEET_KEY}" "${TINYEDGE_FW_ROLLBACK_KEY}" ${CMAKE_CURRENT_BINARY_DIR}/fleet_key.cpp)
  tinyedge_mps2_link_key("${TINYEDGE_FW_LINK_KEY}" ${CMAKE_CURRENT_BINARY_DIR}/link_key.cpp)
  tinyedge_mps2_decryption_key("${TINYEDGE_FW_NODE_BLOB}" "${TINYEDGE_FW_NODE_ID}"
                               ${CMAKE_CURRENT_BINARY_DIR}/decryption_key.cpp)
  add_library(tinyedge_mps2_port STATIC ${CMAKE_CURRENT_BINARY_DIR}/fleet_key.cpp ${CMAKE_CURRENT_BINARY_DIR}/link_key.cpp
                                        ${CMAKE_CURRENT_BINARY_DIR}/decryption_key.cpp)
  target_link_libraries(tinyedge_mps2_port PUBLIC tinyedge_mps2_port_board)
  tinyedge_freestanding(tinyedge_mps2_port)
endfunction()

# Reads a little-endian uint32 at `offset` of a file.
function(_tinyedge_read_u32 file offset out_var)
  file(READ "${file}" hex OFFSET ${offset} LIMIT 4 HEX)
  string(SUBSTRING "${hex}" 0 2 b0)
  string(SUBSTRING "${hex}" 2 2 b1)
  string(SUBSTRING "${hex}" 4 2 b2)
  string(SUBSTRING "${hex}" 6 2 b3)
  math(EXPR value "0x${b3}${b2}${b1}${b0}")
  set(${out_var} ${value} PARENT_SCOPE)
endfunction()

# The enrolled-class table of an enrolling image: two banks of two 4 KB pages, each bank holding
# 4 classes of up to 10 examples of a 160-byte input (the tone word model; bank header 32 B, entry
# 40 B + prototype + examples). A bigger model input fills it sooner: a full table is refused.
set(TINYEDGE_FW_CLASS_TABLE_BYTES 16384 CACHE STRING "Flash for the enrolled-class table in enrolling images")

function(tinyedge_mps2_firmware name model ram_bytes min_arena audio detector_ram enroll_recording enroll_workspace
         enroll_examples)
  set(here ${CMAKE_CURRENT_FUNCTION_LIST_DIR})
  set(arena 0)
  set(slot 65536)
  set(sources ${here}/main.cpp)
  if(model)
    if(NOT EXISTS "${model}")
      message(FATAL_ERROR "firmware ${name}: model ${model} does not exist")
    endif()
    file(READ "${model}" magic OFFSET 0 LIMIT 4 HEX)
    if(NOT magic STREQUAL "54454d31")
      message(FATAL_ERROR "firmware ${name}: ${model} is not a .tem model (magic ${magic})")
    endif()
    _tinyedge_read_u32("${model}" 20 arena)  # TemHeader.arena_bytes
    file(SIZE "${model}" model_bytes)
    # A slot holds the model with 25 % room to grow, in 4 KB pages.
    math(EXPR slot "((${model_bytes} * 5 / 4 + 4095) / 4096) * 4096")
    if(slot LESS 65536)
      set(slot 65536)
    endif()
    set(TINYEDGE_MODEL_FILE "${model}")
    configure_file(${here}/model_blob.S.in ${CMAKE_CURRENT_BINARY_DIR}/${name}_model.S @ONLY)
    list(APPEND sources ${CMAKE_CURRENT_BINARY_DIR}/${name}_model.S)
    set_source_files_properties(${CMAKE_CURRENT_BINARY_DIR}/${name}_model.S PROPERTIES OBJECT_DEPENDS "${model}")
  endif()
  if(audio STREQUAL "uart1")
    # A speech image whose microphone is UART1: PCM streamed in by the host (uart_microphone.h).
    list(APPEND sources ${here}/uart_microphone.cpp)
  elseif(audio)
    # A speech image: the recording in flash is its microphone, with detector_ram bytes of RAM
    # for the front-end and detector.
    set(TINYEDGE_AUDIO_FILE "${audio}")
    configure_file(${here}/audio_blob.S.in ${CMAKE_CURRENT_BINARY_DIR}/${name}_audio.S @ONLY)
    list(APPEND sources ${CMAKE_CURRENT_BINARY_DIR}/${name}_audio.S)
    set_source_files_properties(${CMAKE_CURRENT_BINARY_DIR}/${name}_audio.S PROPERTIES OBJECT_DEPENDS "${audio}")
  endif()
  set(TINYEDGE_CLASS_TABLE_BYTES 0)
  if(enroll_recording)
    # An enrolling speech image: EnrollCommands on the UART0 bearer, examples from the
    # enrollment recording in flash, the class table after the slot store, the flash kept in a
    # host file (semihost_flash.h).
    set(TINYEDGE_ENROLL_RECORDING_FILE "${enroll_recording}")
    configure_file(${here}/enroll_recording_blob.S.in ${CMAKE_CURRENT_BINARY_DIR}/${name}_enroll.S @ONLY)
    list(APPEND sources ${CMAKE_CURRENT_BINARY_DIR}/${name}_enroll.S ${here}/semihost_flash.cpp)
    set_source_files_properties(${CMAKE_CURRENT_BINARY_DIR}/${name}_enroll.S PROPERTIES OBJECT_DEPENDS "${enroll_recording}")
    set(TINYEDGE_CLASS_TABLE_BYTES ${TINYEDGE_FW_CLASS_TABLE_BYTES})
  endif()
  if(min_arena GREATER arena)
    set(arena ${min_arena})
  endif()
  math(EXPR arena "(${arena} + 15) / 16 * 16")
  set(TINYEDGE_RAM_BYTES ${ram_bytes})
  set(TINYEDGE_ARENA_BYTES ${arena})
  set(TINYEDGE_STACK_BYTES ${TINYEDGE_FW_STACK_BYTES})
  if(enroll_recording)
    # An enrollment runs below the node's downlink handling with two whole class-table images
    # (the Enroller's next table and the one the ClassTable writes, 1,356 B each) and the examples'
    # embeddings (1,280 B) on the stack: in 4 KB it ran into the arena (the M4 has no stack limit).
    math(EXPR TINYEDGE_STACK_BYTES "${TINYEDGE_FW_STACK_BYTES} + 4096")
  endif()
  # The store: two slots, two boot-record pages and up to 14 journal pages.
  math(EXPR TINYEDGE_STORE_BYTES "2 * ${slot} + 16 * 4096")
  set(ld ${CMAKE_CURRENT_BINARY_DIR}/${name}.ld)
  configure_file(${TINYEDGE_MPS2_LD_TEMPLATE} ${ld} @ONLY)

  add_executable(${name} ${sources})
  target_compile_definitions(${name} PRIVATE "TINYEDGE_NODE_ID=\"${TINYEDGE_FW_NODE_ID}\"")
  if(audio)
    target_compile_definitions(${name} PRIVATE TINYEDGE_FW_DETECTOR_RAM=${detector_ram})
  endif()
  if(audio STREQUAL "uart1")
    target_compile_definitions(${name} PRIVATE TINYEDGE_FW_UART_MICROPHONE=1)
  endif()
  if(enroll_recording)
    target_compile_definitions(${name} PRIVATE TINYEDGE_FW_ENROLL_WORKSPACE=${enroll_workspace}
                                               TINYEDGE_FW_ENROLL_EXAMPLES=${enroll_examples})
    target_link_libraries(${name} PRIVATE tinyedge_app_enroll)
  endif()
  set_target_properties(${name} PROPERTIES SUFFIX ".elf" LINK_DEPENDS ${ld})
  target_link_libraries(${name} PRIVATE tinyedge_mps2_port)
  tinyedge_freestanding(${name})
  target_link_options(${name} PRIVATE -nostartfiles --specs=nano.specs -T${ld} -Wl,-Map=${name}.map
                      -Wl,--print-memory-usage)
  add_custom_command(TARGET ${name} POST_BUILD
    COMMAND ${CMAKE_SIZE} $<TARGET_FILE:${name}>
    COMMAND ${CMAKE_COMMAND} -DSIZE=${CMAKE_SIZE} -DELF=$<TARGET_FILE:${name}> -DBUDGET=${ram_bytes}
            -DCLASS_TABLE=${TINYEDGE_CLASS_TABLE_BYTES} -P ${here}/size_report.cmake
    COMMENT "${name}: RAM budget ${ram_bytes} B (arena ${arena} B, stack ${TINYEDGE_STACK_BYTES} B, store ${TINYEDGE_STORE_BYTES} B)")
endfunction()

function(tinyedge_mps2_firmware_variants)
  foreach(variant IN LISTS TINYEDGE_FW_VARIANTS)
    string(REPLACE "|" ";" parts "${variant}")
    list(LENGTH parts n)
    if(NOT (n EQUAL 3 OR n EQUAL 4 OR n EQUAL 6 OR n EQUAL 9))
      message(FATAL_ERROR
        "TINYEDGE_FW_VARIANTS entry '${variant}' is not name|model.tem|ram_bytes[|arena_bytes[|audio.raw or uart1|detector_ram"
        "[|enroll_recording.raw|enroll_workspace_bytes|enroll_examples_bytes]]]")
    endif()
    list(GET parts 0 fw_name)
    list(GET parts 1 fw_model)
    list(GET parts 2 fw_ram)
    set(fw_arena 0)
    if(n GREATER_EQUAL 4)
      list(GET parts 3 fw_arena)
    endif()
    set(fw_audio "")
    set(fw_detector_ram 0)
    if(n GREATER_EQUAL 6)
      list(GET parts 4 fw_audio)
      list(GET parts 5 fw_detector_ram)
    endif()
    # An enrolling image: its enrollment recording and the RAM for the front-end workspace and
    # the examples of one enrollment.
    set(fw_enroll "")
    set(fw_enroll_workspace 0)
    set(fw_enroll_examples 0)
    if(n EQUAL 9)
      list(GET parts 6 fw_enroll)
      list(GET parts 7 fw_enroll_workspace)
      list(GET parts 8 fw_enroll_examples)
    endif()
    tinyedge_mps2_firmware(${fw_name} "${fw_model}" ${fw_ram} ${fw_arena} "${fw_audio}" ${fw_detector_ram}
                           "${fw_enroll}" ${fw_enroll_workspace} ${fw_enroll_examples})
  endforeach()
endfunction()

# TINYEDGE_FW_VECTORS (tests only): list of <name>|<model.tem>|<vectors dir>; each builds <name>.elf,
# the runtime on this board on TensorFlow Lite Micro's reference vectors (in_000..004.bin,
# out_000..004.bin): tests/runtime/m4/model_vectors.cpp, which refuses to run without the DSP
# extension, prints RESULT PASS when every output equals TFLM's and every layer the reference
# kernels', and exits qemu.
set(TINYEDGE_FW_VECTORS "" CACHE STRING "Reference-vector test images: name|model.tem|vectors-dir;... (tests)")
function(tinyedge_mps2_vectors_image)
  foreach(entry IN LISTS TINYEDGE_FW_VECTORS)
    _tinyedge_mps2_vectors_image("${entry}")
  endforeach()
endfunction()

function(_tinyedge_mps2_vectors_image entry)
  string(REPLACE "|" ";" parts "${entry}")
  list(LENGTH parts n)
  if(NOT n EQUAL 3)
    message(FATAL_ERROR "TINYEDGE_FW_VECTORS entry '${entry}' is not name|model.tem|vectors-dir")
  endif()
  list(GET parts 0 name)
  list(GET parts 1 model)
  list(GET parts 2 vectors)
  set(blobs "")
  foreach(kind in out)
    foreach(i 0 1 2 3 4)
      set(file "${vectors}/${kind}_00${i}.bin")
      if(NOT EXISTS "${file}")
        message(FATAL_ERROR "TINYEDGE_FW_VECTORS: ${file} does not exist")
      endif()
      list(APPEND blobs "${file}")
      string(APPEND incbin_${kind} "  .incbin \"${file}\"\n")
    endforeach()
  endforeach()
  set(asm ${CMAKE_CURRENT_BINARY_DIR}/${name}_blobs.S)
  file(CONFIGURE OUTPUT ${asm} CONTENT "/* Generated: the model and its reference vectors for ${name}. */
  .section .rodata.${name}_blobs, \"a\"
  .balign 16
  .global _binary_model_blob_start, _binary_model_blob_end
  .global _binary_inputs_blob_start, _binary_inputs_blob_end
  .global _binary_outputs_blob_start, _binary_outputs_blob_end
_binary_model_blob_start:
  .incbin \"${model}\"
_binary_model_blob_end:
_binary_inputs_blob_start:
${incbin_in}_binary_inputs_blob_end:
_binary_outputs_blob_start:
${incbin_out}_binary_outputs_blob_end:
")
  set_source_files_properties(${asm} PROPERTIES OBJECT_DEPENDS "${model};${blobs}")
  # Two arenas of 128 KB and a 1 MB model copy (model_vectors.cpp; the MLPerf Tiny models are at
  # most 320 KB, with or without --m4-blocked-weights): 2 MB of the boards' 4 MB RAM, no slot store.
  set(TINYEDGE_RAM_BYTES 2097152)
  set(TINYEDGE_ARENA_BYTES 0)
  set(TINYEDGE_STACK_BYTES 8192)
  set(TINYEDGE_STORE_BYTES 4096)
  set(TINYEDGE_CLASS_TABLE_BYTES 0)
  set(ld ${CMAKE_CURRENT_BINARY_DIR}/${name}.ld)
  configure_file(${TINYEDGE_MPS2_LD_TEMPLATE} ${ld} @ONLY)
  add_executable(${name} ${PROJECT_SOURCE_DIR}/tests/runtime/m4/model_vectors.cpp ${asm})
  set_target_properties(${name} PROPERTIES SUFFIX ".elf" LINK_DEPENDS ${ld})
  target_link_libraries(${name} PRIVATE tinyedge_mps2_port_board)
  tinyedge_freestanding(${name})
  target_link_options(${name} PRIVATE -nostartfiles --specs=nano.specs -T${ld})
endfunction()

# raw-input (tests only): the runtime behind the node's text, motion and camera front-ends, reading a
# .tem and its raw input (text lines, sensor samples, frames) over semihosting:
# tests/qemu/raw_input_m4.cpp, driven by tests/qemu/raw_input_m4_test.cpp. One image for every model.
function(tinyedge_mps2_raw_input_image)
  set(TINYEDGE_RAM_BYTES 1048576)
  set(TINYEDGE_ARENA_BYTES 0)
  set(TINYEDGE_STACK_BYTES 8192)
  set(TINYEDGE_STORE_BYTES 4096)
  set(TINYEDGE_CLASS_TABLE_BYTES 0)
  set(ld ${CMAKE_CURRENT_BINARY_DIR}/raw-input.ld)
  configure_file(${TINYEDGE_MPS2_LD_TEMPLATE} ${ld} @ONLY)
  add_executable(raw-input ${PROJECT_SOURCE_DIR}/tests/qemu/raw_input_m4.cpp)
  set_target_properties(raw-input PROPERTIES SUFFIX ".elf" LINK_DEPENDS ${ld})
  target_link_libraries(raw-input PRIVATE tinyedge_mps2_port_board tinyedge_text tinyedge_motion tinyedge_camera)
  tinyedge_freestanding(raw-input)
  target_link_options(raw-input PRIVATE -nostartfiles --specs=nano.specs -T${ld} -Wl,--print-memory-usage)
  add_custom_command(TARGET raw-input POST_BUILD COMMAND ${CMAKE_SIZE} $<TARGET_FILE:raw-input>)
endfunction()
