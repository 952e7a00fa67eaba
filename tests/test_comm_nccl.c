// test_comm_nccl.c — the nccl communicator (comm_nccl.c) at world size 1 on a
// GPU: every collective on device buffers, fp32 and fp64, blocking and not, in
// place and not, against the values put in (out-of-place outputs start as a
// sentinel, so a collective that did nothing fails); the same collectives on
// host buffers (copied through the GPU); barrier, agree, wait_s; and the
// stream ordering the strategies rely on: a collective reads what the compute
// stream queued before it, and a kernel queued on the compute stream after
// wait() reads the collective's result, the host never waiting. Data moves on
// the compute stream, a non-blocking stream of its own, as the backend's does.
// Skips without CUDA or without a GPU.
// label: gpu
#include <stdio.h>

#include "core/clock.h"
#include "parallel/comm.h"
#include "testutil.h"

#ifndef SLM_HAVE_CUDA
int main(void) {
    printf("skipped: built without CUDA\n");
    return 0;
}
#else
#include <cuda_runtime.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static cudaStream_t g_compute;

static void ok(cudaError_t e, const char *what) {
    if (e == cudaSuccess) return;
    printf("FAIL %s: %s\n", what, cudaGetErrorString(e));
    exit(1);
}

static void put(void *dev, const void *host, size_t bytes) {
    ok(cudaMemcpyAsync(dev, host, bytes, cudaMemcpyHostToDevice, g_compute), "copy to the GPU");
    ok(cudaStreamSynchronize(g_compute), "cudaStreamSynchronize");
}

static void get(void *host, const void *dev, size_t bytes) {
    ok(cudaMemcpyAsync(host, dev, bytes, cudaMemcpyDeviceToHost, g_compute), "copy from the GPU");
    ok(cudaStreamSynchronize(g_compute), "cudaStreamSynchronize");
}

// Element i of a test vector: distinct and exact in fp32; the sentinel is none of them.
static double value(size_t i) { return 0.5 + (double)(i % 97) * 0.25; }
static const double SENTINEL = -1.0;

static void store(void *p, size_t i, slm_dtype t, double v) {
    if (t == SLM_F64)
        ((double *)p)[i] = v;
    else
        ((float *)p)[i] = (float)v;
}

static double load(const void *p, size_t i, slm_dtype t) {
    return t == SLM_F64 ? ((const double *)p)[i] : (double)((const float *)p)[i];
}

// n values (or sentinels) of type t into h, then to d when d is a device buffer.
static void fill(void *d, void *h, size_t n, slm_dtype t, int sentinel) {
    for (size_t i = 0; i < n; i++) store(h, i, t, sentinel ? SENTINEL : value(i));
    if (d != h) put(d, h, n * slm_dtype_bytes(t));
}

// Elements of buffer b (device d, read back through h) that are not value(i).
static int wrong(const void *d, void *h, size_t n, slm_dtype t) {
    if (d != h) get(h, d, n * slm_dtype_bytes(t));
    int bad = 0;
    for (size_t i = 0; i < n; i++) bad += load(h, i, t) != value(i);
    return bad;
}

// Every collective on buffers a and b of n elements: device buffers (with
// their host mirrors ha, hb) or host ones (a == ha, b == hb).
static void check_collectives(slm_comm *c, void *a, void *b, void *ha, void *hb, size_t n, slm_dtype t,
                              int nonblocking) {
    const char *where = a == ha ? "host" : "device", *dt = t == SLM_F64 ? "fp64" : "fp32";
    const char *how = nonblocking ? "non-blocking" : "blocking";
    const slm_reduce_op ops[3] = {SLM_SUM, SLM_AVG, SLM_MAX};
    const char *names[3] = {"sum", "average", "max"};
    for (int o = 0; o < 3; o++) {
        fill(a, ha, n, t, 0);
        c->wait(c, c->all_reduce(c, a, n, t, ops[o], nonblocking));
        int bad = wrong(a, ha, n, t);
        t_check(!bad, "%s %s %s all-reduce (%s), in place: %d of %zu wrong", where, dt, how, names[o], bad, n);
    }
    fill(a, ha, n, t, 0);
    fill(b, hb, n, t, 1);
    c->wait(c, c->reduce_scatter(c, b, a, n, t, SLM_SUM, nonblocking));
    int bad = wrong(b, hb, n, t);
    t_check(!bad, "%s %s %s reduce-scatter into another buffer: %d of %zu wrong", where, dt, how, bad, n);
    fill(a, ha, n, t, 0);
    c->wait(c, c->reduce_scatter(c, a, a, n, t, SLM_AVG, nonblocking));
    bad = wrong(a, ha, n, t);
    t_check(!bad, "%s %s %s reduce-scatter in place (average): %d of %zu wrong", where, dt, how, bad, n);
    fill(a, ha, n, t, 0);
    fill(b, hb, n, t, 1);
    c->wait(c, c->all_gather(c, b, a, n, t, nonblocking));
    bad = wrong(b, hb, n, t);
    t_check(!bad, "%s %s %s all-gather into another buffer: %d of %zu wrong", where, dt, how, bad, n);
}

