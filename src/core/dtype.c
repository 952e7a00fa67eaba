// dtype.c — sizes and names of the element types (dtype.h).
#include "core/dtype.h"

#include <string.h>

static const char *const names[] = {"fp32", "fp64", "bf16"};
static const size_t sizes[] = {4, 8, 2};

size_t slm_dtype_bytes(slm_dtype t) { return sizes[t]; }

const char *slm_dtype_name(slm_dtype t) { return names[t]; }

int slm_dtype_parse(const char *name, slm_dtype *out) {
    for (int t = 0; t < (int)(sizeof names / sizeof names[0]); t++)
        if (!strcmp(name, names[t])) {
            *out = (slm_dtype)t;
            return 0;
        }
    return -1;
}

float slm_bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}
