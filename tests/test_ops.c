// test_ops.c — every op of the backend's table (backend.h) against a plain
// double-precision reference written here, forward and backward, and the memory
// tracker. Shapes are odd (N=5, C=37, …) so the tails of vector loops run.
//
// Forward: max|op − ref| / max|ref| ≤ a tolerance stated at each check (0 for
// copies, 1e-6 for element-wise ops, 1e-5 where the op sums in float).
// Backward, against a double reference where one is short to write, and always by
// central differences: L = Σ dout·f(x) with random dout, the op run in float and L
// summed in double; x[i] ± eps, the divisor being the step actually taken once
// x ± eps is rounded to float. eps = 1e-3, or 1e-2 for rmsnorm, attention and
// cross-entropy, where one input moves many float sums and a 1e-3 step leaves
// their rounding noise near the tolerance (these ops are smooth, so 1e-2 costs
// ~1e-5 of truncation error). Checked on 16 coordinates of each input
// (always the first and the last; all of them when there are fewer) and along one
// random direction over every coordinate. A coordinate passes when
//   |fd − g| ≤ 1e-2·max(|fd|, |g|) + 1e-3·max|g|   (max over the whole gradient),
// the direction when |fd − g·Δ| ≤ 1e-2·max(|fd|, |g·Δ|) + 1e-3·max|g|·‖Δ‖.
// Gradients that accumulate (+=) are also run on pre-filled buffers (result =
// buffer + gradient); outputs written with = are pre-filled with NaN, so an op
// that reads them, or leaves part of them unwritten, fails.
// Buffers go through slm_alloc and be->to_device / be->to_host, so the test ports
// to a backend whose device memory is not host memory.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "testutil.h"

static slm_backend *be;
static const slm_ops *ops;
static uint64_t rng = 20241025;

// ---- buffers: host and device, freed together by free_bufs() ---------------

enum { MAX_BUFS = 128 };
static void *host_bufs[MAX_BUFS], *dev_bufs[MAX_BUFS];
static int n_host, n_dev;

static void *hbytes(size_t bytes) {
    void *p = calloc(1, bytes ? bytes : 1);
    if (!p || n_host == MAX_BUFS) {
        fprintf(stderr, "test_ops: out of host buffers\n");
        exit(1);
    }
    return host_bufs[n_host++] = p;
}
static float *hbuf(size_t n) { return hbytes(n * sizeof(float)); }
static double *hbuf_d(size_t n) { return hbytes(n * sizeof(double)); }

static void *dbytes(size_t bytes) {
    void *p = slm_alloc(be, bytes ? bytes : 1, SLM_MEM_WORKSPACE);
    if (!p || n_dev == MAX_BUFS) {
        fprintf(stderr, "test_ops: slm_alloc of %zu bytes failed\n", bytes);
        exit(1);
    }
    return dev_bufs[n_dev++] = p;
}
static float *dbuf(size_t n) { return dbytes(n * sizeof(float)); }

static void free_bufs(void) {
    while (n_host) free(host_bufs[--n_host]);
    while (n_dev) slm_free(be, dev_bufs[--n_dev]);
}

static void up(void *d, const void *h, size_t bytes) { be->to_device(d, h, bytes); }
static void down(void *h, const void *d, size_t bytes) {
    if (be->sync) be->sync();
    be->to_host(h, d, bytes);
}
static float *dev_copy(const float *h, size_t n) {
    float *d = dbuf(n);
    up(d, h, n * sizeof(float));
    return d;
}
static float *host_copy(const float *d, size_t n) {
    float *h = hbuf(n);
    down(h, d, n * sizeof(float));
    return h;
}
static void set_nan(float *d, size_t n) {
    float *h = malloc((n ? n : 1) * sizeof(float));
    for (size_t i = 0; i < n; i++) h[i] = NAN;
    up(d, h, n * sizeof(float));
    free(h);
}
static float *dev_nan(size_t n) {
    float *d = dbuf(n);
    set_nan(d, n);
    return d;
}
static float *rand_host(size_t n, float lo, float hi) {
    float *h = hbuf(n);
    t_fill_uniform(h, n, &rng, lo, hi);
    return h;
}
static int rand_int(int n) { return (int)(t_rand_u64(&rng) % (uint64_t)n); }

// ---- comparisons -------------------------------------------------------------

// max|a − ref| / max|ref|; +inf when a holds a NaN or an infinity.
static double rel_err(const float *a, const double *ref, size_t n) {
    double maxdiff = 0, maxref = 1e-30;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(a[i])) return INFINITY;
        maxdiff = fmax(maxdiff, fabs((double)a[i] - ref[i]));
        maxref = fmax(maxref, fabs(ref[i]));
    }
    return maxdiff / maxref;
}

// max|a − ref|; +inf when a holds a NaN or an infinity.
static double abs_err(const float *a, const double *ref, size_t n) {
    double maxdiff = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(a[i])) return INFINITY;
        maxdiff = fmax(maxdiff, fabs((double)a[i] - ref[i]));
    }
    return maxdiff;
}

static void check_close(const float *got, const double *ref, size_t n, double tol, const char *what) {
    double e = rel_err(got, ref, n);
    t_check(e <= tol, "%s: rel err %.1e (tol %.0e)", what, e, tol);
}

// Device result d against host (buffer + gradient) in double.
static void check_accumulated(const float *d, const float *before, const float *g, size_t n, double tol,
                              const char *what) {
    float *got = host_copy(d, n);
    double *ref = hbuf_d(n);
    for (size_t i = 0; i < n; i++) ref[i] = (double)before[i] + g[i];
    check_close(got, ref, n, tol, what);
}

// ---- finite differences ------------------------------------------------------

// An op seen as y = f(x[0], x[1], x[2]) with its other arguments fixed; forward
// runs the op on the host inputs x and leaves y on the host.
typedef struct fd_case fd_case;
struct fd_case {
    void (*forward)(fd_case *c, float *y);
    float *x[3];  // host inputs, perturbed in place
    size_t nx[3];
    size_t ny;
    const float *dy;  // dout [ny]
    double eps;       // the step: FD_EPS, or FD_EPS_SUMS for ops whose outputs sum many floats
    double gscale;    // the gradient magnitude that sets the absolute floor; 0 = the checked array's own max
};

enum { FD_SAMPLES = 16 };
static const double FD_EPS = 1e-3, FD_EPS_SUMS = 1e-2, FD_RTOL = 1e-2, FD_ATOL = 1e-3;

static double fd_loss(fd_case *c, float *y) {
    c->forward(c, y);
    double L = 0;
    for (size_t i = 0; i < c->ny; i++) L += (double)c->dy[i] * y[i];
    return L;
}

