// ids.h — a growing list of token ids, as the Hugging Face tokenizer's
// steps append to it.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct {
    uint32_t *ids;
    size_t n, cap;
} slm_ids;

static inline void slm_ids_push(slm_ids *v, uint32_t id) {
    if (v->n == v->cap) {
        v->cap = v->cap ? 2 * v->cap : 1024;
        v->ids = slm_xrealloc(v->ids, v->cap * sizeof *v->ids);
    }
    v->ids[v->n++] = id;
}
