// embedding.c — token embedding lookup and its gradient.
// The backward scatters rows into dwte; repeated tokens would race if threads
// split the tokens, so threads split the channels instead (deterministic).
// In bf16 the table's compute copy and dout are bf16, dwte fp32.
#include "backend/cpu/cpu.h"

#include <string.h>

static inline void embedding_fwd(void *out, const void *wte, const int *tok, int N, int C, int bf) {
    size_t es = bf ? 2 : 4;
#pragma omp for schedule(static)
    for (int n = 0; n < N; n++)
        memcpy((char *)out + (size_t)n * C * es, (const char *)wte + (size_t)tok[n] * C * es, (size_t)C * es);
}

static inline void embedding_bwd(float *dwte, const void *dout, const int *tok, int N, int C, int bf) {
    enum { CHUNK = 64 };
    int n_chunks = (C + CHUNK - 1) / CHUNK;
#pragma omp for schedule(static)
    for (int ch = 0; ch < n_chunks; ch++) {
        int c0 = ch * CHUNK, c1 = c0 + CHUNK < C ? c0 + CHUNK : C;
        for (int n = 0; n < N; n++) {
            float *dst = dwte + (size_t)tok[n] * C;
            for (int c = c0; c < c1; c++) dst[c] += cpu_ld(dout, (size_t)n * C + c, bf);
        }
    }
}

void cpu_embedding_fwd(void *out, const void *wte, const int *tok, int N, int C) {
#pragma omp parallel
    embedding_fwd(out, wte, tok, N, C, 0);
}
void cpu_embedding_fwd_bf16(void *out, const void *wte, const int *tok, int N, int C) {
#pragma omp parallel
    embedding_fwd(out, wte, tok, N, C, 1);
}
void cpu_embedding_bwd(float *dwte, const void *dout, const int *tok, int N, int C) {
#pragma omp parallel
    embedding_bwd(dwte, dout, tok, N, C, 0);
}
void cpu_embedding_bwd_bf16(float *dwte, const void *dout, const int *tok, int N, int C) {
#pragma omp parallel
    embedding_bwd(dwte, dout, tok, N, C, 1);
}
