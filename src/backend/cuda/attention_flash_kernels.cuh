// attention_flash_kernels.cuh — the FlashAttention-2 (Dao, 2023) kernels for
// bf16 on tensor cores: causal attention in O(T) memory, forward and backward.
//
// Forward: a thread block of 4 warps takes 64 query rows of one (sequence,
// head), 16 rows per warp, and walks the key/value tiles of 64 keys up to the
// causal diagonal. S = Q·Kᵀ (mma.m16n8k16, fp32 accumulators) stays in
// registers; an online softmax keeps each row's running max and sum in fp32;
// P (rounded to bf16) feeds P·V straight from the registers that held S; O
// accumulates in fp32 registers. It writes O in bf16 and each row's lse.
// The next K/V tile is copied (cp.async) while the current one is used.
//
// Backward: D = rowsum(dO∘O) first; then a thread block per (sequence, kv
// head, 64-key tile) — each warp owns 16 keys — loops over the query heads of
// its group and the query tiles at or below the diagonal, recomputes Pᵀ from
// K, Q and the lse, and accumulates dV += Pᵀ·dO, dPᵀ = V·dOᵀ, dSᵀ = Pᵀ∘(dPᵀ − D),
// dK += dSᵀ·Q in registers: one block owns its keys' dK and dV, so they need
// no atomics and grouped heads sum without copies. dQ += dS·K goes through
// shared memory (dS) and atomicAdd into an fp32 accumulator, while the next
// query tile's Q and dO are copied in; a last kernel scales dQ and rounds it
// to bf16.
//
// The one design decision: every index — tiles visited, the mask, which
// (row, column) a lane's fragment element is — comes from flash_schedule.h,
// whose functions are tested on the host; the kernels only move data.
// Fragments are read from shared memory with ldmatrix (.trans where the
// operand is stored the other way round), rows padded by 8 elements so the
// eight 16-byte rows of each 8×8 matrix fall in different banks.
//
// The includer supplies the CUDA names and the PTX helpers (mma_bf16, ldsm_x4,
// ldsm_x4_trans, cp_async16, cp_async_commit, cp_async_wait) before including
// this file: attention_flash.cu with <cuda_bf16.h> and ptx.cuh under nvcc,
// tests/emu/test_flash_emu.cpp with tests/emu/cuda_emu.h, which emulates them
// on the host. The launchers are in attention_flash.cu.
#pragma once

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/flash_schedule.h"

namespace {

constexpr int kThreads = 128;  // 4 warps
constexpr int kWarpRows = 16;  // rows of one mma tile: each warp's share of a 64-row tile
constexpr int kBR = 64;        // query rows per tile
constexpr int kBC = 64;        // keys per tile
constexpr int kPad = 8;        // bf16 elements after each shared-memory row
constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) {
    return (uint32_t)__bfloat16_as_ushort(__float2bfloat16_rn(lo)) |
           ((uint32_t)__bfloat16_as_ushort(__float2bfloat16_rn(hi)) << 16);
}

__device__ __forceinline__ float bf16_bits_to_float(uint16_t x) { return __uint_as_float((uint32_t)x << 16); }

// A fragment of the 16×16 tile at base (row-major, ld elements per row).
__device__ __forceinline__ void load_a(uint32_t a[4], const uint16_t *base, int ld, int lane) {
    ldsm_x4(a, base + slm_flash_ldm_a_row(lane) * ld + slm_flash_ldm_a_col(lane));
}

// B fragments of the two 16×8 (k × n) tiles at base and 8 columns on (b[0..1],
// b[2..3]) whose element (k, n) is base[n·ld + k]: k contiguous, as K's rows
// are for Q·Kᵀ.
__device__ __forceinline__ void load_b2_nk(uint32_t b[4], const uint16_t *base, int ld, int lane) {
    ldsm_x4(b, base + slm_flash_ldm_bnk_n(lane) * ld + slm_flash_ldm_bnk_k(lane));
}