// count_ne(x, n, want, bad): *bad += the number of x[i] != want. Plain PTX,
// loaded at run time, so this C test launches a kernel of its own.
static const char COUNT_NE_PTX[] =
    ".version 7.0\n.target sm_80\n.address_size 64\n"
    ".visible .entry count_ne(.param .u64 x, .param .u64 n, .param .f32 want, .param .u64 bad)\n{\n"
    ".reg .pred p;\n.reg .b32 r<4>;\n.reg .b64 d<6>;\n.reg .f32 f<2>;\n"
    "ld.param.u64 d0, [x];\nld.param.u64 d1, [n];\nld.param.f32 f0, [want];\nld.param.u64 d2, [bad];\n"
    "mov.u32 r0, %ctaid.x;\nmov.u32 r1, %ntid.x;\nmov.u32 r2, %tid.x;\n"
    "mul.wide.u32 d3, r0, r1;\ncvt.u64.u32 d4, r2;\nadd.u64 d3, d3, d4;\n"
    "setp.ge.u64 p, d3, d1;\n@p ret;\n"
    "cvta.to.global.u64 d0, d0;\nshl.b64 d4, d3, 2;\nadd.u64 d5, d0, d4;\nld.global.f32 f1, [d5];\n"
    "setp.eq.f32 p, f1, f0;\n@p ret;\n"
    "cvta.to.global.u64 d2, d2;\natom.global.add.u32 r3, [d2], 1;\nret;\n}\n";

// The overlap path on big buffers (a copy that takes a while): the input is
// set and the output cleared on the compute stream, the collective runs on the
// comm stream, and after wait() count_ne runs on the compute stream over the
// output. Any reordering leaves cleared or stale elements for it to count.
static void check_ordering(slm_comm *c, cudaKernel_t count_ne, int gather, int nonblocking) {
    const unsigned long long n = 64ull << 20;  // 256 MiB of fp32
    const int byte = gather ? 0x40 : 0x41;
    float *in, *out, want;
    unsigned *bad, h_bad = 1;
    uint32_t bits = 0x01010101u * (uint32_t)byte;
    memcpy(&want, &bits, sizeof want);
    ok(cudaMalloc((void **)&in, n * sizeof(float)), "cudaMalloc");
    ok(cudaMalloc((void **)&out, n * sizeof(float)), "cudaMalloc");
    ok(cudaMalloc((void **)&bad, sizeof *bad), "cudaMalloc");
    ok(cudaStreamSynchronize(g_compute), "cudaStreamSynchronize");
    double t0 = slm_now_s();
    ok(cudaMemsetAsync(in, byte, n * sizeof(float), g_compute), "cudaMemsetAsync");
    ok(cudaMemsetAsync(out, 0, n * sizeof(float), g_compute), "cudaMemsetAsync");
    ok(cudaMemsetAsync(bad, 0, sizeof *bad, g_compute), "cudaMemsetAsync");
    slm_comm_req r = gather ? c->all_gather(c, out, in, n, SLM_F32, nonblocking)
                            : c->reduce_scatter(c, out, in, n, SLM_F32, SLM_SUM, nonblocking);
    c->wait(c, r);
    void *args[] = {&out, (void *)&n, &want, &bad};
    dim3 grid = {(unsigned)((n + 255) / 256), 1, 1}, block = {256, 1, 1};
    ok(cudaLaunchKernel((const void *)count_ne, grid, block, args, 0, g_compute), "launch count_ne");
    double queued_s = slm_now_s() - t0;
    ok(cudaMemcpyAsync(&h_bad, bad, sizeof h_bad, cudaMemcpyDeviceToHost, g_compute), "copy from the GPU");
    ok(cudaStreamSynchronize(g_compute), "cudaStreamSynchronize");
    double done_s = slm_now_s() - t0;
    t_check(h_bad == 0,
            "%s %s of 256 MiB: a kernel on the compute stream after wait() finds %u of %llu elements wrong "
            "(queued in %.2f ms, done in %.2f ms)",
            nonblocking ? "non-blocking" : "blocking", gather ? "all-gather" : "reduce-scatter", h_bad, n,
            1e3 * queued_s, 1e3 * done_s);
    cudaFree(in);
    cudaFree(out);
    cudaFree(bad);
}