// Checks g, the op's gradient of L for input `which`, against central differences.
static void fd_check(fd_case *c, int which, const float *g, const char *what) {
    float *x = c->x[which];
    size_t n = c->nx[which];
    float *y = malloc(c->ny * sizeof(float)), *x0 = malloc(n * sizeof(float)), *xp = malloc(n * sizeof(float));
    double gmax = 0;
    int finite = 1;
    for (size_t i = 0; i < n; i++) {
        finite &= isfinite(g[i]) != 0;
        gmax = fmax(gmax, fabs(g[i]));
    }
    gmax = fmax(gmax, c->gscale);
    double atol = FD_ATOL * gmax + 1e-12, worst = 0, worst_dir = INFINITY;
    size_t n_coords = n < FD_SAMPLES ? n : FD_SAMPLES;
    for (size_t s = 0; s < n_coords && finite; s++) {
        size_t i = n <= FD_SAMPLES ? s : s == 0 ? 0 : s == 1 ? n - 1 : (size_t)(t_rand_u64(&rng) % n);
        float orig = x[i];
        float hi = x[i] = orig + (float)c->eps;
        double lp = fd_loss(c, y);
        float lo = x[i] = orig - (float)c->eps;
        double lm = fd_loss(c, y);
        x[i] = orig;
        double fd = (lp - lm) / ((double)hi - lo);
        double r = fabs(fd - g[i]) / (FD_RTOL * fmax(fabs(fd), fabs(g[i])) + atol);
        if (!(r <= worst)) worst = isnan(r) ? INFINITY : r;
    }
    if (finite) {  // one random direction over all coordinates
        memcpy(x0, x, n * sizeof(float));
        float *dir = malloc(n * sizeof(float));
        t_fill_uniform(dir, n, &rng, -1, 1);
        for (size_t i = 0; i < n; i++) xp[i] = x[i] = x0[i] + (float)c->eps * dir[i];
        double lp = fd_loss(c, y);
        for (size_t i = 0; i < n; i++) x[i] = x0[i] - (float)c->eps * dir[i];
        double lm = fd_loss(c, y);
        double want = 0, step2 = 0;
        for (size_t i = 0; i < n; i++) {
            double step = (double)xp[i] - x[i];
            want += g[i] * step;
            step2 += step * step;
        }
        memcpy(x, x0, n * sizeof(float));
        double fd = lp - lm;
        worst_dir = fabs(fd - want) / (FD_RTOL * fmax(fabs(fd), fabs(want)) + FD_ATOL * gmax * sqrt(step2) + 1e-12);
        if (isnan(worst_dir)) worst_dir = INFINITY;
        free(dir);
    }
    t_check(finite && worst <= 1 && worst_dir <= 1,
            "%s: %zu coords + 1 direction match central differences, eps %.0e (worst %.2f, direction %.2f of "
            "tolerance%s)",
            what, n_coords, c->eps, worst, worst_dir, finite ? "" : "; gradient not finite");
    free(y);
    free(x0);
    free(xp);
}

// ---- memory tracker ----------------------------------------------------------

static size_t sum_cats(const size_t *v) {
    size_t s = 0;
    for (int c = 0; c < SLM_MEM_NCAT; c++) s += v[c];
    return s;
}

static int cats_equal(const size_t *a, const size_t *b) { return !memcmp(a, b, SLM_MEM_NCAT * sizeof(size_t)); }

static void test_memory(void) {
    slm_mem_tracker *mt = &be->mem;
    slm_mem_reset_peak(be);
    size_t cur0[SLM_MEM_NCAT], total0 = mt->cur_total;
    memcpy(cur0, mt->cur, sizeof cur0);
    t_check(mt->peak_total == total0 && cats_equal(mt->peak, cur0) && cats_equal(mt->at_peak, cur0) &&
                sum_cats(cur0) == total0,
            "memory: after slm_mem_reset_peak, peaks equal current usage (%zu bytes)", total0);
    t_check(mt->oom_request == 0 && mt->limit == 0, "memory: no limit and no OOM recorded on a fresh backend");

    void *a = slm_alloc(be, 1001, SLM_MEM_PARAMS), *b = slm_alloc(be, 403, SLM_MEM_GRADS);
    t_check(a && b && mt->cur[SLM_MEM_PARAMS] == cur0[SLM_MEM_PARAMS] + 1001 &&
                mt->cur[SLM_MEM_GRADS] == cur0[SLM_MEM_GRADS] + 403 && mt->cur_total == total0 + 1404 &&
                mt->peak_total == total0 + 1404 && mt->peak[SLM_MEM_PARAMS] == cur0[SLM_MEM_PARAMS] + 1001,
            "memory: alloc 1001 B params + 403 B grads counted in cur, peak and totals");
    slm_free(be, a);
    t_check(mt->cur[SLM_MEM_PARAMS] == cur0[SLM_MEM_PARAMS] && mt->cur_total == total0 + 403 &&
                mt->peak[SLM_MEM_PARAMS] == cur0[SLM_MEM_PARAMS] + 1001 && mt->peak_total == total0 + 1404,
            "memory: free lowers cur, keeps peaks (params cur %zu, total %zu, peak total %zu)", mt->cur[SLM_MEM_PARAMS],
            mt->cur_total, mt->peak_total);
    void *c = slm_alloc(be, 707, SLM_MEM_ACTIVATIONS);
    size_t want_at_peak[SLM_MEM_NCAT];
    memcpy(want_at_peak, cur0, sizeof want_at_peak);
    want_at_peak[SLM_MEM_PARAMS] += 1001;
    want_at_peak[SLM_MEM_GRADS] += 403;
    t_check(c && mt->peak[SLM_MEM_ACTIVATIONS] == cur0[SLM_MEM_ACTIVATIONS] + 707 && mt->peak_total == total0 + 1404 &&
                cats_equal(mt->at_peak, want_at_peak) && sum_cats(mt->at_peak) == mt->peak_total,
            "memory: a category's own peak rises while the total stays under its peak; at_peak keeps the "
            "split of the total peak and sums to it");
    void *d = slm_alloc(be, 2001, SLM_MEM_ATTENTION);
    memcpy(want_at_peak, mt->cur, sizeof want_at_peak);
    t_check(d && mt->peak_total == total0 + 403 + 707 + 2001 && mt->cur_total == mt->peak_total &&
                cats_equal(mt->at_peak, want_at_peak) && sum_cats(mt->at_peak) == mt->peak_total,
            "memory: a new total peak (%zu) moves at_peak to the current split", mt->peak_total);

    mt->limit = mt->cur_total + 1000;
    size_t cur1[SLM_MEM_NCAT], total1 = mt->cur_total, peak1 = mt->peak_total;
    memcpy(cur1, mt->cur, sizeof cur1);
    void *e = slm_alloc(be, 1001, SLM_MEM_COMM);
    t_check(!e && mt->oom_request == 1001 && mt->oom_cat == SLM_MEM_COMM && mt->cur_total == total1 &&
                cats_equal(mt->cur, cur1) && mt->peak_total == peak1,
            "memory: 1001 B past a limit 1000 B away -> NULL, oom_request %zu, oom_cat %s, cur unchanged",
            mt->oom_request, slm_mem_cat_names[mt->oom_cat]);
    if (e) slm_free(be, e);
    void *f = slm_alloc(be, 1000, SLM_MEM_COMM);
    t_check(f && mt->cur[SLM_MEM_COMM] == cur1[SLM_MEM_COMM] + 1000 && mt->cur_total == mt->limit,
            "memory: an allocation that reaches the limit exactly succeeds");
    slm_free(be, f);
    mt->limit = 0;
    slm_free(be, b);
    slm_free(be, c);
    slm_free(be, d);
    t_check(cats_equal(mt->cur, cur0) && mt->cur_total == total0,
            "memory: every free returns its category to where it started");
    slm_mem_reset_peak(be);
    t_check(mt->peak_total == mt->cur_total && cats_equal(mt->peak, mt->cur) && cats_equal(mt->at_peak, mt->cur),
            "memory: slm_mem_reset_peak brings peaks down to current usage");
}

