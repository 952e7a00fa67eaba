// embedding.cu — token embedding lookup (bf16 rows) and its gradient into the
// fp32 dwte. The backward must be deterministic, and repeated tokens would
// make float atomics add in a varying order; so the positions are sorted by
// token (CUB's radix sort, stable), and each run of equal tokens is summed by
// one block, in position order, into its vocabulary row: no atomics at all.
#include <cub/device/device_radix_sort.cuh>

#include "backend/cuda/kernels.cuh"

__global__ static void embedding_fwd_kernel(bf16 *out, const bf16 *wte, const int *tok, int N, int C) {
    GRID_STRIDE(i, (size_t)N * C) {
        size_t n = i / C, c = i % C;
        out[i] = wte[(size_t)tok[n] * C + c];
    }
}

void cuda_embedding_fwd(void *out, const void *wte, const int *tok, int N, int C) {
    embedding_fwd_kernel<<<elemwise_blocks((size_t)N * C), ELEMWISE_THREADS, 0, slm_cuda_stream()>>>(
        (bf16 *)out, (const bf16 *)wte, tok, N, C);
    CUDA_CHECK_LAUNCH();
}

__global__ static void iota_kernel(int *x, int n) {
    GRID_STRIDE(i, (size_t)n) x[i] = (int)i;
}

// Block i starts work only where sorted position i begins a run of equal
// tokens; it adds the run's rows, in position order, to that token's row.
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

void cuda_embedding_bwd(float *dwte, const void *dout, const int *tok, int N, int C) {
    cudaStream_t s = slm_cuda_stream();
    // scratch: positions, sorted tokens, sorted positions, then CUB's own temporary storage
    size_t cub_bytes = 0, ints_bytes = ((size_t)3 * N * sizeof(int) + 255) / 256 * 256;  // CUB wants 256-byte alignment
    CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, cub_bytes, tok, (int *)nullptr, (const int *)nullptr,
                                               (int *)nullptr, N, 0, 32, s));
    char *buf = (char *)cuda_scratch(CUDA_SCRATCH_SORT, ints_bytes + cub_bytes);
    int *pos = (int *)buf;
    int *tok_sorted = pos + N, *pos_sorted = pos + 2 * (size_t)N;
    iota_kernel<<<elemwise_blocks((size_t)N), ELEMWISE_THREADS, 0, s>>>(pos, N);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cub::DeviceRadixSort::SortPairs(buf + ints_bytes, cub_bytes, tok, tok_sorted, pos, pos_sorted, N, 0, 32, s));
    int threads = C >= 256 ? 256 : (C + 31) / 32 * 32;
    embedding_bwd_kernel<<<N, threads, 0, s>>>(dwte, (const bf16 *)dout, tok_sorted, pos_sorted, N, C);
    CUDA_CHECK_LAUNCH();
}
