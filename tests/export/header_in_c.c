/* The exported header compiled as C11 (a firmware's main.c): it must stand alone there too. */
#include <stddef.h>

#include "tiny_model.h"

const uint8_t* tiny_model_from_c(size_t* size, uint32_t* arena) {
  *size = TINY_MODEL_BYTES;
  *arena = TINY_MODEL_ARENA_BYTES;
  return tiny_model;
}