static void test_free_all(void) {
    slm_alloc(be, 17, SLM_MEM_PARAMS);
    slm_alloc(be, 33, SLM_MEM_WORKSPACE);
    slm_alloc(be, 65, SLM_MEM_COMM);
    slm_mem_free_all(be);
    size_t zero[SLM_MEM_NCAT] = {0};
    t_check(be->mem.cur_total == 0 && cats_equal(be->mem.cur, zero) && be->mem.n_live == 0,
            "memory: slm_mem_free_all frees every live allocation (cur total %zu, live %d)", be->mem.cur_total,
            be->mem.n_live);
}

// ---- embedding ---------------------------------------------------------------

typedef struct {
    fd_case fd;
    float *d_out, *d_wte;
    int *d_tok;
    int N, C;
} embedding_case;

static void embedding_forward(fd_case *c, float *y) {
    embedding_case *e = (embedding_case *)c;
    up(e->d_wte, c->x[0], c->nx[0] * sizeof(float));
    ops->embedding_fwd(e->d_out, e->d_wte, e->d_tok, e->N, e->C);
    down(y, e->d_out, c->ny * sizeof(float));
}

static void test_embedding(void) {
    enum { V = 11, N = 9, C = 37 };
    int tok[N] = {3, 0, 10, 3, 7, 3, 10, 1, 0};  // repeated ids, and the first and last
    char what[128];
    float *wte = rand_host(V * C, -1, 1), *dout = rand_host(N * C, -1, 1);
    embedding_case e = {
        .fd = {embedding_forward, {wte}, {V * C}, N * C, dout, FD_EPS},
        .d_out = dev_nan(N * C),
        .d_wte = dev_copy(wte, V * C),
        .d_tok = dbytes(sizeof tok),
        .N = N,
        .C = C,
    };
    up(e.d_tok, tok, sizeof tok);

    ops->embedding_fwd(e.d_out, e.d_wte, e.d_tok, N, C);
    double *ref = hbuf_d(N * C);
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) ref[n * C + c] = wte[tok[n] * C + c];
    snprintf(what, sizeof what, "embedding_fwd [N=%d, C=%d, V=%d]", N, C, V);
    check_close(host_copy(e.d_out, N * C), ref, N * C, 0, what);

    float *d_dwte = dbuf(V * C), *d_dout = dev_copy(dout, N * C);
    be->zero(d_dwte, V * C * sizeof(float));
    ops->embedding_bwd(d_dwte, d_dout, e.d_tok, N, C);
    float *g = host_copy(d_dwte, V * C);
    double *gref = hbuf_d(V * C);
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) gref[tok[n] * C + c] += dout[n * C + c];
    snprintf(what, sizeof what, "embedding_bwd [N=%d, C=%d, V=%d], repeated ids, vs reference", N, C, V);
    check_close(g, gref, V * C, 1e-6, what);
    float *before = rand_host(V * C, -1, 1);
    up(d_dwte, before, V * C * sizeof(float));
    ops->embedding_bwd(d_dwte, d_dout, e.d_tok, N, C);
    check_accumulated(d_dwte, before, g, V * C, 1e-6, "embedding_bwd accumulates: dwte = before + grad");
    fd_check(&e.fd, 0, g, "embedding_bwd dwte");
    free_bufs();
}

// ---- rmsnorm -----------------------------------------------------------------

typedef struct {
    fd_case fd;
    float *d_out, *d_rstd, *d_x, *d_w;
    int N, C;
    float eps;
} rmsnorm_case;

static void rmsnorm_forward(fd_case *c, float *y) {
    rmsnorm_case *r = (rmsnorm_case *)c;
    up(r->d_x, c->x[0], c->nx[0] * sizeof(float));
    up(r->d_w, c->x[1], c->nx[1] * sizeof(float));
    ops->rmsnorm_fwd(r->d_out, r->d_rstd, r->d_x, r->d_w, r->N, r->C, r->eps);
    down(y, r->d_out, c->ny * sizeof(float));
}