// The same for element (k, n) at base[k·ld + n]: n contiguous, as V's rows are
// for P·V.
__device__ __forceinline__ void load_b2_kn(uint32_t b[4], const uint16_t *base, int ld, int lane) {
    ldsm_x4_trans(b, base + slm_flash_ldm_bkn_k(lane) * ld + slm_flash_ldm_bkn_n(lane));
}

// The A fragment of k-slice j from the C fragments c[2j], c[2j+1] of the
// previous product, rounded to bf16.
__device__ __forceinline__ void c_to_a(uint32_t a[4], const float (*c)[4], int j) {
#pragma unroll
    for (int r = 0; r < 4; r++) {
        const float *t = c[2 * j + slm_flash_c_to_a_tile(2 * r)];
        a[r] = pack_bf16(t[slm_flash_c_to_a_elem(2 * r)], t[slm_flash_c_to_a_elem(2 * r + 1)]);
    }
}

// Starts copying rows row0 … row0+ROWS−1 of a [T, ld] tensor (g: its row 0,
// at the head's columns) into s [ROWS][HD+kPad]; rows at or past T become zeros
// (a zero-byte source fills the 16 bytes with zeros), so tails add nothing.
template <int HD, int ROWS>
__device__ __forceinline__ void load_tile(uint16_t *s, const uint16_t *g, size_t ld, int row0, int T) {
    constexpr int kChunks = HD / 8;  // 16-byte pieces of a row
    for (int c = threadIdx.x; c < ROWS * kChunks; c += kThreads) {
        const int r = c / kChunks, col = (c % kChunks) * 8, inside = row0 + r < T;
        cp_async16(s + r * (HD + kPad) + col, g + (size_t)(inside ? row0 + r : 0) * ld + col, inside ? 16 : 0);
    }
}

// Sum over the 4 lanes of a quad (they hold the same rows of a C fragment).
__device__ __forceinline__ float quad_sum(float x) {
    x += __shfl_xor_sync(0xffffffffu, x, 1);
    return x + __shfl_xor_sync(0xffffffffu, x, 2);
}
__device__ __forceinline__ float quad_max(float x) {
    x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 1));
    return fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 2));
}

template <int HD>
constexpr size_t fwd_smem_bytes() {
    return (size_t)(kBR + 4 * kBC) * (HD + kPad) * sizeof(uint16_t);  // Q, and K and V twice
}

// grid (query tiles, H, B). scale_log2 = log2(e)/sqrt(hd): scores in base 2.
template <int HD>
__global__ void __launch_bounds__(kThreads)
    flash_fwd_kernel(uint16_t *out, float *lse, const uint16_t *q, const uint16_t *k, const uint16_t *v, int T, int H,
                     int KVH, float scale_log2) {
    constexpr int LD = HD + kPad;
    extern __shared__ uint4 smem_raw[];
    uint16_t *q_s = (uint16_t *)smem_raw;  // [kBR][LD]
    uint16_t *k_s = q_s + kBR * LD;        // [2][kBC][LD]
    uint16_t *v_s = k_s + 2 * kBC * LD;    // [2][kBC][LD]
    const int b = blockIdx.z, h = blockIdx.y, warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int q0 = slm_flash_fwd_q_tile(blockIdx.x, slm_flash_n_tiles(T, kBR)) * kBR;
    const int kvh = slm_flash_kv_head(h, H, KVH), n_kv = slm_flash_fwd_kv_tiles(q0, kBR, kBC, T);
    const size_t ldq = (size_t)H * HD, ldkv = (size_t)KVH * HD;
    const uint16_t *qg = q + (size_t)b * T * ldq + (size_t)h * HD;
    const uint16_t *kg = k + (size_t)b * T * ldkv + (size_t)kvh * HD, *vg = v + (size_t)b * T * ldkv + (size_t)kvh * HD;

    load_tile<HD, kBR>(q_s, qg, ldq, q0, T);
    load_tile<HD, kBC>(k_s, kg, ldkv, 0, T);
    load_tile<HD, kBC>(v_s, vg, ldkv, 0, T);
    cp_async_commit();

    uint32_t qf[HD / 16][4];  // this warp's 16 query rows, as A fragments
    float o[HD / 8][4], m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};  // m, l: rows c_row(lane, 0) and +8
