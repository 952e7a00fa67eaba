// cuda_emu.h — the CUDA names and the PTX helpers of
// src/backend/cuda/ptx.cuh, emulated on the host, so that the flash kernels
// (src/backend/cuda/attention_flash_kernels.cuh) and the backend's other
// kernels (src/backend/cuda/*_kernels.cuh) compile with g++ and run their own
// code on the CPU: one CUDA thread is one fiber, a warp is 32 of them, shared
// memory is one arena per block.
//
// The one design decision: a block's threads are fibers (ucontext) on one OS
// thread, switched only where CUDA threads meet — __syncthreads and the warp
// collectives (mma.sync, ldmatrix, shfl.sync). A collective is computed once,
// by the warp's last lane to arrive, from all 32 lanes' operands, as the
// instruction is defined on the warp. Runs are deterministic for a given
// schedule seed; fibers are resumed in an order shuffled by that seed, so code
// that relies on an order between barriers has a chance to show it.
//
// Beyond the arithmetic, the emulation checks what the instructions require
// and the kernels' barrier discipline around the asynchronous copies, and
// stops the program with a one-line message when one fails:
//   - cp.async and ldmatrix addresses: 16-byte aligned, inside the block's
//     dynamic shared memory (its size as launched); global sources aligned;
//   - a cp.async is complete only after its thread's cp.async.wait_group, and
//     readable by ldmatrix only after a __syncthreads that follows that wait;
//     a cp.async must not target 16 bytes another warp read with ldmatrix
//     since the last __syncthreads, nor 16 bytes with a copy still in flight;
//     no thread exits with copies not waited for;
//   - all 32 lanes of a warp reach the same collective (shfl with the full
//     mask); every thread reaches each __syncthreads (else: deadlock, named);
//   - dynamic shared memory fits an A100 (sm_80, 163 KiB per block); bytes
//     past the launched size are left untouched.
// Shared memory starts each block as 0xff bytes (bf16 and fp32 NaNs), so a
// value read before anything wrote it shows in the results. Plain loads and
// stores to shared or global memory are not tracked.
#pragma once

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <random>
#include <vector>

// ---- CUDA keywords and built-in types -----------------------------------------

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
// `extern __shared__` names the arena below. A kernel's statically sized
// __shared__ variables (block_sum's partials in kernels.cuh) are function-local
// statics where the includer defines __shared__ as static after this file
// (test_kernels_emu.cpp): one copy for the program is one per block, as blocks
// run one after another; they are not refilled with 0xff between blocks.
#define __shared__

struct uint4 {
    unsigned x, y, z, w;
};
struct dim3 {
    unsigned x = 1, y = 1, z = 1;
};
inline dim3 threadIdx, blockIdx, blockDim, gridDim;  // set by the scheduler for the running fiber

namespace cuda_emu {
constexpr size_t kSmemArenaBytes = 232448;  // sm_90's per-block maximum
constexpr size_t kSmemMaxBytes = 166912;    // sm_80's (A100): the kernels must fit both
}  // namespace cuda_emu

namespace {
// The dynamic shared memory that `extern __shared__ uint4 smem_raw[]` in a
// kernel of the anonymous namespace names.
alignas(16) uint4 smem_raw[cuda_emu::kSmemArenaBytes / sizeof(uint4)];
}  // namespace

// ---- bf16 and bit casts (cuda_bf16.h, CUDA math API) --------------------------

struct __nv_bfloat16 {
    uint16_t bits;
};
inline float __uint_as_float(uint32_t u) {
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}
// Round to nearest, ties to even (the _rn); NaN stays a NaN.
inline __nv_bfloat16 __float2bfloat16_rn(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if (isnan(x)) return __nv_bfloat16{0x7fff};
    u += 0x7fffu + ((u >> 16) & 1u);
    return __nv_bfloat16{(uint16_t)(u >> 16)};
}
inline uint16_t __bfloat16_as_ushort(__nv_bfloat16 b) { return b.bits; }

namespace cuda_emu {

[[noreturn]] inline void fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "cuda_emu: block (%u,%u,%u) thread %u: ", blockIdx.x, blockIdx.y, blockIdx.z, threadIdx.x);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stdout);
    _Exit(1);  // not exit(): no destructors while a fiber runs on a stack they free
}

struct Copy {
    void *dst;
    const void *src;
    int bytes;
};