static void test_rmsnorm(int N, int C) {
    const float eps = 1e-5f;
    char what[128];
    float *x = rand_host((size_t)N * C, -2, 2), *w = rand_host(C, 0.5f, 1.5f), *dout = rand_host((size_t)N * C, -1, 1);
    size_t NC = (size_t)N * C;
    rmsnorm_case r = {
        .fd = {rmsnorm_forward, {x, w}, {NC, C}, NC, dout, FD_EPS_SUMS},
        .d_out = dev_nan(NC),
        .d_rstd = dev_nan(N),
        .d_x = dev_copy(x, NC),
        .d_w = dev_copy(w, C),
        .N = N,
        .C = C,
        .eps = eps,
    };
    ops->rmsnorm_fwd(r.d_out, r.d_rstd, r.d_x, r.d_w, N, C, eps);
    double *ref = hbuf_d(NC), *rstd_ref = hbuf_d(N);
    for (int n = 0; n < N; n++) {
        double ss = 0;
        for (int c = 0; c < C; c++) ss += (double)x[n * C + c] * x[n * C + c];
        rstd_ref[n] = 1 / sqrt(ss / C + eps);
        for (int c = 0; c < C; c++) ref[n * C + c] = x[n * C + c] * rstd_ref[n] * w[c];
    }
    snprintf(what, sizeof what, "rmsnorm_fwd [N=%d, C=%d] out", N, C);
    check_close(host_copy(r.d_out, NC), ref, NC, 1e-5, what);
    snprintf(what, sizeof what, "rmsnorm_fwd [N=%d, C=%d] rstd", N, C);
    check_close(host_copy(r.d_rstd, N), rstd_ref, N, 1e-5, what);

    float *d_dx = dbuf(NC), *d_dw = dbuf(C), *d_dout = dev_copy(dout, NC);
    be->zero(d_dx, NC * sizeof(float));
    be->zero(d_dw, C * sizeof(float));
    ops->rmsnorm_bwd(d_dx, d_dw, d_dout, r.d_x, r.d_w, r.d_rstd, N, C);
    float *gx = host_copy(d_dx, NC), *gw = host_copy(d_dw, C);
    // dx = r·w·dout − x·r³·Σ(dout·w·x)/C,  dw = Σₙ dout·x·r
    double *dx_ref = hbuf_d(NC), *dw_ref = hbuf_d(C);
    for (int n = 0; n < N; n++) {
        const float *xn = x + (size_t)n * C, *gn = dout + (size_t)n * C;
        double rs = rstd_ref[n], dot = 0;
        for (int c = 0; c < C; c++) dot += (double)gn[c] * w[c] * xn[c];
        for (int c = 0; c < C; c++) {
            dx_ref[n * C + c] = rs * w[c] * gn[c] - xn[c] * rs * rs * rs * dot / C;
            dw_ref[c] += (double)gn[c] * xn[c] * rs;
        }
    }
    snprintf(what, sizeof what, "rmsnorm_bwd [N=%d, C=%d] dx (+= on zero) vs reference", N, C);
    check_close(gx, dx_ref, NC, 1e-5, what);
    snprintf(what, sizeof what, "rmsnorm_bwd [N=%d, C=%d] dw (+= on zero) vs reference", N, C);
    check_close(gw, dw_ref, C, 1e-5, what);
    float *bx = rand_host(NC, -1, 1), *bw = rand_host(C, -1, 1);
    up(d_dx, bx, NC * sizeof(float));
    up(d_dw, bw, C * sizeof(float));
    ops->rmsnorm_bwd(d_dx, d_dw, d_dout, r.d_x, r.d_w, r.d_rstd, N, C);
    snprintf(what, sizeof what, "rmsnorm_bwd [N=%d, C=%d] accumulates: dx = before + grad", N, C);
    check_accumulated(d_dx, bx, gx, NC, 1e-5, what);
    snprintf(what, sizeof what, "rmsnorm_bwd [N=%d, C=%d] accumulates: dw = before + grad", N, C);
    check_accumulated(d_dw, bw, gw, C, 1e-5, what);
    snprintf(what, sizeof what, "rmsnorm_bwd [N=%d, C=%d] dx", N, C);
    fd_check(&r.fd, 0, gx, what);
    snprintf(what, sizeof what, "rmsnorm_bwd [N=%d, C=%d] dw", N, C);
    fd_check(&r.fd, 1, gw, what);
    free_bufs();
}

// ---- matmul ------------------------------------------------------------------

typedef struct {
    fd_case fd;
    float *d_out, *d_in, *d_w;
    int N, IC, OC;
} matmul_case;

static void matmul_forward(fd_case *c, float *y) {
    matmul_case *m = (matmul_case *)c;
    up(m->d_in, c->x[0], c->nx[0] * sizeof(float));
    up(m->d_w, c->x[1], c->nx[1] * sizeof(float));
    ops->matmul_fwd(m->d_out, m->d_in, m->d_w, m->N, m->IC, m->OC, 0);
    down(y, m->d_out, c->ny * sizeof(float));
}

static void test_matmul(int N, int IC, int OC) {
    char what[160];
    size_t nin = (size_t)N * IC, nw = (size_t)OC * IC, nout = (size_t)N * OC;
    float *in = rand_host(nin, -1, 1), *w = rand_host(nw, -1, 1), *dout = rand_host(nout, -1, 1);
    matmul_case m = {
        .fd = {matmul_forward, {in, w}, {nin, nw}, nout, dout, FD_EPS},
        .d_out = dev_nan(nout),
        .d_in = dev_copy(in, nin),
        .d_w = dev_copy(w, nw),
        .N = N,
        .IC = IC,
        .OC = OC,
    };
    double *ref = hbuf_d(nout), *din_ref = hbuf_d(nin), *dw_ref = hbuf_d(nw);
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++)
            for (int i = 0; i < IC; i++) {
                ref[n * OC + o] += (double)in[n * IC + i] * w[o * IC + i];
                din_ref[n * IC + i] += (double)dout[n * OC + o] * w[o * IC + i];
                dw_ref[o * IC + i] += (double)dout[n * OC + o] * in[n * IC + i];
            }
    ops->matmul_fwd(m.d_out, m.d_in, m.d_w, N, IC, OC, 0);
    snprintf(what, sizeof what, "matmul_fwd [N=%d, IC=%d, OC=%d] accumulate=0", N, IC, OC);
    check_close(host_copy(m.d_out, nout), ref, nout, 1e-5, what);
    float *before = rand_host(nout, -1, 1);
    up(m.d_out, before, nout * sizeof(float));
    ops->matmul_fwd(m.d_out, m.d_in, m.d_w, N, IC, OC, 1);
    for (size_t i = 0; i < nout; i++) ref[i] += before[i];
    snprintf(what, sizeof what, "matmul_fwd [N=%d, IC=%d, OC=%d] accumulate=1: out = before + in·wT", N, IC, OC);
    check_close(host_copy(m.d_out, nout), ref, nout, 1e-5, what);

    float *d_dout = dev_copy(dout, nout), *d_din = dev_nan(nin), *d_dw = dbuf(nw);
    be->zero(d_dw, nw * sizeof(float));
    ops->matmul_bwd(d_din, d_dw, d_dout, m.d_in, m.d_w, N, IC, OC, 0);
    float *gin = host_copy(d_din, nin), *gw = host_copy(d_dw, nw);
    snprintf(what, sizeof what, "matmul_bwd [N=%d, IC=%d, OC=%d] din (=) vs reference", N, IC, OC);
    check_close(gin, din_ref, nin, 1e-5, what);
    snprintf(what, sizeof what, "matmul_bwd [N=%d, IC=%d, OC=%d] dw (+= on zero) vs reference", N, IC, OC);
    check_close(gw, dw_ref, nw, 1e-5, what);

    float *bin = rand_host(nin, -1, 1), *bw = rand_host(nw, -1, 1);
    up(d_din, bin, nin * sizeof(float));
    up(d_dw, bw, nw * sizeof(float));
    ops->matmul_bwd(d_din, d_dw, d_dout, m.d_in, m.d_w, N, IC, OC, 1);
    snprintf(what, sizeof what, "matmul_bwd [N=%d, IC=%d, OC=%d] accumulate_din=1: din = before + grad", N, IC, OC);
    check_accumulated(d_din, bin, gin, nin, 1e-5, what);
    snprintf(what, sizeof what, "matmul_bwd [N=%d, IC=%d, OC=%d] dw = before + grad", N, IC, OC);
    check_accumulated(d_dw, bw, gw, nw, 1e-5, what);

    up(d_dw, bw, nw * sizeof(float));
    ops->matmul_bwd(NULL, d_dw, d_dout, m.d_in, m.d_w, N, IC, OC, 0);
    snprintf(what, sizeof what, "matmul_bwd [N=%d, IC=%d, OC=%d] din=NULL: dw = before + grad", N, IC, OC);
    check_accumulated(d_dw, bw, gw, nw, 1e-5, what);
    float *d_din2 = dev_nan(nin);
    ops->matmul_bwd(d_din2, NULL, d_dout, m.d_in, m.d_w, N, IC, OC, 0);
    snprintf(what, sizeof what, "matmul_bwd [N=%d, IC=%d, OC=%d] dw=NULL: din", N, IC, OC);
    check_close(host_copy(d_din2, nin), din_ref, nin, 1e-5, what);

    snprintf(what, sizeof what, "matmul_bwd [N=%d, IC=%d, OC=%d] din", N, IC, OC);
    fd_check(&m.fd, 0, gin, what);
    snprintf(what, sizeof what, "matmul_bwd [N=%d, IC=%d, OC=%d] dw", N, IC, OC);
    fd_check(&m.fd, 1, gw, what);
    free_bufs();
}

