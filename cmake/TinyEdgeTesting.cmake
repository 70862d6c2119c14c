find_package(GTest REQUIRED)
include(GoogleTest)

# tinyedge_add_gtest(<name> LABELS <l>... SOURCES <src>... LIBS <lib>... [TIMEOUT s])
# One GoogleTest binary, registered per test case with the given CTest labels.
function(tinyedge_add_gtest name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "LABELS;SOURCES;LIBS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main tinyedge_warnings)
  gtest_discover_tests(${name}
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
               ENVIRONMENT "TINYEDGE_SHARED_MODELS=${PROJECT_SOURCE_DIR}/../shared/models"
    DISCOVERY_TIMEOUT 60)
endfunction()

# tinyedge_add_fuzzer(<name> SOURCES <src>... LIBS <lib>... [SECONDS s])
# A libFuzzer target (only with TINYEDGE_FUZZ and clang) and a bounded CTest run labelled fuzz.
function(tinyedge_add_fuzzer name)
  cmake_parse_arguments(ARG "" "SECONDS" "SOURCES;LIBS" ${ARGN})
  if(NOT TINYEDGE_FUZZ)
    return()
  endif()
  if(NOT ARG_SECONDS)
    set(ARG_SECONDS 20)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} tinyedge_warnings)
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  set(corpus ${CMAKE_CURRENT_BINARY_DIR}/${name}_corpus)
  add_test(NAME ${name}
           COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=1
                   $<TARGET_FILE:${name}> -max_total_time=${ARG_SECONDS} -seed=1 -print_final_stats=1 ${corpus})
  set_tests_properties(${name} PROPERTIES LABELS fuzz TIMEOUT ${ARG_SECONDS}0)
  file(MAKE_DIRECTORY ${corpus})
endfunction()
