// mem_cat.c — the names of the memory categories (mem_cat.h).
#include "core/mem_cat.h"

const char *const slm_mem_cat_names[SLM_MEM_NCAT] = {"params",    "grads", "optimizer", "activations",
                                                     "attention", "comm",  "workspace"};
