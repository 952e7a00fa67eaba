// ptx.cuh — the inline-PTX helpers of the tensor-core kernels: mma.sync
// m16n8k16 (bf16 in, fp32 accumulate), ldmatrix.x4 (plain and .trans) and
// cp.async with its commit and wait. Every warp-level or asynchronous
// instruction the flash kernels (attention_flash_kernels.cuh) issue is here.
//
// The one design decision: this file holds only the instructions, nothing of
// the kernels' logic, so tests/emu/cuda_emu.h can replace exactly these
// functions with host emulations written from the PTX ISA and run the kernels'
// own code on the host.
#pragma once

#include <stdint.h>

namespace {

// D (16×8, fp32) += A (16×16, bf16) · B (16×8, bf16).
__device__ __forceinline__ void mma_bf16(float d[4], const uint32_t a[4], const uint32_t b[2]) {
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// ldmatrix.x4: four 8×8 matrices, lane l giving the address of one row
// (flash_schedule.h says which); register m gets matrix m's elements.
__device__ __forceinline__ void ldsm_x4(uint32_t r[4], const uint16_t *row) {
    const uint32_t a = (uint32_t)__cvta_generic_to_shared(row);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(a)
                 : "memory");
}
__device__ __forceinline__ void ldsm_x4_trans(uint32_t r[4], const uint16_t *row) {
    const uint32_t a = (uint32_t)__cvta_generic_to_shared(row);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(a)
                 : "memory");
}

// cp.async.cg: starts copying 16 bytes from global to shared memory (both
// 16-byte aligned); only src_bytes (0 … 16) are read, the rest are zeros.
// commit_group closes this thread's copies issued since the last commit into a
// group; wait_group N returns when at most the N newest groups are pending.
__device__ __forceinline__ void cp_async16(void *smem, const void *gmem, int src_bytes) {
    const uint32_t s = (uint32_t)__cvta_generic_to_shared(smem);
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(__cvta_generic_to_global(gmem)),
                 "r"(src_bytes)
                 : "memory");
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
template <int N>
__device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

}  // namespace
