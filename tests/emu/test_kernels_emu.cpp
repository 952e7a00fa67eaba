// test_kernels_emu.cpp — the CUDA backend's own non-GEMM kernels
// (src/backend/cuda/*_kernels.cuh: embedding, rmsnorm, rope, vanilla
// attention's softmax, swiglu, xent, optim) run on the host through
// cuda_emu.h (a fiber per CUDA thread; __syncthreads, warp shuffles and static
// shared memory emulated), launched with the grids and blocks their .cu
// launchers use, and compared with the CPU backend's op (fp32, fed the same
// bf16-rounded inputs) on odd shapes, forward and backward. No GPU and no
// nvcc needed; what this does and does not establish: docs/gpu.md.
//
// Tolerances are test_bf16_ops.c's (the bf16 backends' test), for the same reasons:
//   |kernel − cpu| ≤ rel·|cpu| + norm·max|cpu|
//   - one bf16 rounding of an output: rel 2^-7, norm 2^-12;
//   - fp32 outputs of fp32 sums over K terms (rstd, rmsnorm's dw, losses):
//     rel 1e-5, norm sqrt(K)·2^-16;
//   - adamw's fp32 state: 4 ulps; axpy 2 ulps; scale, to_compute, the
//     embedding (a copy, and adds in the CPU's order) and sumsq (fp64, rel
//     1e-12): exact or as stated there.
// The softmax kernels have no CPU op of their own (the CPU's vanilla
// attention fuses them with its GEMMs): they are checked against an fp64
// causal softmax of the same bf16 scores, with one output rounding (2^-7,
// 2^-12) plus, backward, the fp32 row dot product (sqrt(T)·2^-16).
// The embedding backward's sort (CUB's radix sort, a library call) is not
// emulated: the kernel after it gets the positions sorted by token on the host
// (std::stable_sort, as CUB's sort is stable); iota_kernel, which makes the
// positions the sort reads, runs emulated.
// Reductions (block_sum, block_max, warp_sum) are also run under a second
// fiber schedule and must give bitwise the same result.
//
// What known bugs do to it (each run once on a changed copy of the kernels):
//   - block_sum without its second __syncthreads (threads read `total` before
//     warp 0 writes it): rmsnorm out off by up to 670 (46000× its bound), and
//     every rmsnorm and xent check that depends on it fails;
//   - xent without the __syncthreads before the gradient is written (thread 0
//     reads the target's logit after another thread overwrote it): the losses
//     off by 3.4 … 4.0, and the dscale-0 rerun differs.
// Runtime: about 20 s in Release here (1024-block sumsq launches dominate).
// label: slow
#include "cuda_emu.h"

#undef __shared__
#define __shared__ static  // kernels.cuh's block_sum partials: see cuda_emu.h

#include "backend/cuda/attention_kernels.cuh"
#include "backend/cuda/embedding_kernels.cuh"
#include "backend/cuda/optim_kernels.cuh"
#include "backend/cuda/rmsnorm_kernels.cuh"
#include "backend/cuda/rope_kernels.cuh"
#include "backend/cuda/swiglu_kernels.cuh"
#include "backend/cuda/xent_kernels.cuh"

#define _Noreturn [[noreturn]]  // C11's spelling in core/err.h, which backend.h includes
extern "C" {
#include "backend/backend.h"
#include "testutil.h"
}
#undef _Noreturn