// ---- rope --------------------------------------------------------------------

typedef struct {
    fd_case fd;
    float *d_x, *d_cos, *d_sin;
    int B, T, nh, hd;
} rope_case;

static void rope_forward(fd_case *c, float *y) {
    rope_case *r = (rope_case *)c;
    up(r->d_x, c->x[0], c->nx[0] * sizeof(float));
    ops->rope_fwd(r->d_x, r->d_cos, r->d_sin, r->B, r->T, r->nh, r->hd);
    down(y, r->d_x, c->ny * sizeof(float));
}

// HF rotate-half: out[i] = x[i]·cos − x[i+h]·sin, out[i+h] = x[i+h]·cos + x[i]·sin;
// sign −1 rotates back (the inverse, which is the transpose).
static void rope_ref(double *out, const float *x, const float *cos_t, const float *sin_t, int B, int T, int nh, int hd,
                     int sign) {
    int half = hd / 2;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int h = 0; h < nh; h++) {
                size_t o = (((size_t)b * T + t) * nh + h) * hd;
                for (int i = 0; i < half; i++) {
                    double c = cos_t[t * half + i], s = sign * (double)sin_t[t * half + i];
                    double x1 = x[o + i], x2 = x[o + i + half];
                    out[o + i] = x1 * c - x2 * s;
                    out[o + i + half] = x2 * c + x1 * s;
                }
            }
}

static void test_rope(int B, int T, int nh, int hd) {
    const int T_max = T + 4, half = hd / 2;
    const double theta = 10000;
    char what[128];
    size_t n = (size_t)B * T * nh * hd;
    float *cos_t = hbuf((size_t)T_max * half), *sin_t = hbuf((size_t)T_max * half);
    for (int t = 0; t < T_max; t++)
        for (int i = 0; i < half; i++) {
            double angle = t * pow(theta, -2.0 * i / hd);
            cos_t[t * half + i] = (float)cos(angle);
            sin_t[t * half + i] = (float)sin(angle);
        }
    float *x = rand_host(n, -1, 1), *dout = rand_host(n, -1, 1);
    rope_case r = {
        .fd = {rope_forward, {x}, {n}, n, dout, FD_EPS},
        .d_x = dev_copy(x, n),
        .d_cos = dev_copy(cos_t, (size_t)T_max * half),
        .d_sin = dev_copy(sin_t, (size_t)T_max * half),
        .B = B,
        .T = T,
        .nh = nh,
        .hd = hd,
    };
    double *ref = hbuf_d(n);
    ops->rope_fwd(r.d_x, r.d_cos, r.d_sin, B, T, nh, hd);
    float *y = host_copy(r.d_x, n);
    rope_ref(ref, x, cos_t, sin_t, B, T, nh, hd, 1);
    snprintf(what, sizeof what, "rope_fwd [B=%d, T=%d, nh=%d, hd=%d] (tables [%d, %d])", B, T, nh, hd, T_max, half);
    check_close(y, ref, n, 1e-6, what);
    ops->rope_bwd(r.d_x, r.d_cos, r.d_sin, B, T, nh, hd);
    double *xd = hbuf_d(n);
    for (size_t i = 0; i < n; i++) xd[i] = x[i];
    snprintf(what, sizeof what, "rope_bwd(rope_fwd(x)) = x [B=%d, T=%d, nh=%d, hd=%d]", B, T, nh, hd);
    check_close(host_copy(r.d_x, n), xd, n, 1e-6, what);

    float *d_g = dev_copy(dout, n);
    ops->rope_bwd(d_g, r.d_cos, r.d_sin, B, T, nh, hd);
    float *g = host_copy(d_g, n);
    rope_ref(ref, dout, cos_t, sin_t, B, T, nh, hd, -1);
    snprintf(what, sizeof what, "rope_bwd [B=%d, T=%d, nh=%d, hd=%d] vs inverse rotation", B, T, nh, hd);
    check_close(g, ref, n, 1e-6, what);
    snprintf(what, sizeof what, "rope_bwd [B=%d, T=%d, nh=%d, hd=%d]", B, T, nh, hd);
    fd_check(&r.fd, 0, g, what);
    free_bufs();
}

// ---- attention ---------------------------------------------------------------

typedef struct {
    fd_case fd;
    slm_attn_fwd_fn fwd;
    float *d_out, *d_saved, *d_scratch, *d_q, *d_k, *d_v;
    int B, T, H, KVH, hd;
} attn_case;

static void attn_forward(fd_case *c, float *y) {
    attn_case *a = (attn_case *)c;
    up(a->d_q, c->x[0], c->nx[0] * sizeof(float));
    up(a->d_k, c->x[1], c->nx[1] * sizeof(float));
    up(a->d_v, c->x[2], c->nx[2] * sizeof(float));
    a->fwd(a->d_out, a->d_saved, a->d_scratch, a->d_q, a->d_k, a->d_v, a->B, a->T, a->H, a->KVH, a->hd);
    down(y, a->d_out, c->ny * sizeof(float));
}

