// embedding.c — token embedding lookup and its gradient.
// The backward scatters rows into dwte; repeated tokens would race if threads
// split the tokens, so threads split the channels instead (deterministic).
#include "backend/cpu/cpu.h"

#include <string.h>

void cpu_embedding_fwd(void *out_, const void *wte_, const int *tok, int N, int C) {
    float *out = out_;
    const float *wte = wte_;
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) memcpy(out + (size_t)n * C, wte + (size_t)tok[n] * C, (size_t)C * sizeof(float));
}

void cpu_embedding_bwd(float *dwte, const void *dout_, const int *tok, int N, int C) {
    const float *dout = dout_;
    enum { CHUNK = 64 };
    int n_chunks = (C + CHUNK - 1) / CHUNK;
#pragma omp parallel for schedule(static)
    for (int ch = 0; ch < n_chunks; ch++) {
        int c0 = ch * CHUNK, c1 = c0 + CHUNK < C ? c0 + CHUNK : C;
        for (int n = 0; n < N; n++) {
            float *dst = dwte + (size_t)tok[n] * C;
            const float *src = dout + (size_t)n * C;
            for (int c = c0; c < c1; c++) dst[c] += src[c];
        }
    }
}