// Broadcast (bytes) from a device buffer and from a host one, then barrier and agree (host values).
static void check_bytes(slm_comm *c, char *d) {
    char msg[64] = "every rank reads rank 0's bytes", sent[64], back[64];
    memcpy(sent, msg, sizeof msg);
    put(d, msg, sizeof msg);
    c->broadcast(c, d, sizeof msg, 0);
    get(back, d, sizeof back);
    c->broadcast(c, msg, sizeof msg, 0);
    t_check(!memcmp(back, sent, sizeof msg) && !memcmp(msg, sent, sizeof msg),
            "broadcast of %zu bytes, device and host: \"%s\"", sizeof msg, msg);
    c->barrier(c);
    t_check(1, "barrier returned");
    slm_err err = {{0}};
    snprintf(err.msg, sizeof err.msg, "this rank failed");
    int none = slm_comm_agree(c, 0, &err), one = slm_comm_agree(c, 1, &err);
    t_check(none == 0 && one == -1 && !strcmp(err.msg, "this rank failed"),
            "agree: 0 when no rank failed, -1 with the message when one did");
}

int main(void) {
    int n_gpus = 0;
    if (cudaGetDeviceCount(&n_gpus) != cudaSuccess || n_gpus == 0) {
        printf("skipped: no GPU\n");
        return 0;
    }
    slm_err err = {{0}};
    int dev = slm_comm_nccl_device(&err);
    t_check(dev == 0, "world size 1 without any environment: GPU %d of %d (%s)", dev, n_gpus, err.msg);
    ok(cudaStreamCreateWithFlags(&g_compute, cudaStreamNonBlocking), "cudaStreamCreate");
    slm_comm *c = slm_comm_open_nccl(g_compute, &err);
    if (!c) {
        printf("FAIL slm_comm_open_nccl: %s\n", err.msg);
        return 1;
    }
    t_check(!strcmp(c->name, "nccl") && c->rank == 0 && c->world == 1 && c->local_rank == 0 && c->nodes == 1,
            "opened: %s, rank %d of %d, local rank %d, %d node", c->name, c->rank, c->world, c->local_rank, c->nodes);
    t_check(slm_comm_open_nccl(g_compute, &err) == c, "a second open returns the same communicator");

    const size_t n = 1003;
    void *a, *b, *ha = malloc(n * sizeof(double)), *hb = malloc(n * sizeof(double));
    ok(cudaMalloc(&a, n * sizeof(double)), "cudaMalloc");
    ok(cudaMalloc(&b, n * sizeof(double)), "cudaMalloc");
    const slm_dtype types[2] = {SLM_F32, SLM_F64};
    for (int k = 0; k < 2; k++)
        for (int nb = 0; nb < 2; nb++) check_collectives(c, a, b, ha, hb, n, types[k], nb);
    double wait0 = c->wait_s;
    for (int k = 0; k < 2; k++) check_collectives(c, ha, hb, ha, hb, n, types[k], 0);
    check_bytes(c, a);
    t_check(c->wait_s > wait0, "host-buffer collectives add their span on the comm stream: %.3f ms",
            1e3 * (c->wait_s - wait0));

    cudaLibrary_t lib;
    cudaKernel_t count_ne;
    ok(cudaLibraryLoadData(&lib, COUNT_NE_PTX, NULL, NULL, 0, NULL, NULL, 0), "load the count_ne PTX");
    ok(cudaLibraryGetKernel(&count_ne, lib, "count_ne"), "cudaLibraryGetKernel");
    for (int gather = 0; gather < 2; gather++)
        for (int nb = 0; nb < 2; nb++) check_ordering(c, count_ne, gather, nb);
    double before = c->wait_s;
    slm_comm_nccl_settle(c);
    // the big collectives were waited for with nothing queued between: the compute stream stalled for each
    t_check(isfinite(c->wait_s) && c->wait_s > before,
            "settle: the compute stream stalled %.3f ms on the collectives it waited for", 1e3 * (c->wait_s - before));

    cudaLibraryUnload(lib);
    cudaFree(a);
    cudaFree(b);
    free(ha);
    free(hb);
    c->close(c);
    cudaStreamDestroy(g_compute);
    return t_finish("test_comm_nccl");
}
#endif