#pragma unroll
    for (int dt = 0; dt < HD / 8; dt++)
#pragma unroll
        for (int e = 0; e < 4; e++) o[dt][e] = 0.0f;

    for (int j = 0; j < n_kv; j++) {
        if (j + 1 < n_kv) {
            load_tile<HD, kBC>(k_s + ((j + 1) & 1) * kBC * LD, kg, ldkv, (j + 1) * kBC, T);
            load_tile<HD, kBC>(v_s + ((j + 1) & 1) * kBC * LD, vg, ldkv, (j + 1) * kBC, T);
        }
        cp_async_commit();  // possibly empty: the group count stays one per iteration
        cp_async_wait<1>();
        __syncthreads();
        if (j == 0)
#pragma unroll
            for (int kk = 0; kk < HD / 16; kk++) load_a(qf[kk], q_s + warp * kWarpRows * LD + kk * 16, LD, lane);
        const uint16_t *ks = k_s + (j & 1) * kBC * LD, *vs = v_s + (j & 1) * kBC * LD;

        float s[kBC / 8][4];  // S = Q·Kᵀ: 16 rows × 64 keys
#pragma unroll
        for (int nt = 0; nt < kBC / 8; nt++)
#pragma unroll
            for (int e = 0; e < 4; e++) s[nt][e] = 0.0f;
#pragma unroll
        for (int kk = 0; kk < HD / 16; kk++)
#pragma unroll
            for (int nt = 0; nt < kBC / 8; nt += 2) {
                uint32_t bf[4];
                load_b2_nk(bf, ks + nt * 8 * LD + kk * 16, LD, lane);
                mma_bf16(s[nt], qf[kk], bf);
                mma_bf16(s[nt + 1], qf[kk], bf + 2);
            }

        const int k0 = j * kBC, masked = slm_flash_tile_needs_mask(q0, kBR, k0, kBC, T);
        float mx[2] = {m[0], m[1]};
#pragma unroll
        for (int nt = 0; nt < kBC / 8; nt++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int row = q0 + warp * kWarpRows + slm_flash_frag_c_row(lane, e);
                const int key = k0 + nt * 8 + slm_flash_frag_c_col(lane, e);
                s[nt][e] = !masked || slm_flash_visible(row, key, T) ? s[nt][e] * scale_log2 : -INFINITY;
                mx[e >> 1] = fmaxf(mx[e >> 1], s[nt][e]);
            }
        float base[2];
#pragma unroll
        for (int r = 0; r < 2; r++) {
            mx[r] = quad_max(mx[r]);
            base[r] = mx[r] == -INFINITY ? 0.0f : mx[r];  // a row with no key yet: nothing to rescale
            const float corr = exp2f(m[r] - base[r]);
            m[r] = mx[r];
            l[r] *= corr;
#pragma unroll
            for (int dt = 0; dt < HD / 8; dt++) {
                o[dt][2 * r] *= corr;
                o[dt][2 * r + 1] *= corr;
            }
        }
#pragma unroll
        for (int nt = 0; nt < kBC / 8; nt++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                s[nt][e] = exp2f(s[nt][e] - base[e >> 1]);
                l[e >> 1] += s[nt][e];  // this lane's columns; the quad sums at the end
            }

#pragma unroll
        for (int kk = 0; kk < kBC / 16; kk++) {  // O += P·V
            uint32_t pa[4];
            c_to_a(pa, s, kk);
#pragma unroll
            for (int dt = 0; dt < HD / 8; dt += 2) {
                uint32_t bf[4];
                load_b2_kn(bf, vs + kk * 16 * LD + dt * 8, LD, lane);
                mma_bf16(o[dt], pa, bf);
                mma_bf16(o[dt + 1], pa, bf + 2);
            }
        }
        __syncthreads();  // the next iteration's copy overwrites this buffer
    }

