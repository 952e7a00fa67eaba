// test_tokfile.c — token files (data/tokfile.h) and the sharded loader
// (data/loader.h): round trips at widths 2 and 4, every rejection of a bad
// file with its message, atomic writes; disjoint shards for 2 and 3 ranks,
// targets one token ahead of inputs, wrapping, restoring `pos`, too-small shards.
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/loader.h"
#include "data/tokfile.h"
#include "testutil.h"

static size_t read_file(const char *name, unsigned char *buf, size_t cap) {
    FILE *f = fopen(t_tmp_path(name), "rb");
    size_t got = f ? fread(buf, 1, cap, f) : 0;
    if (f) fclose(f);
    return got;
}

static int files_in_dir(void) {
    DIR *d = opendir(t_tmpdir());
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.';
    if (d) closedir(d);
    return n;
}

static void test_round_trip(void) {
    enum { N = 1000 };
    slm_err err;
    slm_tokfile tf;
    const struct {
        uint32_t vocab;
        int width;
    } cases[] = {{65536, 2}, {300, 2}, {65537, 4}, {1 << 20, 4}, {0, 4}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        uint32_t tok[N], vocab = cases[c].vocab;
        for (int i = 0; i < N; i++) tok[i] = (uint32_t)(i * 7919u) % (vocab ? vocab : 0xffffffffu);
        tok[N - 1] = vocab ? vocab - 1 : 0xffffffffu;  // the largest id the width must hold
        int ok = slm_tokfile_write(t_tmp_path("a.tok"), tok, N, vocab, &err) == 0 &&
                 slm_tokfile_open(&tf, t_tmp_path("a.tok"), &err) == 0;
        int same = ok && tf.count == N && tf.width == cases[c].width && tf.vocab == vocab;
        for (int i = 0; same && i < N; i++) same = slm_tokfile_get(&tf, (uint64_t)i) == tok[i];
        t_check(same, "round trip of %d tokens, vocab %u: width %d, largest id %u", N, vocab, cases[c].width,
                tok[N - 1]);
        if (ok) slm_tokfile_close(&tf);
    }
    int ok = slm_tokfile_write(t_tmp_path("empty.tok"), NULL, 0, 300, &err) == 0 &&
             slm_tokfile_open(&tf, t_tmp_path("empty.tok"), &err) == 0;
    t_check(ok && tf.count == 0, "an empty token file round-trips");
    if (ok) slm_tokfile_close(&tf);
    unsigned char head[32];
    read_file("a.tok", head, sizeof head);
    t_check(!memcmp(head, "SLMTOKS1", 8) && head[8] == 1 && head[12] == 4 && head[16] == 0xe8 && head[17] == 0x03,
            "header bytes: magic SLMTOKS1, version 1, width 4, count 1000 little-endian");
    t_check(files_in_dir() == 2, "atomic writes leave no temporary file (%d files in the directory)", files_in_dir());
    uint32_t over[3] = {1, 2, 300};
    t_check(slm_tokfile_write(t_tmp_path("over.tok"), over, 3, 300, &err) && strstr(err.msg, "token 2 is 300") &&
                access(t_tmp_path("over.tok"), F_OK) != 0,
            "writing a token not below the vocabulary is refused, no file made: %s", err.msg);
    t_check(slm_tokfile_write("/nonexistent-dir/a.tok", over, 2, 300, &err) && strstr(err.msg, "/nonexistent-dir"),
            "writing into a missing directory fails: %s", err.msg);
    unlink(t_tmp_path("a.tok"));
    unlink(t_tmp_path("empty.tok"));
}

static void test_rejections(void) {
    enum { N = 100 };
    slm_err err;
    slm_tokfile tf;
    uint32_t tok[N];
    for (int i = 0; i < N; i++) tok[i] = (uint32_t)i;
    slm_tokfile_write(t_tmp_path("good.tok"), tok, N, 200, &err);  // width 2: 32 + 200 bytes
    unsigned char good[32 + 2 * N + 8];
    size_t n = read_file("good.tok", good, sizeof good);
    const struct {
        const char *what, *expect;
        size_t at, len;  // byte to change (when value != 0), bytes to write
        unsigned char value;
    } cases[] = {
        {"truncated by 3 bytes", "the header says 100 tokens, the file holds 98", 0, n - 3, 0},
        {"cut inside the header", "shorter than the 32-byte header", 0, 20, 0},
        {"empty", "0 bytes, shorter", 0, 0, 0},
        {"wrong magic", "not a slm token file", 0, n, 'X'},
        {"wrong version", "version 2 is not supported (expected 1)", 8, n, 2},
        {"bad width", "token width 3, expected 2 or 4", 12, n, 3},
        {"count larger than the file", "the header says 356 tokens, the file holds 100", 17, n, 1},
        {"token not below the vocabulary", "token 99 is 99, not below the vocabulary 99", 24, n, 99},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        unsigned char copy[sizeof good];
        memcpy(copy, good, n);
        if (cases[k].value) copy[cases[k].at] = cases[k].value;
        t_write_file("bad.tok", copy, cases[k].len);
        int rejected = slm_tokfile_open(&tf, t_tmp_path("bad.tok"), &err) != 0;
        t_check(rejected && strstr(err.msg, cases[k].expect) && strstr(err.msg, "bad.tok"), "%s: rejected: %s",
                cases[k].what, rejected ? err.msg : "(accepted)");
        if (!rejected) slm_tokfile_close(&tf);
    }
    memcpy(good + n, "\0\0\0\0", 4);
    t_write_file("bad.tok", good, n + 4);
    t_check(slm_tokfile_open(&tf, t_tmp_path("bad.tok"), &err) && strstr(err.msg, "4 bytes follow the 100 tokens"),
            "bytes after the tokens: rejected: %s", err.msg);
    t_check(slm_tokfile_open(&tf, t_tmp_path("missing.tok"), &err) && strstr(err.msg, "cannot open token file") &&
                strstr(err.msg, "missing.tok"),
            "missing file: %s", err.msg);
    unlink(t_tmp_path("good.tok"));
    unlink(t_tmp_path("bad.tok"));
}

