// u64map.h — a hash map from 64-bit keys to 32-bit values, open addressing
// with linear probing (keys stored as key+1, 0 marks an empty slot, so every
// key but UINT64_MAX can be stored). Used by the tokenizers for pairs of token
// ids and for hashes of byte strings.
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t *keys;
    uint32_t *vals;
    size_t cap, n;  // cap: a power of two, at least twice n
} slm_u64map;

// cap: the initial number of slots, a power of two.
void slm_u64map_init(slm_u64map *m, size_t cap);
void slm_u64map_free(slm_u64map *m);
// The value of key, or NULL when absent.
const uint32_t *slm_u64map_find(const slm_u64map *m, uint64_t key);
// The value slot of key, inserted with value 0 (and *isnew = 1) when absent.
// The slot is valid until the next insertion.
uint32_t *slm_u64map_get(slm_u64map *m, uint64_t key, int *isnew);
// A well-mixed 64-bit hash of x (the map's own, for callers that hash first).
uint64_t slm_u64_mix(uint64_t x);
