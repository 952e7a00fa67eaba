// embedding.cu — the launchers of the token embedding (kernels and their
// design in embedding_kernels.cuh): the lookup, and the backward's sort of
// positions by token (CUB's radix sort, stable) before the per-token sums.
#include <cub/device/device_radix_sort.cuh>

#include "backend/cuda/cuda.h"
#include "backend/cuda/embedding_kernels.cuh"

void cuda_embedding_fwd(void *out, const void *wte, const int *tok, int N, int C) {
    embedding_fwd_kernel<<<elemwise_blocks((size_t)N * C), ELEMWISE_THREADS, 0, slm_cuda_stream()>>>(
        (bf16 *)out, (const bf16 *)wte, tok, N, C);
    CUDA_CHECK_LAUNCH();
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
    CUDA_CHECK(
        cub::DeviceRadixSort::SortPairs(buf + ints_bytes, cub_bytes, tok, tok_sorted, pos, pos_sorted, N, 0, 32, s));
    embedding_bwd_kernel<<<N, embedding_bwd_threads(C), 0, s>>>(dwte, (const bf16 *)dout, tok_sorted, pos_sorted, N, C);
    CUDA_CHECK_LAUNCH();
}