// Loader tests use a file whose token i is i, so a token says where it came from.
static void test_loader(void) {
    enum { N = 1003, B = 2, T = 5 };
    slm_err err;
    slm_tokfile tf;
    uint32_t tok[N];
    for (int i = 0; i < N; i++) tok[i] = (uint32_t)i;
    if (slm_tokfile_write(t_tmp_path("l.tok"), tok, N, 0, &err) || slm_tokfile_open(&tf, t_tmp_path("l.tok"), &err)) {
        t_check(0, "loader test file: %s", err.msg);
        return;
    }
    int in[B * T], tg[B * T];
    for (int world = 2; world <= 3; world++) {
        slm_loader ld[3];
        int disjoint = 1, shifted = 1, contiguous = 1, init_ok = 1;
        char *seen = calloc(N, 1);
        for (int r = 0; r < world; r++) init_ok &= slm_loader_init(&ld[r], &tf, 3, N, r, world, B, T, &err) == 0;
        for (int r = 0; r < world && init_ok; r++)
            for (int step = 0; step < 200; step++) {  // several passes over each shard
                slm_loader_next(&ld[r], in, tg);
                for (int i = 0; i < B * T; i++) {
                    shifted &= tg[i] == in[i] + 1;
                    contiguous &= i % T == 0 || in[i] == in[i - 1] + 1;
                    disjoint &= in[i] >= (int)ld[r].begin && tg[i] < (int)ld[r].end;
                    seen[in[i]] |= (char)(1 << r);
                    seen[tg[i]] |= (char)(1 << r);
                }
            }
        for (int i = 0; i < N; i++) disjoint &= seen[i] == 0 || !(seen[i] & (seen[i] - 1));
        free(seen);
        const uint64_t shard = (N - 3) / world;
        t_check(init_ok && ld[world - 1].end == 3 + shard * world && ld[1].begin == 3 + shard,
                "world %d: shards of %llu tokens from token 3", world, (unsigned long long)shard);
        t_check(disjoint, "world %d: no token is read by two ranks, over 200 batches per rank", world);
        t_check(shifted, "world %d: targets are the inputs shifted by one token", world);
        t_check(contiguous, "world %d: each sequence's inputs are T consecutive tokens", world);
    }

    slm_loader ld;
    slm_loader_init(&ld, &tf, 0, 100, 0, 1, B, T, &err);
    int firsts[12];
    for (int s = 0; s < 12; s++) {
        slm_loader_next(&ld, in, tg);
        firsts[s] = in[0];
    }
    // 100 tokens hold 9 windows of 11 tokens advancing by 10: starts 0..80, then back to 0
    t_check(firsts[1] == 10 && firsts[8] == 80 && firsts[9] == 0 && firsts[10] == 10 && tg[B * T - 1] < 100,
            "batches advance by B*T tokens and wrap when the next window does not fit (starts %d %d .. %d %d)",
            firsts[0], firsts[1], firsts[8], firsts[9]);
    slm_loader_reset(&ld);
    slm_loader_next(&ld, in, tg);
    t_check(in[0] == 0, "reset goes back to the shard's start");
    slm_loader_next(&ld, in, tg);
    uint64_t saved = ld.pos;
    slm_loader_next(&ld, in, tg);
    int expect = in[0];
    slm_loader resumed;
    slm_loader_init(&resumed, &tf, 0, 100, 0, 1, B, T, &err);
    resumed.pos = saved;
    slm_loader_next(&resumed, in, tg);
    t_check(in[0] == expect, "assigning a saved pos resumes at the same batch (token %d)", in[0]);
    resumed.pos = 1000000;
    slm_loader_next(&resumed, in, tg);
    t_check(in[0] == 0, "a pos past the shard wraps to its start");

    t_check(slm_loader_init(&ld, &tf, 0, 21, 0, 2, B, T, &err) && strstr(err.msg, "not enough tokens") &&
                strstr(err.msg, "leave 10 per shard") && strstr(err.msg, "needs 11"),
            "a shard smaller than one window is an error: %s", err.msg);
    t_check(slm_loader_init(&ld, &tf, 0, 22, 1, 2, B, T, &err) == 0 && ld.begin == 11 && ld.end == 22,
            "a shard of exactly one window is enough");
    t_check(slm_loader_init(&ld, &tf, 0, N + 1, 0, 1, B, T, &err) && strstr(err.msg, "1003 tokens"),
            "a range past the file is an error: %s", err.msg);
    t_check(slm_loader_init(&ld, &tf, 0, N, 2, 2, B, T, &err) && strstr(err.msg, "rank 2"),
            "a rank outside the world is an error: %s", err.msg);
    slm_tokfile_close(&tf);
    unlink(t_tmp_path("l.tok"));
}

int main(void) {
    t_tmpdir();
    test_round_trip();
    test_rejections();
    test_loader();
    rmdir(t_tmpdir());
    return t_finish("test_tokfile");
}