#pragma unroll
    for (int r = 0; r < 2; r++) {
        l[r] = quad_sum(l[r]);
        const int row = q0 + warp * kWarpRows + slm_flash_frag_c_row(lane, 2 * r);
        if (row >= T) continue;
        const float inv = 1.0f / l[r];  // l ≥ 1: the row's max contributes exp2(0)
        uint16_t *og = out + ((size_t)b * T + row) * ldq + (size_t)h * HD;
#pragma unroll
        for (int dt = 0; dt < HD / 8; dt++)
            *(uint32_t *)(og + dt * 8 + slm_flash_frag_c_col(lane, 2 * r)) =
                pack_bf16(o[dt][2 * r] * inv, o[dt][2 * r + 1] * inv);
        if ((lane & 3) == 0) lse[((size_t)b * H + h) * T + row] = (m[r] + log2f(l[r])) * kLn2;
    }
}

// D[b,h,t] = Σ_d dO[b,t,h,d]·O[b,t,h,d]; one warp per (b, t, h) row.
__global__ void flash_bwd_dot_kernel(float *D, const uint16_t *dout, const uint16_t *out, int T, int H, int hd,
                                     size_t n_rows) {
    const size_t row = (size_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    if (row >= n_rows) return;
    const uint16_t *a = dout + row * hd, *c = out + row * hd;
    float sum = 0.0f;
    for (int d = lane; d < hd; d += 32) sum += bf16_bits_to_float(a[d]) * bf16_bits_to_float(c[d]);
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, off);
    if (lane == 0) {
        const size_t h = row % H, t = (row / H) % T, b = row / ((size_t)H * T);
        D[(b * H + h) * T + t] = sum;
    }
}

// dq = bf16(scale · acc), n elements.
__global__ void flash_bwd_dq_kernel(uint16_t *dq, const float *acc, size_t n, float scale) {
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        dq[i] = __bfloat16_as_ushort(__float2bfloat16_rn(acc[i] * scale));
}

template <int HD>
constexpr size_t bwd_smem_bytes() {
    return (size_t)(2 * kBC + 2 * kBR) * (HD + kPad) * sizeof(uint16_t)  // K, V, Q, dO
           + (size_t)kBR * (kBC + kPad) * sizeof(uint16_t)               // dS
           + 2 * kBR * sizeof(float);                                    // lse, D of the query tile
}

// Starts copying query tile q0 of head h into q_s, do_s (cp.async, one group)
// and its rows' lse (in base 2) and D into lse_s, d_s; rows past T are zeros.
template <int HD>
__device__ __forceinline__ void load_q_tile(uint16_t *q_s, uint16_t *do_s, float *lse_s, float *d_s, const uint16_t *q,
                                            const uint16_t *dout, const float *lse, const float *D, int b, int h,
                                            int q0, int T, int H) {
    const size_t ldq = (size_t)H * HD, q_off = (size_t)b * T * ldq + (size_t)h * HD, l_off = ((size_t)b * H + h) * T;
    load_tile<HD, kBR>(q_s, q + q_off, ldq, q0, T);
    load_tile<HD, kBR>(do_s, dout + q_off, ldq, q0, T);
    cp_async_commit();
    for (int t = threadIdx.x; t < kBR; t += kThreads) {
        const int row = q0 + t;
        lse_s[t] = row < T ? lse[l_off + row] * kLog2e : 0.0f;
        d_s[t] = row < T ? D[l_off + row] : 0.0f;
    }
}