struct Fiber {
    ucontext_t ctx;
    unsigned tid = 0;
    bool done = false;
    const unsigned *wait_gen = nullptr;  // blocked until *wait_gen != wait_val
    unsigned wait_val = 0;
    std::vector<Copy> open;                 // cp.async issued since the last commit
    std::vector<std::vector<Copy>> groups;  // committed, oldest first
};

enum class Op { none, mma, ldsm, ldsm_trans, shfl };

// One warp's operands and results for the collective being met.
struct Warp {
    unsigned arrived = 0, gen = 0;
    Op op = Op::none;
    uint32_t a[32][4], b[32][2], r[32][4];
    float c[32][4];
    uint64_t shfl_in[32], shfl_out[32];  // a shuffled value's bytes (float, double, int)
    const uint16_t *addr[32];
    int xor_mask[32];
    unsigned member_mask[32];
};

// What happened last to each 16 bytes of shared memory, for the cp.async rules.
struct Chunk {
    bool pending = false;  // a cp.async to it is issued and not yet waited for
    long done_epoch = -1;  // the barrier epoch in which its last copy was waited for
    long read_epoch = -1;  // the epoch of its last ldmatrix read …
    int read_warp = -1;    // … and the warp that read it (−2: several)
};

struct Block {
    ucontext_t sched;
    std::vector<Fiber> fibers;
    Fiber *cur = nullptr;
    unsigned n_threads = 0, bar_arrived = 0, bar_gen = 0;
    long epoch = 0;  // __syncthreads passed
    std::vector<Warp> warps;
    std::vector<Chunk> shadow;
    size_t smem_bytes = 0;
    const std::function<void()> *body = nullptr;
};

inline Block g_block;
inline std::mt19937 g_schedule_rng(1);
inline std::vector<std::unique_ptr<char[]>> g_stacks;
constexpr size_t kStackBytes = 256 * 1024;

// Seeds the order in which runnable fibers are resumed.
inline void set_schedule_seed(unsigned seed) { g_schedule_rng.seed(seed); }

// swapcontext and getcontext return once per call here, but GCC treats them
// like setjmp in their caller (-Wclobbered); called from functions of their
// own, they keep the scheduler's locals out of that analysis.
[[gnu::noinline]] inline void switch_context(ucontext_t *from, const ucontext_t *to) { swapcontext(from, to); }
[[gnu::noinline]] inline void make_fiber_context(ucontext_t *ctx, char *stack, ucontext_t *link, void (*fn)()) {
    getcontext(ctx);
    ctx->uc_stack.ss_sp = stack;
    ctx->uc_stack.ss_size = kStackBytes;
    ctx->uc_link = link;
    makecontext(ctx, fn, 0);
}

// Parks the running fiber until *gen moves off val.
inline void block_on(const unsigned *gen, unsigned val) {
    Fiber *f = g_block.cur;
    f->wait_gen = gen;
    f->wait_val = val;
    switch_context(&f->ctx, &g_block.sched);
}

inline unsigned lane() { return threadIdx.x % 32; }
inline Warp &my_warp() { return g_block.warps[threadIdx.x / 32]; }

// The running lane meets its warp at collective op: the last of the 32 lanes
// to arrive runs compute(warp) for all of them; the others wait for it.
template <class F>
void warp_collective(Op op, F compute) {
    Warp &w = my_warp();
    if (w.arrived == 0)
        w.op = op;
    else if (w.op != op)
        fail("lanes of warp %u are at different warp collectives (divergent code)", threadIdx.x / 32);
    const unsigned gen = w.gen;
    if (++w.arrived == 32) {
        compute(w);
        w.arrived = 0;
        w.gen++;
    } else {
        block_on(&w.gen, gen);
    }
}

inline Chunk &chunk_of(const void *smem, const char *what) {
    const char *p = (const char *)smem, *base = (const char *)smem_raw;
    if ((uintptr_t)p & 15) fail("%s: shared address %p is not 16-byte aligned", what, smem);
    if (p < base || p + 16 > base + g_block.smem_bytes)
        fail("%s: shared offset %td is outside the block's %zu bytes", what, p - base, g_block.smem_bytes);
    return g_block.shadow[(size_t)(p - base) / 16];
}

inline void complete(const Copy &c) {
    memset(c.dst, 0, 16);
    memcpy(c.dst, c.src, (size_t)c.bytes);
    Chunk &ch = chunk_of(c.dst, "cp.async");
    ch.pending = false;
    ch.done_epoch = g_block.epoch;
}

