# Post-build summary of a firmware image: flash (code vs model slots) and the RAM budget, from
# `arm-none-eabi-size -A` (Berkeley text/data/bss would mix the model slots into text/data).
# cmake -DSIZE=<arm-none-eabi-size> -DELF=<image> -DBUDGET=<bytes> [-DCLASS_TABLE=<bytes>] -P size_report.cmake
execute_process(COMMAND ${SIZE} -A ${ELF} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "size_report: ${SIZE} -A ${ELF} failed")
endif()
set(code 0)
foreach(name vectors text ARM.exidx init_array model_factory slots data bss arena stack)
  set(${name} 0)
  string(REPLACE "." "\\." pat "${name}")
  if(out MATCHES "\n\\.${pat} +([0-9]+)")
    set(${name} ${CMAKE_MATCH_1})
  endif()
endforeach()
math(EXPR code "${vectors} + ${text} + ${ARM.exidx} + ${init_array} + ${data}")
math(EXPR ram "${data} + ${bss} + ${arena} + ${stack}")
math(EXPR spare "${BUDGET} - ${ram}")
get_filename_component(img ${ELF} NAME)
if(NOT CLASS_TABLE)
  set(CLASS_TABLE 0)
endif()
math(EXPR slots "${slots} - ${CLASS_TABLE}")  # the section holds the class table after the store
set(classes "")
if(CLASS_TABLE GREATER 0)
  set(classes ", ${CLASS_TABLE} B enrolled-class table")
endif()
message("${img}: flash ${code} B code+rodata+data-init, ${model_factory} B shipped model, ${slots} B slot store${classes}; "
        "RAM ${ram} of ${BUDGET} B (data ${data}, bss ${bss}, arena ${arena}, stack ${stack}; ${spare} B spare)")
