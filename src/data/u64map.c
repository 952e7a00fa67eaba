// u64map.c — the 64-bit-key hash map of u64map.h.
#include "data/u64map.h"

#include <stdlib.h>

#include "core/err.h"

uint64_t slm_u64_mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

void slm_u64map_init(slm_u64map *m, size_t cap) {
    m->cap = cap;
    m->n = 0;
    m->keys = slm_xcalloc(cap, sizeof(uint64_t));
    m->vals = slm_xcalloc(cap, sizeof(uint32_t));
}

void slm_u64map_free(slm_u64map *m) {
    free(m->keys);
    free(m->vals);
}

static size_t map_slot(const slm_u64map *m, uint64_t key) {
    size_t i = slm_u64_mix(key) & (m->cap - 1);
    while (m->keys[i] && m->keys[i] != key + 1) i = (i + 1) & (m->cap - 1);
    return i;
}

const uint32_t *slm_u64map_find(const slm_u64map *m, uint64_t key) {
    size_t i = map_slot(m, key);
    return m->keys[i] ? &m->vals[i] : NULL;
}

static void grow(slm_u64map *m) {
    slm_u64map bigger;
    slm_u64map_init(&bigger, m->cap * 2);
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i]) {
            size_t j = map_slot(&bigger, m->keys[i] - 1);
            bigger.keys[j] = m->keys[i];
            bigger.vals[j] = m->vals[i];
        }
    bigger.n = m->n;
    slm_u64map_free(m);
    *m = bigger;
}

uint32_t *slm_u64map_get(slm_u64map *m, uint64_t key, int *isnew) {
    if (2 * (m->n + 1) > m->cap) grow(m);
    size_t i = map_slot(m, key);
    *isnew = !m->keys[i];
    if (*isnew) {
        m->keys[i] = key + 1;
        m->vals[i] = 0;
        m->n++;
    }
    return &m->vals[i];
}
