// embedding_kernels.cuh — the token embedding's kernels: the lookup (bf16
// rows) and its gradient into the fp32 dwte. The backward must be
// deterministic, and repeated tokens would make float atomics add in a varying
// order; so the launcher (embedding.cu) sorts the positions by token (CUB's
// radix sort, stable), and each run of equal tokens is summed by one block, in
// position order, into its vocabulary row: no atomics at all.
// Device code only: embedding.cu launches it, tests/emu/test_kernels_emu.cpp
// runs it on the host.
#pragma once
#include "backend/cuda/kernels.cuh"

__global__ static void embedding_fwd_kernel(bf16 *out, const bf16 *wte, const int *tok, int N, int C) {
    GRID_STRIDE(i, (size_t)N * C) {
        size_t n = i / C, c = i % C;
        out[i] = wte[(size_t)tok[n] * C + c];
    }
}

__global__ static void iota_kernel(int *x, int n) { GRID_STRIDE(i, (size_t)n) x[i] = (int)i; }

// Threads of embedding_bwd_kernel's blocks for rows of C: a warp multiple, at most 256.
static inline int embedding_bwd_threads(int C) { return C >= 256 ? 256 : (C + 31) / 32 * 32; }

// Grid: N blocks. Block i starts work only where sorted position i begins a
// run of equal tokens; it adds the run's rows, in position order, to that
// token's row.
__global__ static void embedding_bwd_kernel(float *dwte, const bf16 *dout, const int *tok_sorted, const int *pos_sorted,
                                            int N, int C) {
    const int i = blockIdx.x, token = tok_sorted[i];
    if (i > 0 && tok_sorted[i - 1] == token) return;
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        float acc = dwte[(size_t)token * C + c];
        for (int j = i; j < N && tok_sorted[j] == token; j++) acc += ld(dout, (size_t)pos_sorted[j] * C + c);
        dwte[(size_t)token * C + c] = acc;
    }
}
