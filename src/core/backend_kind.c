// backend_kind.c — the names of the backend kinds (backend_kind.h).
#include "core/backend_kind.h"

#include <string.h>

const char *const slm_backend_names[SLM_BACKEND_NKINDS] = {"cpu", "cuda"};

int slm_backend_kind_parse(const char *name, slm_backend_kind *out) {
    for (int k = 0; k < SLM_BACKEND_NKINDS; k++)
        if (!strcmp(name, slm_backend_names[k])) {
            *out = (slm_backend_kind)k;
            return 0;
        }
    return -1;
}