// Causal softmax(q·kᵀ/√hd)·v per query head; query head h reads kv head h/(H/KVH).
// And its gradients for dout: dP = dout·vᵀ, dS = P∘(dP − Σⱼ P∘dP),
// dq = dS·k/√hd, dk += dSᵀ·q/√hd, dv += Pᵀ·dout (dk, dv zeroed by the caller).
static void attn_ref(double *out, double *dq, double *dk, double *dv, const float *dout, const float *q, const float *k,
                     const float *v, int B, int T, int H, int KVH, int hd) {
    double *p = malloc((size_t)T * sizeof(double)), *dp = malloc((size_t)T * sizeof(double)), scale = 1 / sqrt(hd);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            int kh = h / (H / KVH);
            for (int t = 0; t < T; t++) {
                size_t qo = (((size_t)b * T + t) * H + h) * hd;
                double mx = -INFINITY, sum = 0;
                for (int j = 0; j <= t; j++) {
                    const float *kj = k + (((size_t)b * T + j) * KVH + kh) * hd;
                    double s = 0;
                    for (int d = 0; d < hd; d++) s += (double)q[qo + d] * kj[d];
                    p[j] = s * scale;
                    mx = fmax(mx, p[j]);
                }
                for (int j = 0; j <= t; j++) {
                    p[j] = exp(p[j] - mx);
                    sum += p[j];
                }
                for (int j = 0; j <= t; j++) p[j] /= sum;
                for (int d = 0; d < hd; d++) {
                    double o = 0;
                    for (int j = 0; j <= t; j++) o += p[j] * v[(((size_t)b * T + j) * KVH + kh) * hd + d];
                    out[qo + d] = o;
                }
                double pdp = 0;
                for (int j = 0; j <= t; j++) {
                    size_t kvo = (((size_t)b * T + j) * KVH + kh) * hd;
                    dp[j] = 0;
                    for (int d = 0; d < hd; d++) {
                        dp[j] += (double)dout[qo + d] * v[kvo + d];
                        dv[kvo + d] += p[j] * dout[qo + d];
                    }
                    pdp += p[j] * dp[j];
                }
                for (int d = 0; d < hd; d++) dq[qo + d] = 0;
                for (int j = 0; j <= t; j++) {
                    size_t kvo = (((size_t)b * T + j) * KVH + kh) * hd;
                    double ds = p[j] * (dp[j] - pdp) * scale;
                    for (int d = 0; d < hd; d++) {
                        dq[qo + d] += ds * k[kvo + d];
                        dk[kvo + d] += ds * q[qo + d];
                    }
                }
            }
        }
    free(p);
    free(dp);
}

static void test_attention(slm_attention kind, slm_attn_fwd_fn fwd, slm_attn_bwd_fn bwd, int B, int T, int H, int KVH,
                           int hd) {
    char what[160], shape[96];
    snprintf(shape, sizeof shape, "attention_%s [B=%d, T=%d, H=%d, KVH=%d, hd=%d]", slm_attention_names[kind], B, T, H,
             KVH, hd);
    size_t nq = (size_t)B * T * H * hd, nkv = (size_t)B * T * KVH * hd, saved_b, scratch_b;
    slm_attention_sizes(kind, B, T, H, hd, sizeof(float), &saved_b, &scratch_b);
    const size_t saved_n = saved_b / sizeof(float), scratch_n = scratch_b / sizeof(float);
    float *q = rand_host(nq, -1.5f, 1.5f), *k = rand_host(nkv, -1.5f, 1.5f), *v = rand_host(nkv, -1, 1);
    float *dout = rand_host(nq, -1, 1);
    attn_case a = {
        .fd = {attn_forward, {q, k, v}, {nq, nkv, nkv}, nq, dout, FD_EPS_SUMS},
        .fwd = fwd,
        .d_out = dev_nan(nq),
        .d_saved = dev_nan(saved_n),
        .d_scratch = dev_nan(scratch_n),
        .d_q = dev_copy(q, nq),
        .d_k = dev_copy(k, nkv),
        .d_v = dev_copy(v, nkv),
        .B = B,
        .T = T,
        .H = H,
        .KVH = KVH,
        .hd = hd,
    };
    fwd(a.d_out, a.d_saved, a.d_scratch, a.d_q, a.d_k, a.d_v, B, T, H, KVH, hd);
    double *ref = hbuf_d(nq), *dq_ref = hbuf_d(nq), *dk_ref = hbuf_d(nkv), *dv_ref = hbuf_d(nkv);
    attn_ref(ref, dq_ref, dk_ref, dv_ref, dout, q, k, v, B, T, H, KVH, hd);
    snprintf(what, sizeof what, "%s fwd", shape);
    check_close(host_copy(a.d_out, nq), ref, nq, 1e-5, what);

    float *d_dout = dev_copy(dout, nq), *d_dq = dev_nan(nq), *d_dk = dev_nan(nkv), *d_dv = dev_nan(nkv);
    bwd(d_dq, d_dk, d_dv, a.d_scratch, d_dout, a.d_out, a.d_saved, a.d_q, a.d_k, a.d_v, B, T, H, KVH, hd);
    float *gq = host_copy(d_dq, nq), *gk = host_copy(d_dk, nkv), *gv = host_copy(d_dv, nkv);
    // Errors are measured against the largest entry of dq, dk and dv together:
    // at T = 1 the output does not depend on q or k, their exact gradients are
    // 0, and what a kernel returns there is rounding at the scale of dv.
    double gscale = 0;
    for (size_t i = 0; i < nq; i++) gscale = fmax(gscale, fabs(dq_ref[i]));
    for (size_t i = 0; i < nkv; i++) gscale = fmax(gscale, fmax(fabs(dk_ref[i]), fabs(dv_ref[i])));
    a.fd.gscale = gscale;
    snprintf(what, sizeof what, "%s bwd dq, dk, dv vs reference", shape);
    double e = fmax(abs_err(gq, dq_ref, nq), fmax(abs_err(gk, dk_ref, nkv), abs_err(gv, dv_ref, nkv))) / gscale;
    t_check(e <= 1e-5, "%s: rel err %.1e (tol 1e-05)", what, e);
    snprintf(what, sizeof what, "%s bwd dq", shape);
    fd_check(&a.fd, 0, gq, what);
    snprintf(what, sizeof what, "%s bwd dk", shape);
    fd_check(&a.fd, 1, gk, what);
    snprintf(what, sizeof what, "%s bwd dv", shape);
    fd_check(&a.fd, 2, gv, what);
    free_bufs();
}

static void test_attention_kind(slm_attention kind, slm_attn_fwd_fn fwd, slm_attn_bwd_fn bwd) {
    static const int shapes[][5] = {
        // B, T, H, KVH, hd
        {1, 1, 1, 1, 8}, {2, 1, 4, 2, 32},  {2, 7, 3, 3, 8},   {1, 7, 6, 3, 32},
        {2, 7, 4, 1, 8}, {1, 13, 8, 2, 32}, {1, 67, 4, 2, 32}, {2, 33, 2, 2, 8},
    };
    if (!fwd || !bwd) {
        printf("skipped: %s attention not implemented\n", slm_attention_names[kind]);
        return;
    }
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const int *s = shapes[i];
        test_attention(kind, fwd, bwd, s[0], s[1], s[2], s[3], s[4]);
    }
}

// ---- swiglu ------------------------------------------------------------------

typedef struct {
    fd_case fd;
    float *d_h, *d_g, *d_u;
} swiglu_case;

static void swiglu_forward(fd_case *c, float *y) {
    swiglu_case *s = (swiglu_case *)c;
    up(s->d_g, c->x[0], c->nx[0] * sizeof(float));
    up(s->d_u, c->x[1], c->nx[1] * sizeof(float));
    ops->swiglu_fwd(s->d_h, s->d_g, s->d_u, c->ny);
    down(y, s->d_h, c->ny * sizeof(float));
}

