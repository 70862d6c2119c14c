# Cortex-M33 (mps2-an505): Armv8-M Mainline with the DSP extension (GCC's cortex-m33 defines
# __ARM_FEATURE_DSP, so the runtime's DSP kernels are built), soft float like the M4.
set(TINYEDGE_ARM_CPU cortex-m33)
include(${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi.cmake)