// grid (key tiles, KVH, B). dq_acc [B,T,H,HD] fp32 (zeroed; gets dS·K, unscaled);
// D [B,H,T]. scale = 1/sqrt(hd); scale_log2 = scale·log2(e).
template <int HD>
__global__ void __launch_bounds__(kThreads)
    flash_bwd_kernel(uint16_t *dk, uint16_t *dv, float *dq_acc, const uint16_t *dout, const float *lse, const float *D,
                     const uint16_t *q, const uint16_t *k, const uint16_t *v, int T, int H, int KVH, float scale,
                     float scale_log2) {
    constexpr int LD = HD + kPad, LDS = kBC + kPad;
    extern __shared__ uint4 smem_raw[];
    uint16_t *k_s = (uint16_t *)smem_raw;  // [kBC][LD]
    uint16_t *v_s = k_s + kBC * LD;        // [kBC][LD]
    uint16_t *q_s = v_s + kBC * LD;        // [kBR][LD]
    uint16_t *do_s = q_s + kBR * LD;       // [kBR][LD]
    uint16_t *ds_s = do_s + kBR * LD;      // [kBR][LDS]: dS, query-major
    float *lse_s = (float *)(ds_s + kBR * LDS), *d_s = lse_s + kBR;
    const int b = blockIdx.z, kvh = blockIdx.y, k0 = blockIdx.x * kBC;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, group = H / KVH;
    const int first_q = slm_flash_bwd_first_q_tile(k0, kBR), n_q = slm_flash_n_tiles(T, kBR);
    const size_t ldq = (size_t)H * HD, ldkv = (size_t)KVH * HD;
    const size_t kv_off = (size_t)b * T * ldkv + (size_t)kvh * HD;

    load_tile<HD, kBC>(k_s, k + kv_off, ldkv, k0, T);
    load_tile<HD, kBC>(v_s, v + kv_off, ldkv, k0, T);
    cp_async_commit();

    float dk_acc[HD / 8][4], dv_acc[HD / 8][4];  // this warp's 16 keys × HD
#pragma unroll
    for (int dt = 0; dt < HD / 8; dt++)
#pragma unroll
        for (int e = 0; e < 4; e++) dk_acc[dt][e] = dv_acc[dt][e] = 0.0f;
    const uint16_t *kw = k_s + warp * kWarpRows * LD, *vw = v_s + warp * kWarpRows * LD;

    // The (query head, query tile) pairs this block visits, in order: its
    // group's heads, each from the diagonal's query tile to the last.
    const int n_qt = n_q - first_q, n_it = group * n_qt;
    load_q_tile<HD>(q_s, do_s, lse_s, d_s, q, dout, lse, D, b, kvh * group, first_q * kBR, T, H);
    for (int it = 0; it < n_it; it++) {
        const int h = kvh * group + it / n_qt, q0 = (first_q + it % n_qt) * kBR;
        const size_t q_off = (size_t)b * T * ldq + (size_t)h * HD;
        cp_async_wait<0>();
        __syncthreads();

        float st[kBR / 8][4], dpt[kBR / 8][4];  // Sᵀ then Pᵀ; dPᵀ then dSᵀ: 16 keys × 64 queries
#pragma unroll
        for (int nt = 0; nt < kBR / 8; nt++)
#pragma unroll
            for (int e = 0; e < 4; e++) st[nt][e] = dpt[nt][e] = 0.0f;
#pragma unroll
        for (int kk = 0; kk < HD / 16; kk++) {  // Sᵀ = K·Qᵀ, dPᵀ = V·dOᵀ
            uint32_t ka[4], va[4];
            load_a(ka, kw + kk * 16, LD, lane);
            load_a(va, vw + kk * 16, LD, lane);
#pragma unroll
            for (int nt = 0; nt < kBR / 8; nt += 2) {
                uint32_t bq[4], bdo[4];
                load_b2_nk(bq, q_s + nt * 8 * LD + kk * 16, LD, lane);
                load_b2_nk(bdo, do_s + nt * 8 * LD + kk * 16, LD, lane);
                mma_bf16(st[nt], ka, bq);
                mma_bf16(st[nt + 1], ka, bq + 2);
                mma_bf16(dpt[nt], va, bdo);
                mma_bf16(dpt[nt + 1], va, bdo + 2);
            }
        }
        const int masked = slm_flash_tile_needs_mask(q0, kBR, k0, kBC, T);
#pragma unroll
        for (int nt = 0; nt < kBR / 8; nt++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int key = k0 + warp * kWarpRows + slm_flash_frag_c_row(lane, e);
                const int qc = nt * 8 + slm_flash_frag_c_col(lane, e);
                const float p = exp2f(st[nt][e] * scale_log2 - lse_s[qc]);
                st[nt][e] = !masked || slm_flash_visible(q0 + qc, key, T) ? p : 0.0f;
                dpt[nt][e] = st[nt][e] * (dpt[nt][e] - d_s[qc]);
                ds_s[qc * LDS + warp * kWarpRows + slm_flash_frag_c_row(lane, e)] =
                    __bfloat16_as_ushort(__float2bfloat16_rn(dpt[nt][e]));
            }
#pragma unroll
        for (int kk = 0; kk < kBR / 16; kk++) {  // dV += Pᵀ·dO, dK += dSᵀ·Q
            uint32_t pa[4], dsa[4];
            c_to_a(pa, st, kk);
            c_to_a(dsa, dpt, kk);
#pragma unroll
            for (int dt = 0; dt < HD / 8; dt += 2) {
                uint32_t bdo[4], bq[4];
                load_b2_kn(bdo, do_s + kk * 16 * LD + dt * 8, LD, lane);
                load_b2_kn(bq, q_s + kk * 16 * LD + dt * 8, LD, lane);
                mma_bf16(dv_acc[dt], pa, bdo);
                mma_bf16(dv_acc[dt + 1], pa, bdo + 2);
                mma_bf16(dk_acc[dt], dsa, bq);
                mma_bf16(dk_acc[dt + 1], dsa, bq + 2);
            }
        }
        __syncthreads();  // dS complete; Q, dO, lse and D are no longer read: copy the next ones in
        if (it + 1 < n_it) {
            const int next = it + 1;
            load_q_tile<HD>(q_s, do_s, lse_s, d_s, q, dout, lse, D, b, kvh * group + next / n_qt,
                            (first_q + next % n_qt) * kBR, T, H);
        }

        float dq_part[HD / 8][4];  // dQ rows warp·16 … +15 of the tile: dS·K over this block's keys
#pragma unroll
        for (int dt = 0; dt < HD / 8; dt++)
#pragma unroll
            for (int e = 0; e < 4; e++) dq_part[dt][e] = 0.0f;
#pragma unroll
        for (int kk = 0; kk < kBC / 16; kk++) {
            uint32_t da[4];
            load_a(da, ds_s + warp * kWarpRows * LDS + kk * 16, LDS, lane);
#pragma unroll
            for (int dt = 0; dt < HD / 8; dt += 2) {
                uint32_t bk[4];
                load_b2_kn(bk, k_s + kk * 16 * LD + dt * 8, LD, lane);
                mma_bf16(dq_part[dt], da, bk);
                mma_bf16(dq_part[dt + 1], da, bk + 2);
            }
        }
#pragma unroll
        for (int e = 0; e < 4; e++) {
            const int row = q0 + warp * kWarpRows + slm_flash_frag_c_row(lane, e);
            if (row >= T) continue;
            float *dst = dq_acc + q_off + (size_t)row * ldq + slm_flash_frag_c_col(lane, e);
#pragma unroll
            for (int dt = 0; dt < HD / 8; dt++) atomicAdd(dst + dt * 8, dq_part[dt][e]);
        }
    }  // the next iteration's barrier keeps its dS from overwriting this one before it is read

#pragma unroll
    for (int r = 0; r < 2; r++) {
        const int key = k0 + warp * kWarpRows + slm_flash_frag_c_row(lane, 2 * r);
        if (key >= T) continue;
        const size_t off = kv_off + (size_t)key * ldkv + slm_flash_frag_c_col(lane, 2 * r);
#pragma unroll
        for (int dt = 0; dt < HD / 8; dt++) {
            *(uint32_t *)(dk + off + dt * 8) = pack_bf16(dk_acc[dt][2 * r] * scale, dk_acc[dt][2 * r + 1] * scale);
            *(uint32_t *)(dv + off + dt * 8) = pack_bf16(dv_acc[dt][2 * r], dv_acc[dt][2 * r + 1]);
        }
    }
}

}  // namespace