static void test_swiglu(size_t n) {
    char what[96];
    float *g = rand_host(n, -6, 6), *u = rand_host(n, -2, 2), *dh = rand_host(n, -1, 1);
    g[0] = -30, g[1] = 30, g[2] = 0;                                // saturated and zero gates
    if (n > 8) g[3] = -100, g[4] = 100, g[5] = -1000, g[6] = 1000;  // exp(−g) past float's range both ways
    swiglu_case s = {
        .fd = {swiglu_forward, {g, u}, {n, n}, n, dh, FD_EPS},
        .d_h = dev_nan(n),
        .d_g = dev_copy(g, n),
        .d_u = dev_copy(u, n),
    };
    ops->swiglu_fwd(s.d_h, s.d_g, s.d_u, n);
    double *ref = hbuf_d(n), *dg_ref = hbuf_d(n), *du_ref = hbuf_d(n);
    for (size_t i = 0; i < n; i++) {
        double sg = 1 / (1 + exp(-(double)g[i])), silu = g[i] * sg;
        ref[i] = silu * u[i];
        dg_ref[i] = dh[i] * u[i] * sg * (1 + g[i] * (1 - sg));
        du_ref[i] = dh[i] * silu;
    }
    snprintf(what, sizeof what, "swiglu_fwd [n=%zu]", n);
    check_close(host_copy(s.d_h, n), ref, n, 1e-6, what);
    float *d_dh = dev_copy(dh, n), *d_dg = dev_nan(n), *d_du = dev_nan(n);
    ops->swiglu_bwd(d_dg, d_du, d_dh, s.d_g, s.d_u, n);
    float *gg = host_copy(d_dg, n), *gu = host_copy(d_du, n);
    snprintf(what, sizeof what, "swiglu_bwd [n=%zu] dg vs reference", n);
    check_close(gg, dg_ref, n, 1e-6, what);
    snprintf(what, sizeof what, "swiglu_bwd [n=%zu] du vs reference", n);
    check_close(gu, du_ref, n, 1e-6, what);
    snprintf(what, sizeof what, "swiglu_bwd [n=%zu] dg", n);
    fd_check(&s.fd, 0, gg, what);
    snprintf(what, sizeof what, "swiglu_bwd [n=%zu] du", n);
    fd_check(&s.fd, 1, gu, what);
    free_bufs();
}

// ---- softmax + cross-entropy ---------------------------------------------------

typedef struct {
    fd_case fd;
    float *d_losses, *d_logits;
    int *d_tgt;
    int N, V;
} xent_case;

static void xent_forward(fd_case *c, float *y) {
    xent_case *x = (xent_case *)c;
    up(x->d_logits, c->x[0], c->nx[0] * sizeof(float));
    ops->xent_fwd_bwd(x->d_losses, x->d_logits, x->d_tgt, x->N, x->V, 0.0f);
    down(y, x->d_losses, c->ny * sizeof(float));
}

// large = 0: logits in ±3, checked by finite differences too (dscale·Σ losses, with
// dscale·ones as dout). large = 1: rows of logits in ±50, around +50, −50, +200
// and −200 (where exp overflows or underflows without the max subtracted); against
// the reference only, because a float loss of ~100 carries a rounding error that
// a small step turns into a derivative error larger than the smallest gradients.
static void test_xent(int N, int V, int large, float dscale) {
    static const float centre[] = {0, 50, -50, 200, -200};
    char what[160], shape[96];
    snprintf(shape, sizeof shape, "xent [N=%d, V=%d, logits %s, dscale %g]", N, V, large ? "up to ±200" : "±3", dscale);
    size_t nl = (size_t)N * V;
    float *logits = hbuf(nl), *dy = hbuf(N);
    int *tgt = hbytes(N * sizeof(int));
    for (int n = 0; n < N; n++) {
        float spread = large && n % 5 == 0 ? 50 : 3, c = large ? centre[n % 5] : 0;
        t_fill_uniform(logits + (size_t)n * V, V, &rng, c - spread, c + spread);
        tgt[n] = n == 0 ? 0 : n == 1 ? V - 1 : rand_int(V);
        dy[n] = dscale;
    }
    if (large) {  // a row whose target is its largest logit: loss near 0
        int n = N - 1, am = 0;
        for (int i = 0; i < V; i++)
            if (logits[(size_t)n * V + i] > logits[(size_t)n * V + am]) am = i;
        tgt[n] = am;
    }
    xent_case x = {
        .fd = {xent_forward, {logits}, {nl}, N, dy, FD_EPS_SUMS},
        .d_losses = dev_nan(N),
        .d_logits = dev_copy(logits, nl),
        .d_tgt = dbytes(N * sizeof(int)),
        .N = N,
        .V = V,
    };
    up(x.d_tgt, tgt, N * sizeof(int));
    double *loss_ref = hbuf_d(N), *grad_ref = hbuf_d(nl), *logits_d = hbuf_d(nl);
    for (int n = 0; n < N; n++) {
        const float *l = logits + (size_t)n * V;
        double mx = -INFINITY, sum = 0;
        for (int i = 0; i < V; i++) mx = fmax(mx, l[i]);
        for (int i = 0; i < V; i++) sum += exp(l[i] - mx);
        double lse = mx + log(sum);
        loss_ref[n] = lse - l[tgt[n]];
        for (int i = 0; i < V; i++) grad_ref[(size_t)n * V + i] = dscale * (exp(l[i] - lse) - (i == tgt[n]));
    }
    for (size_t i = 0; i < nl; i++) logits_d[i] = logits[i];

    ops->xent_fwd_bwd(x.d_losses, x.d_logits, x.d_tgt, N, V, 0.0f);
    snprintf(what, sizeof what, "%s losses with dscale 0", shape);
    check_close(host_copy(x.d_losses, N), loss_ref, N, 1e-5, what);
    snprintf(what, sizeof what, "%s: dscale 0 leaves the logits as they were", shape);
    check_close(host_copy(x.d_logits, nl), logits_d, nl, 0, what);

    set_nan(x.d_losses, N);
    ops->xent_fwd_bwd(x.d_losses, x.d_logits, x.d_tgt, N, V, dscale);
    float *g = host_copy(x.d_logits, nl);
    snprintf(what, sizeof what, "%s losses", shape);
    check_close(host_copy(x.d_losses, N), loss_ref, N, 1e-5, what);
    snprintf(what, sizeof what, "%s logits become dscale·(softmax − onehot)", shape);
    check_close(g, grad_ref, nl, 1e-5, what);
    if (!large) {
        snprintf(what, sizeof what, "%s gradient of dscale·Σ losses", shape);
        fd_check(&x.fd, 0, g, what);
    }
    free_bufs();
}

// ---- adamw ---------------------------------------------------------------------

