// rng.h — the one random number generator: splitmix64 state, a u64 you can
// save in a checkpoint and restore for a bitwise-identical continuation.
#pragma once
#include <math.h>
#include <stdint.h>

typedef struct {
    uint64_t state;
} slm_rng;

static inline uint64_t slm_rng_u64(slm_rng *r) {
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// Uniform in [0, 1), 53 bits.
static inline double slm_rng_uniform(slm_rng *r) { return (double)(slm_rng_u64(r) >> 11) * 0x1.0p-53; }

// Standard normal (Box–Muller; one value per call, the pair's second discarded).
static inline double slm_rng_normal(slm_rng *r) {
    double u1 = 1.0 - slm_rng_uniform(r), u2 = slm_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