inline void fiber_main() {
    (*g_block.body)();
    Fiber *f = g_block.cur;
    bool copies = !f->open.empty();
    for (const auto &g : f->groups) copies |= !g.empty();
    if (copies) fail("the thread exits with cp.async copies it never waited for");
    f->done = true;
}  // returns to g_block.sched through uc_link

// Runs one block of body() on blockDim threads.
inline void run_block() {
    Block &b = g_block;
    for (unsigned t = 0; t < b.n_threads; t++) {
        Fiber &f = b.fibers[t];
        f.tid = t;
        f.done = false;
        f.wait_gen = nullptr;
        f.open.clear();
        f.groups.clear();
        make_fiber_context(&f.ctx, g_stacks[t].get(), &b.sched, fiber_main);
    }
    b.warps.assign(b.n_threads / 32, Warp{});
    b.shadow.assign(b.smem_bytes / 16, Chunk{});
    b.bar_arrived = b.bar_gen = 0;
    b.epoch = 0;
    memset(smem_raw, 0xff, sizeof smem_raw);
    std::vector<unsigned> order(b.n_threads);
    for (unsigned t = 0; t < b.n_threads; t++) order[t] = t;
    for (;;) {
        std::shuffle(order.begin(), order.end(), g_schedule_rng);
        bool alive = false, ran = false;
        for (unsigned t : order) {
            Fiber &f = b.fibers[t];
            if (f.done) continue;
            alive = true;
            if (f.wait_gen && *f.wait_gen == f.wait_val) continue;
            f.wait_gen = nullptr;
            b.cur = &f;
            threadIdx = dim3{t, 0, 0};
            switch_context(&b.sched, &f.ctx);
            ran = true;
        }
        if (!alive) break;
        if (!ran) {
            unsigned at_barrier = b.bar_arrived, exited = 0;
            for (const Fiber &f : b.fibers) exited += f.done;
            threadIdx = dim3{0, 0, 0};
            fail("deadlock: %u threads wait at __syncthreads, %u have exited, the rest wait at warp collectives",
                 at_barrier, exited);
        }
    }
    const unsigned char *tail = (const unsigned char *)smem_raw + b.smem_bytes;
    for (size_t i = 0; i < sizeof smem_raw - b.smem_bytes; i++)
        if (tail[i] != 0xff)
            fail("shared memory written at offset %zu, past the %zu bytes launched", b.smem_bytes + i, b.smem_bytes);
}

// kernel<<<grid, block, smem_bytes>>>: call() is the kernel call with its
// arguments, run by every thread of every block, blocks one after another.
template <class F>
void launch(dim3 grid, dim3 block, size_t smem_bytes, F call) {
    const unsigned n = block.x * block.y * block.z;
    if (block.y != 1 || block.z != 1 || n == 0 || n % 32 || n > 1024)
        fail("launch: block (%u,%u,%u), expected 32·k threads along x only", block.x, block.y, block.z);
    if (smem_bytes > kSmemMaxBytes)
        fail("launch: %zu bytes of dynamic shared memory, more than an A100 gives a block (%zu)", smem_bytes,
             kSmemMaxBytes);
    while (g_stacks.size() < n) g_stacks.emplace_back(new char[kStackBytes]);
    const std::function<void()> body = call;
    Block &b = g_block;
    b.fibers.resize(n);
    b.n_threads = n;
    b.smem_bytes = smem_bytes;
    b.body = &body;
    gridDim = grid;
    blockDim = block;
    for (unsigned z = 0; z < grid.z; z++)
        for (unsigned y = 0; y < grid.y; y++)
            for (unsigned x = 0; x < grid.x; x++) {
                blockIdx = dim3{x, y, z};
                run_block();
            }
}

inline float bf16_value(uint32_t reg, int half) { return __uint_as_float((reg >> (16 * half)) << 16); }

}  // namespace cuda_emu

// ---- thread-block and warp primitives ----------------------------------------

inline void __syncthreads() {
    cuda_emu::Block &b = cuda_emu::g_block;
    const unsigned gen = b.bar_gen;
    if (++b.bar_arrived == b.n_threads) {
        b.bar_arrived = 0;
        b.bar_gen++;
        b.epoch++;
    } else {
        cuda_emu::block_on(&b.bar_gen, gen);
    }
}