static void test_adamw(size_t n) {
    const float lr = 1e-2f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-6f, wd = 0.1f;
    char what[160];
    float *p = rand_host(n, -1, 1), *g = hbuf(n), *zeros = hbuf(n);
    float *d_p = dev_copy(p, n), *d_g = dbuf(n), *d_m = dev_copy(zeros, n), *d_v = dev_copy(zeros, n);
    float *d_pc = dev_nan(n);  // the compute copy (fp32 on the CPU)
    ops->to_compute(d_pc, d_p, n);
    t_check(!memcmp(host_copy(d_pc, n), p, n * sizeof(float)), "to_compute [n=%zu]: the compute copy equals p", n);
    double *P = hbuf_d(n), *M = hbuf_d(n), *V = hbuf_d(n), *step_ref = hbuf_d(n), *step_got = hbuf_d(n);
    float *prev_m = hbuf(n), *prev_v = hbuf(n);
    for (size_t i = 0; i < n; i++) P[i] = p[i];
    for (int t = 1; t <= 3; t++) {
        for (size_t i = 0; i < n; i++) {  // magnitudes from 1e-6 to 1, so eps's place matters
            float u[2];
            t_fill_uniform(u, 2, &rng, -1, 1);
            g[i] = i % 97 == 5 ? 0 : u[0] * powf(10, -3 + 3 * u[1]);
        }
        up(d_g, g, n * sizeof(float));
        float *prev_p = host_copy(d_p, n);
        down(prev_m, d_m, n * sizeof(float));
        down(prev_v, d_v, n * sizeof(float));
        ops->adamw(d_p, d_g, d_m, d_v, t == 2 ? NULL : d_pc, n, lr, beta1, beta2, eps, wd, t);
        float *got_p = host_copy(d_p, n), *got_m = host_copy(d_m, n), *got_v = host_copy(d_v, n);
        float *got_pc = host_copy(d_pc, n);
        t_check(!memcmp(got_pc, t == 2 ? prev_p : got_p, n * sizeof(float)),
                "adamw [n=%zu] step t=%d: the compute copy %s", n, t,
                t == 2 ? "is left alone when p_compute is NULL" : "holds the updated p (p_compute)");
        double bc1 = 1 - pow(beta1, t), bc2 = 1 - pow(beta2, t);
        for (size_t i = 0; i < n; i++) {  // torch.optim.AdamW, in double
            P[i] -= (double)lr * wd * P[i];
            M[i] = beta1 * M[i] + (1 - (double)beta1) * g[i];
            V[i] = beta2 * V[i] + (1 - (double)beta2) * g[i] * g[i];
            P[i] -= lr * (M[i] / bc1) / (sqrt(V[i] / bc2) + eps);
            // the same step taken from the op's own previous state
            double m1 = beta1 * (double)prev_m[i] + (1 - (double)beta1) * g[i];
            double v1 = beta2 * (double)prev_v[i] + (1 - (double)beta2) * g[i] * g[i];
            step_ref[i] = -(double)lr * wd * prev_p[i] - lr * (m1 / bc1) / (sqrt(v1 / bc2) + eps);
            step_got[i] = (double)got_p[i] - prev_p[i];
        }
        snprintf(what, sizeof what, "adamw [n=%zu] step t=%d: p", n, t);
        check_close(got_p, P, n, 1e-6, what);
        snprintf(what, sizeof what, "adamw [n=%zu] step t=%d: m", n, t);
        check_close(got_m, M, n, 1e-6, what);
        snprintf(what, sizeof what, "adamw [n=%zu] step t=%d: v", n, t);
        check_close(got_v, V, n, 1e-6, what);
        float *step_f = hbuf(n);
        for (size_t i = 0; i < n; i++) step_f[i] = (float)step_got[i];
        snprintf(what, sizeof what, "adamw [n=%zu] step t=%d: update p_t − p_(t−1)", n, t);
        check_close(step_f, step_ref, n, 1e-4, what);
    }
    free_bufs();
}

// ---- sumsq, scale and axpy -----------------------------------------------------------

static void test_sumsq(size_t n) {
    float *x = rand_host(n ? n : 1, -1, 1), *d_x = dev_copy(x, n ? n : 1);
    double ref = 0;
    for (size_t i = 0; i < n; i++) ref += (double)x[i] * x[i];
    double got = ops->sumsq(d_x, n), e = n ? fabs(got - ref) / ref : fabs(got);
    t_check(e <= 1e-9, "sumsq [n=%zu]: %.12g vs %.12g, rel err %.1e (tol 1e-9: summed in double)", n, got, ref, e);
    free_bufs();
}

static void test_scale(size_t n, float s) {
    char what[96];
    float *x = rand_host(n, -1, 1), *d_x = dev_copy(x, n);
    double *ref = hbuf_d(n);
    for (size_t i = 0; i < n; i++) ref[i] = (double)x[i] * s;
    ops->scale(d_x, n, s);
    snprintf(what, sizeof what, "scale [n=%zu, s=%g]", n, s);
    check_close(host_copy(d_x, n), ref, n, 1e-7, what);
    free_bufs();
}

static void test_axpy(size_t n, float a) {
    char what[96];
    float *x = rand_host(n, -1, 1), *y = rand_host(n, -1, 1), *d_x = dev_copy(x, n), *d_y = dev_copy(y, n);
    double *ref = hbuf_d(n);
    for (size_t i = 0; i < n; i++) ref[i] = (double)y[i] + (double)a * x[i];
    ops->axpy(d_y, d_x, n, a);
    snprintf(what, sizeof what, "axpy [n=%zu, a=%g]", n, a);
    check_close(host_copy(d_y, n), ref, n, 1e-7, what);
    free_bufs();
}

int main(void) {
    be = slm_backend_cpu();
    t_check(be && be->ops, "cpu backend created");
    if (!be || !be->ops) return t_finish("test_ops");
    ops = be->ops;

    test_memory();

    test_embedding();
    test_rmsnorm(5, 37);
    test_rmsnorm(3, 1029);
    test_rmsnorm(1, 7);
    test_matmul(5, 37, 19);
    test_matmul(67, 129, 65);
    test_matmul(1, 7, 3);
    test_rope(2, 5, 3, 8);
    test_rope(1, 7, 2, 32);
    test_rope(3, 3, 1, 6);  // hd/2 odd
    test_attention_kind(SLM_ATTN_VANILLA, ops->attention_vanilla_fwd, ops->attention_vanilla_bwd);
    test_attention_kind(SLM_ATTN_FLASH, ops->attention_flash_fwd, ops->attention_flash_bwd);
    test_swiglu(1001);
    test_swiglu(5);
    test_xent(5, 37, 0, 0.2f);
    test_xent(3, 1003, 0, 1.0f);
    test_xent(11, 37, 1, -0.37f);
    test_xent(6, 1003, 1, 1.0f / 6);
    test_adamw(1001);
    test_sumsq(1000003);
    test_sumsq(5);
    test_sumsq(1);
    test_sumsq(0);
    test_scale(100003, -0.37f);
    test_scale(5, 3.0f);
    test_axpy(100003, 0.5f);
    test_axpy(7, -2.0f);

    test_free_all();
    slm_backend_destroy(be);
    return t_finish("test_ops");
}