namespace {

const slm_ops *cpu;
uint64_t rng = 20261122;

using cuda_emu::launch;
using F32 = std::vector<float>;
using B16 = std::vector<uint16_t>;

dim3 d1(size_t x) { return dim3{(unsigned)x, 1, 1}; }

// Random values in [lo, hi), rounded to bf16 so the kernels and the CPU read the same numbers.
F32 rnd(size_t n, float lo, float hi) {
    F32 h(n);
    t_fill_uniform(h.data(), n, &rng, lo, hi);
    for (float &x : h) x = slm_f32_from_bf16(slm_bf16_from_f32(x));
    return h;
}
B16 to16(const F32 &h) {
    B16 b(h.size());
    for (size_t i = 0; i < h.size(); i++) b[i] = slm_bf16_from_f32(h[i]);
    return b;
}
F32 to32(const B16 &b) {
    F32 h(b.size());
    for (size_t i = 0; i < b.size(); i++) h[i] = slm_f32_from_bf16(b[i]);
    return h;
}

// Checks |got − ref| ≤ rel·|ref| + norm·max|ref| everywhere; prints the worst ratio.
void near(const char *what, const F32 &got, const F32 &ref, double rel, double norm) {
    double mx = 0, worst = 0, diff_at = 0;
    for (float r : ref) mx = fmax(mx, fabs(r));
    for (size_t i = 0; i < ref.size(); i++) {
        double d = fabs((double)got[i] - ref[i]), bound = rel * fabs(ref[i]) + norm * mx + 1e-30;
        if (!std::isfinite(got[i])) d = INFINITY;
        if (d / bound > worst) worst = d / bound, diff_at = d;
    }
    t_check(worst <= 1.0, "%s: worst |emu-cpu| %.3g is %.2f of its bound (rel %.3g, norm %.3g of max %.3g)", what,
            diff_at, worst, rel, norm, mx);
}
template <class T>
bool same(const std::vector<T> &a, const std::vector<T> &b) {
    return a.size() == b.size() && !memcmp(a.data(), b.data(), a.size() * sizeof(T));
}

double gemm_norm(int K) { return sqrt((double)K) * ldexp(1.0, -16); }
const double REL16 = 1.0 / 128, NORM16 = 1.0 / 4096;  // one bf16 rounding (2^-7, 2^-12)
const double ULP = 1.0 / 16777216;

void test_embedding(int N, int C, int V) {
    F32 wte = rnd((size_t)V * C, -1, 1), dout = rnd((size_t)N * C, -1, 1), dw0 = rnd((size_t)V * C, -1, 1);
    std::vector<int> tok(N);
    for (int &t : tok) t = (int)(t_rand_u64(&rng) % (uint64_t)V);  // V < N: tokens repeat
    F32 out((size_t)N * C), dw = dw0;
    cpu->embedding_fwd(out.data(), wte.data(), tok.data(), N, C);
    cpu->embedding_bwd(dw.data(), dout.data(), tok.data(), N, C);

    B16 wte16 = to16(wte), out16((size_t)N * C), dout16 = to16(dout);
    launch(d1(elemwise_blocks((size_t)N * C)), d1(ELEMWISE_THREADS), 0,
           [&] { embedding_fwd_kernel(out16.data(), wte16.data(), tok.data(), N, C); });
    char what[128];
    snprintf(what, sizeof what, "embedding fwd N=%d C=%d V=%d (a copy: exact)", N, C, V);
    near(what, to32(out16), out, 0, 0);

    std::vector<int> pos(N), tok_sorted(N), pos_sorted;
    launch(d1(elemwise_blocks((size_t)N)), d1(ELEMWISE_THREADS), 0, [&] { iota_kernel(pos.data(), N); });
    pos_sorted = pos;
    std::stable_sort(pos_sorted.begin(), pos_sorted.end(), [&](int a, int b) { return tok[a] < tok[b]; });
    for (int i = 0; i < N; i++) tok_sorted[i] = tok[pos_sorted[i]];
    F32 gdw = dw0;
    launch(d1(N), d1(embedding_bwd_threads(C)), 0,
           [&] { embedding_bwd_kernel(gdw.data(), dout16.data(), tok_sorted.data(), pos_sorted.data(), N, C); });
    bool iota = true;
    for (int i = 0; i < N; i++) iota = iota && pos[i] == i;
    t_check(iota, "embedding bwd N=%d: iota_kernel writes 0 … N-1", N);
    t_check(same(gdw, dw), "embedding bwd N=%d C=%d V=%d (+=, host-sorted positions): bitwise the CPU's dwte", N, C, V);
}

void test_rmsnorm(int N, int C) {
    const float eps = 1e-5f;
    F32 x = rnd((size_t)N * C, -2, 2), w = rnd((size_t)C, 0.5f, 1.5f), dout = rnd((size_t)N * C, -1, 1);
    F32 dx0 = rnd((size_t)N * C, -1, 1), dw0 = rnd((size_t)C, -1, 1);
    F32 out((size_t)N * C), rstd((size_t)N), dx = dx0, dw = dw0;
    cpu->rmsnorm_fwd(out.data(), rstd.data(), x.data(), w.data(), N, C, eps);
    cpu->rmsnorm_bwd(dx.data(), dw.data(), dout.data(), x.data(), w.data(), rstd.data(), N, C);

    B16 x16 = to16(x), w16 = to16(w), dout16 = to16(dout), out16((size_t)N * C), dx16 = to16(dx0);
    F32 grstd((size_t)N), gdw = dw0;
    launch(d1(N), d1(RMS_THREADS), 0,
           [&] { rmsnorm_fwd_kernel(out16.data(), grstd.data(), x16.data(), w16.data(), C, eps); });
    launch(d1(N), d1(RMS_THREADS), 0,
           [&] { rmsnorm_dx_kernel(dx16.data(), dout16.data(), x16.data(), w16.data(), grstd.data(), C); });
    const int n_part = rms_parts(N);
    F32 part((size_t)n_part * C);
    const dim3 grid{(unsigned)((C + RMS_THREADS - 1) / RMS_THREADS), (unsigned)n_part, 1};
    launch(grid, d1(RMS_THREADS), 0,
           [&] { rmsnorm_dw_partial_kernel(part.data(), dout16.data(), x16.data(), grstd.data(), N, C); });
    launch(d1(grid.x), d1(RMS_THREADS), 0, [&] { rmsnorm_dw_total_kernel(gdw.data(), part.data(), n_part, C); });
    char what[128];
    snprintf(what, sizeof what, "rmsnorm fwd out N=%d C=%d", N, C);
    near(what, to32(out16), out, REL16, NORM16);
    snprintf(what, sizeof what, "rmsnorm fwd rstd N=%d C=%d (fp32 sum of C squares)", N, C);
    near(what, grstd, rstd, 1e-5, gemm_norm(C));
    snprintf(what, sizeof what, "rmsnorm bwd dx (+=) N=%d C=%d", N, C);
    near(what, to32(dx16), dx, REL16, NORM16 + gemm_norm(C));
    snprintf(what, sizeof what, "rmsnorm bwd dw (+=, fp32 sum over N=%d rows in %d row blocks) C=%d", N, n_part, C);
    near(what, gdw, dw, 1e-5, gemm_norm(N));

    cuda_emu::set_schedule_seed(7);  // another order of the fibers: block_sum must not depend on it
    B16 out2((size_t)N * C), dx2 = to16(dx0);
    F32 rstd2((size_t)N);
    launch(d1(N), d1(RMS_THREADS), 0,
           [&] { rmsnorm_fwd_kernel(out2.data(), rstd2.data(), x16.data(), w16.data(), C, eps); });
    launch(d1(N), d1(RMS_THREADS), 0,
           [&] { rmsnorm_dx_kernel(dx2.data(), dout16.data(), x16.data(), w16.data(), rstd2.data(), C); });
    t_check(same(out2, out16) && same(rstd2, grstd) && same(dx2, dx16),
            "rmsnorm N=%d C=%d under another fiber schedule: out, rstd, dx bitwise identical", N, C);
}

void test_rope(int B, int T, int nh, int hd) {
    const int half = hd / 2;
    const size_t n = (size_t)B * T * nh * hd, pairs = n / 2;
    F32 cs((size_t)T * half), sn((size_t)T * half), x = rnd(n, -1, 1);
    for (int t = 0; t < T; t++)
        for (int i = 0; i < half; i++) {
            double a = t * pow(10000.0, -2.0 * i / hd);
            cs[(size_t)t * half + i] = (float)cos(a);
            sn[(size_t)t * half + i] = (float)sin(a);
        }
    F32 f = x, b = x;
    cpu->rope_fwd(f.data(), cs.data(), sn.data(), B, T, nh, hd);
    cpu->rope_bwd(b.data(), cs.data(), sn.data(), B, T, nh, hd);
    B16 gf = to16(x), gb = to16(x);
    launch(d1(elemwise_blocks(pairs)), d1(ELEMWISE_THREADS), 0,
           [&] { rope_kernel(gf.data(), cs.data(), sn.data(), T, nh, hd, pairs, 1.0f); });
    launch(d1(elemwise_blocks(pairs)), d1(ELEMWISE_THREADS), 0,
           [&] { rope_kernel(gb.data(), cs.data(), sn.data(), T, nh, hd, pairs, -1.0f); });
    char what[96];
    snprintf(what, sizeof what, "rope fwd B=%d T=%d nh=%d hd=%d", B, T, nh, hd);
    near(what, to32(gf), f, REL16, NORM16);
    snprintf(what, sizeof what, "rope bwd B=%d T=%d nh=%d hd=%d", B, T, nh, hd);
    near(what, to32(gb), b, REL16, NORM16);
}

// rows = B·H·T rows of T scores; row r's position is i = r % T.
void test_softmax(int BH, int T) {
    const size_t rows = (size_t)BH * T, n = rows * T;
    F32 s = rnd(n, -6, 6), dp = rnd(n, -1, 1);
    F32 p_ref(n), ds_ref(n);
    B16 s16 = to16(s), p16(n), ds16 = to16(dp);
    launch(d1(softmax_blocks(rows)), d1(SOFTMAX_ROWS_PER_BLOCK * 32), 0,
           [&] { softmax_causal_kernel(p16.data(), s16.data(), rows, T); });
    // the backward reads the kernel's bf16 P, as on the GPU; its reference too
    const F32 p = to32(p16);
    for (size_t r = 0; r < rows; r++) {
        const int i = (int)(r % T);
        const float *sr = &s[r * T];
        double mx = -INFINITY, sum = 0, dot = 0;
        for (int j = 0; j <= i; j++) mx = fmax(mx, sr[j]);
        for (int j = 0; j <= i; j++) sum += exp(sr[j] - mx);
        for (int j = 0; j <= i; j++) dot += (double)p[r * T + j] * dp[r * T + j];
        for (int j = 0; j < T; j++) {
            p_ref[r * T + j] = j <= i ? (float)(exp(sr[j] - mx) / sum) : 0.0f;
            ds_ref[r * T + j] = j <= i ? (float)(p[r * T + j] * (dp[r * T + j] - dot)) : 0.0f;
        }
    }
    launch(d1(softmax_blocks(rows)), d1(SOFTMAX_ROWS_PER_BLOCK * 32), 0,
           [&] { softmax_causal_bwd_kernel(ds16.data(), p16.data(), rows, T); });
    char what[128];
    snprintf(what, sizeof what, "attention softmax (causal) rows=%zu T=%d vs fp64", rows, T);
    near(what, p, p_ref, REL16, NORM16);
    snprintf(what, sizeof what, "attention softmax bwd (in place over dP) rows=%zu T=%d vs fp64", rows, T);
    near(what, to32(ds16), ds_ref, REL16, NORM16 + gemm_norm(T));
    bool zeros = true;
    for (size_t r = 0; r < rows; r++)
        for (int j = (int)(r % T) + 1; j < T; j++) zeros = zeros && p16[r * T + j] == 0 && ds16[r * T + j] == 0;
    t_check(zeros, "attention softmax rows=%zu T=%d: P and dS are +0 above the diagonal", rows, T);
}

void test_swiglu(size_t n) {
    F32 g = rnd(n, -4, 4), u = rnd(n, -2, 2), dh = rnd(n, -1, 1), h(n), dg(n), du(n);
    cpu->swiglu_fwd(h.data(), g.data(), u.data(), n);
    cpu->swiglu_bwd(dg.data(), du.data(), dh.data(), g.data(), u.data(), n);
    B16 g16 = to16(g), u16 = to16(u), dh16 = to16(dh), h16(n), dg16(n), du16(n);
    launch(d1(elemwise_blocks(n)), d1(ELEMWISE_THREADS), 0,
           [&] { swiglu_fwd_kernel(h16.data(), g16.data(), u16.data(), n); });
    launch(d1(elemwise_blocks(n)), d1(ELEMWISE_THREADS), 0,
           [&] { swiglu_bwd_kernel(dg16.data(), du16.data(), dh16.data(), g16.data(), u16.data(), n); });
    char what[64];
    snprintf(what, sizeof what, "swiglu fwd n=%zu", n);
    near(what, to32(h16), h, REL16, NORM16);
    snprintf(what, sizeof what, "swiglu bwd dg n=%zu", n);
    near(what, to32(dg16), dg, REL16, NORM16);
    snprintf(what, sizeof what, "swiglu bwd du n=%zu", n);
    near(what, to32(du16), du, REL16, NORM16);
}

void test_xent(int N, int V) {
    const float dscale = 1.0f / N;
    F32 z = rnd((size_t)N * V, -4, 4), zc = z, loss((size_t)N);
    std::vector<int> tgt(N);
    for (int &t : tgt) t = (int)(t_rand_u64(&rng) % (uint64_t)V);
    cpu->xent_fwd_bwd(loss.data(), zc.data(), tgt.data(), N, V, dscale);
    B16 z16 = to16(z), z16b = z16;
    F32 gl((size_t)N), gl2((size_t)N);
    launch(d1(N), d1(XENT_THREADS), 0, [&] { xent_kernel(gl.data(), z16.data(), tgt.data(), V, dscale); });
    cuda_emu::set_schedule_seed(11);
    launch(d1(N), d1(XENT_THREADS), 0, [&] { xent_kernel(gl2.data(), z16b.data(), tgt.data(), V, 0.0f); });
    char what[128];
    snprintf(what, sizeof what, "xent losses N=%d V=%d (fp32 sum of V exps)", N, V);
    near(what, gl, loss, 1e-5, gemm_norm(V));
    snprintf(what, sizeof what, "xent gradient N=%d V=%d", N, V);
    near(what, to32(z16), zc, REL16, NORM16);
    t_check(same(gl, gl2) && same(z16b, to16(z)),
            "xent N=%d V=%d with dscale 0 (another fiber schedule): same losses bitwise, logits untouched", N, V);
}

void test_optim(size_t n) {
    F32 p = rnd(n, -1, 1), g = rnd(n, -1, 1), m = rnd(n, -0.1f, 0.1f), v = rnd(n, 0, 0.01f);
    F32 pc = p, mc = m, vc = v, gp = p, gm = m, gv = v;
    B16 gpc(n);
    const float lr = 1e-3f, b1 = 0.9f, b2 = 0.95f, eps = 1e-8f, wd = 0.1f;
    for (int t = 1; t <= 3; t++) {
        cpu->adamw(pc.data(), g.data(), mc.data(), vc.data(), NULL, n, lr, b1, b2, eps, wd, t);
        // the launcher's arguments (optim.cu): decay and the bias corrections of step t
        const float bc1 = 1.0f - powf(b1, (float)t), bc2 = 1.0f - powf(b2, (float)t), decay = 1.0f - lr * wd;
        launch(d1(elemwise_blocks(n)), d1(ELEMWISE_THREADS), 0, [&] {
            adamw_kernel(gp.data(), g.data(), gm.data(), gv.data(), gpc.data(), n, lr, b1, b2, eps, decay, bc1, bc2);
        });
    }
    char what[96];
    snprintf(what, sizeof what, "adamw p after 3 steps n=%zu (fp32)", n);
    near(what, gp, pc, 4 * ULP, 4 * ULP);
    snprintf(what, sizeof what, "adamw m n=%zu", n);
    near(what, gm, mc, 4 * ULP, 4 * ULP);
    snprintf(what, sizeof what, "adamw v n=%zu", n);
    near(what, gv, vc, 4 * ULP, 4 * ULP);
    t_check(same(gpc, to16(gp)), "adamw n=%zu: the bf16 copy is p rounded to nearest even, bitwise", n);

    std::vector<double> part(SUMSQ_BLOCKS + 1);
    double gss[2];
    for (int run = 0; run < 2; run++) {
        cuda_emu::set_schedule_seed(100 + run);
        launch(d1(SUMSQ_BLOCKS), d1(SUMSQ_THREADS), 0, [&] { sumsq_partial_kernel(part.data(), g.data(), n); });
        launch(d1(1), d1(SUMSQ_THREADS), 0,
               [&] { sumsq_total_kernel(part.data() + SUMSQ_BLOCKS, part.data(), SUMSQ_BLOCKS); });
        gss[run] = part[SUMSQ_BLOCKS];
    }
    const double ss = cpu->sumsq(g.data(), n);
    t_check(fabs(gss[0] - ss) <= 1e-12 * ss, "sumsq n=%zu: %.17g vs cpu %.17g (fp64 sums, rel 1e-12)", n, gss[0], ss);
    t_check(gss[0] == gss[1], "sumsq n=%zu under two fiber schedules: bitwise identical", n);

    F32 x = rnd(n, -1, 1), y = rnd(n, -1, 1), xs = x, ya = y, gx = x, gy = y;
    cpu->scale(xs.data(), n, 0.37f);
    launch(d1(elemwise_blocks(n)), d1(ELEMWISE_THREADS), 0, [&] { scale_kernel(gx.data(), n, 0.37f); });
    t_check(same(gx, xs), "scale n=%zu (one fp32 multiply): bitwise the CPU's", n);
    cpu->axpy(ya.data(), x.data(), n, -1.7f);
    launch(d1(elemwise_blocks(n)), d1(ELEMWISE_THREADS), 0, [&] { axpy_kernel(gy.data(), x.data(), n, -1.7f); });
    snprintf(what, sizeof what, "axpy n=%zu (fp32; an FMA or not: 1 ulp)", n);
    near(what, gy, ya, 2 * ULP, 2 * ULP);

    F32 raw(n);
    t_fill_uniform(raw.data(), n, &rng, -100, 100);  // not bf16 already: the cast rounds
    B16 c(n);
    launch(d1(elemwise_blocks(n)), d1(ELEMWISE_THREADS), 0, [&] { to_compute_kernel(c.data(), raw.data(), n); });
    t_check(same(c, to16(raw)), "to_compute n=%zu: bitwise the host's round to nearest even", n);
}

}  // namespace

int main() {
    slm_backend *be = slm_backend_cpu();
    cpu = be->ops;
    test_embedding(64, 37, 11);
    test_embedding(300, 256, 50);
    test_embedding(5, 300, 3);  // C > 256: a block loops over its row
    test_rmsnorm(5, 37);
    test_rmsnorm(300, 768);  // 3 row blocks of dw partials
    test_rmsnorm(3, 1000);   // C > 256 threads: dw over 4 column blocks, each thread several c
    test_rope(2, 7, 3, 16);
    test_rope(1, 33, 4, 64);
    test_softmax(2, 13);
    test_softmax(3, 70);  // rows longer than a warp, and rows·T not a multiple of 8 rows per block
    test_swiglu(37);
    test_swiglu(100003);
    test_xent(5, 37);
    test_xent(16, 1000);
    test_optim(37);
    test_optim(100003);
    slm_backend_destroy(be);
    return t_finish("test_kernels_emu");
}