// shfl.sync.bfly (PTX ISA, "Parallel Synchronization and Communication
// Instructions: shfl.sync"): lane i gets x of lane i ^ lane_mask; all 32 lanes
// take part. For T of 4 or 8 bytes (CUDA's overloads: int, float, double, …).
template <class T>
T __shfl_xor_sync(unsigned member_mask, T x, int lane_mask) {
    static_assert(sizeof(T) == 4 || sizeof(T) == 8, "__shfl_xor_sync: 4- or 8-byte values");
    using namespace cuda_emu;
    const unsigned l = lane();
    Warp &w = my_warp();
    w.shfl_in[l] = 0;
    memcpy(&w.shfl_in[l], &x, sizeof x);
    w.xor_mask[l] = lane_mask;
    w.member_mask[l] = member_mask;
    warp_collective(Op::shfl, [](Warp &wp) {
        for (int i = 0; i < 32; i++) {
            if (wp.member_mask[i] != 0xffffffffu || wp.xor_mask[i] != wp.xor_mask[0] || wp.xor_mask[i] < 0 ||
                wp.xor_mask[i] > 31)
                fail(
                    "__shfl_xor_sync: lane %d gives mask %#x, lane_mask %d; expected the full warp and one "
                    "lane_mask in 0 … 31",
                    i, wp.member_mask[i], wp.xor_mask[i]);
            wp.shfl_out[i] = wp.shfl_in[i ^ wp.xor_mask[i]];
        }
    });
    T y;
    memcpy(&y, &w.shfl_out[l], sizeof y);
    return y;
}

// CUDA's rsqrtf (≤ 2 ulp on the device), here 1/sqrtf: within an ulp.
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }

inline float atomicAdd(float *p, float v) {  // one OS thread: a plain add is atomic
    const float old = *p;
    *p = old + v;
    return old;
}

// ---- the PTX helpers of ptx.cuh -----------------------------------------------

// mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 (PTX ISA, "Warp Level
// Matrix Multiply-Accumulate Instructions: mma", and "Matrix Fragments for
// mma.m16n8k16 with floating point type"). With groupID g = lane >> 2 and
// threadID_in_group t = lane % 4, lane holds
//   A (16×16, row-major) a0 … a7 in a[0..3], two per register, the lower
//     index in the lower half: row g for a0, a1, a4, a5 and g + 8 for a2, a3,
//     a6, a7; column 2t + (i & 1) for a0 … a3 and 2t + (i & 1) + 8 for a4 … a7;
//   B (16×8, k × n) b0 … b3 in b[0..1]: k = 2t + (i & 1) for b0, b1 and
//     2t + (i & 1) + 8 for b2, b3; n = g;
//   C and D (16×8, fp32) c0 … c3: row g for c0, c1 and g + 8 for c2, c3;
//     column 2t + (i & 1).
// D = A·B + C; bf16 products are exact in fp32, summed in fp32 from C in k
// order (the hardware's order and internal precision are not specified).
inline void mma_bf16(float d[4], const uint32_t a[4], const uint32_t b[2]) {
    using namespace cuda_emu;
    const unsigned l = lane();
    Warp &w = my_warp();
    memcpy(w.a[l], a, sizeof w.a[l]);
    memcpy(w.b[l], b, sizeof w.b[l]);
    memcpy(w.c[l], d, sizeof w.c[l]);
    warp_collective(Op::mma, [](Warp &wp) {
        float A[16][16], B[16][8];
        for (int L = 0; L < 32; L++) {
            const int g = L >> 2, t = L & 3;
            for (int i = 0; i < 8; i++)
                A[g + ((i >> 1) & 1) * 8][2 * t + (i & 1) + (i >> 2) * 8] = bf16_value(wp.a[L][i >> 1], i & 1);
            for (int i = 0; i < 4; i++) B[2 * t + (i & 1) + (i >> 1) * 8][g] = bf16_value(wp.b[L][i >> 1], i & 1);
        }
        for (int L = 0; L < 32; L++) {
            const int g = L >> 2, t = L & 3;
            for (int i = 0; i < 4; i++) {
                const int row = g + (i >> 1) * 8, col = 2 * t + (i & 1);
                float s = wp.c[L][i];
                for (int k = 0; k < 16; k++) s += A[row][k] * B[k][col];
                wp.c[L][i] = s;
            }
        }
    });
    memcpy(d, w.c[l], sizeof w.c[l]);
}

