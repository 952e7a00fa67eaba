// mem_cat.h — the categories device memory is counted in: what the memory
// tracker (backend.h) keeps per category, what a result record splits its
// peak into, and what a prediction plans.
#pragma once

typedef enum {
    SLM_MEM_PARAMS,
    SLM_MEM_GRADS,
    SLM_MEM_OPTIMIZER,
    SLM_MEM_ACTIVATIONS,
    SLM_MEM_ATTENTION,  // what attention keeps beyond q, k, v and its output
    SLM_MEM_COMM,
    SLM_MEM_WORKSPACE,
    SLM_MEM_NCAT
} slm_mem_cat;

extern const char *const slm_mem_cat_names[SLM_MEM_NCAT];  // "params", "grads", ...
