find_package(GTest REQUIRED)
include(GoogleTest)

# tinyedge_add_gtest(<name> LABELS <l>... SOURCES <src>... LIBS <lib>... [TIMEOUT s]
#                    [EACH <gtest filter> FOLD <gtest filter> FOLD_NAME <suffix> FOLD_TIMEOUT s])
# One GoogleTest binary, registered per test case with the given CTest labels.
# With FOLD, the cases matching FOLD run as one CTest test, <name>.<FOLD_NAME>, in one process
# (cases that share something costly the process starts once, e.g. a PostgreSQL server), and only
# the cases matching EACH are registered one by one. The two filters must cover every case between
# them: gtest cannot express "everything FOLD leaves", so the caller writes both.
function(tinyedge_add_gtest name)
  cmake_parse_arguments(ARG "" "TIMEOUT;EACH;FOLD;FOLD_NAME;FOLD_TIMEOUT" "LABELS;SOURCES;LIBS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main tinyedge_warnings)
  set(_env "TINYEDGE_SHARED_MODELS=${PROJECT_SOURCE_DIR}/../shared/models")
  set(_filter "")
  if(ARG_FOLD)
    if(NOT ARG_EACH OR NOT ARG_FOLD_NAME OR NOT ARG_FOLD_TIMEOUT)
      message(FATAL_ERROR "tinyedge_add_gtest(${name}): FOLD needs EACH, FOLD_NAME and FOLD_TIMEOUT")
    endif()
    set(_filter TEST_FILTER "${ARG_EACH}")
    add_test(NAME ${name}.${ARG_FOLD_NAME} COMMAND ${name} "--gtest_filter=${ARG_FOLD}")
    set_tests_properties(${name}.${ARG_FOLD_NAME} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_FOLD_TIMEOUT}
                                                             ENVIRONMENT "${_env}")
  endif()
  gtest_discover_tests(${name} ${_filter}
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
               ENVIRONMENT "${_env}"
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