namespace cuda_emu {
// ldmatrix.sync.aligned.m8n8.x4[.trans].shared.b16 (PTX ISA, "Warp-level
// matrix load instruction: ldmatrix"): lanes 8m … 8m+7 give the addresses of
// rows 0 … 7 of 8×8 matrix m (16 bytes each); lane L receives in register m
// the two elements (row L/4, columns 2·(L%4) and +1) of matrix m, or with
// .trans the two elements (rows 2·(L%4) and +1, column L/4); the lower
// column (row, with .trans) in the lower half.
inline void ldsm(uint32_t r[4], const uint16_t *row, Op op) {
    const unsigned l = lane();
    Warp &w = my_warp();
    w.addr[l] = row;
    warp_collective(op, [](Warp &wp) {
        const long epoch = g_block.epoch;
        const int warp = (int)(threadIdx.x / 32);
        for (int L = 0; L < 32; L++) {
            Chunk &ch = chunk_of(wp.addr[L], "ldmatrix");
            if (ch.pending)
                fail("ldmatrix (warp %d, lane %d's row) reads bytes whose cp.async is not waited for", warp, L);
            if (ch.done_epoch == epoch)
                fail("ldmatrix (warp %d, lane %d's row) reads a cp.async's bytes with no __syncthreads since its wait",
                     warp, L);
            ch.read_warp = ch.read_epoch == epoch && ch.read_warp != warp ? -2 : warp;
            ch.read_epoch = epoch;
        }
        const bool trans = wp.op == Op::ldsm_trans;
        for (int L = 0; L < 32; L++)
            for (int m = 0; m < 4; m++) {
                uint16_t lo, hi;
                if (trans) {
                    lo = wp.addr[8 * m + 2 * (L & 3)][L >> 2];
                    hi = wp.addr[8 * m + 2 * (L & 3) + 1][L >> 2];
                } else {
                    lo = wp.addr[8 * m + (L >> 2)][2 * (L & 3)];
                    hi = wp.addr[8 * m + (L >> 2)][2 * (L & 3) + 1];
                }
                wp.r[L][m] = (uint32_t)lo | ((uint32_t)hi << 16);
            }
    });
    memcpy(r, w.r[l], sizeof w.r[l]);
}
}  // namespace cuda_emu

inline void ldsm_x4(uint32_t r[4], const uint16_t *row) { cuda_emu::ldsm(r, row, cuda_emu::Op::ldsm); }
inline void ldsm_x4_trans(uint32_t r[4], const uint16_t *row) { cuda_emu::ldsm(r, row, cuda_emu::Op::ldsm_trans); }

// cp.async.cg.shared.global [dst], [src], 16, src_bytes (PTX ISA, "Data
// Movement and Conversion Instructions: cp.async"): copies src_bytes of 16
// and fills the rest with zeros, asynchronously; cp.async.commit_group closes
// the thread's copies since the last commit into a group (possibly empty);
// cp.async.wait_group N waits until at most the N newest groups are pending.
// Here a copy lands at the wait that completes it, the latest the ISA allows.
inline void cp_async16(void *smem, const void *gmem, int src_bytes) {
    using namespace cuda_emu;
    Chunk &ch = chunk_of(smem, "cp.async");
    if ((uintptr_t)gmem & 15) fail("cp.async: global address %p is not 16-byte aligned", gmem);
    if (src_bytes < 0 || src_bytes > 16) fail("cp.async: src_bytes %d, expected 0 … 16", src_bytes);
    if (ch.pending) fail("cp.async into 16 bytes that another copy in flight also targets");
    const int warp = (int)(threadIdx.x / 32);
    if (ch.read_epoch == g_block.epoch && ch.read_warp != warp)
        fail("cp.async into 16 bytes that ldmatrix of another warp read since the last __syncthreads");
    ch.pending = true;
    g_block.cur->open.push_back(Copy{smem, gmem, src_bytes});
}
inline void cp_async_commit() {
    cuda_emu::Fiber *f = cuda_emu::g_block.cur;
    f->groups.push_back(std::move(f->open));
    f->open.clear();
}
template <int N>
void cp_async_wait() {
    cuda_emu::Fiber *f = cuda_emu::g_block.cur;
    while (f->groups.size() > (size_t)N) {
        for (const cuda_emu::Copy &c : f->groups.front()) cuda_emu::complete(c);
        f->groups.erase(f->groups.begin());
    }
}
