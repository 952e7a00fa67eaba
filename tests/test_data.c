// test_data.c — the data module: BPE round trip on arbitrary bytes (invalid
// UTF-8 and NULs included), deterministic training, save/load, the file
// readers' rejections, token files of both widths, and the loader's shards.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/bpe.h"
#include "data/loader.h"
#include "data/tokfile.h"
#include "testutil.h"

static char dir[] = "/tmp/slm_test_data_XXXXXX";

static const char *path(const char *name) {
    static char buf[2][256];
    static int k;
    k ^= 1;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static void write_bytes(const char *p, const void *data, size_t n) {
    FILE *f = fopen(p, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
}

static int round_trips(const slm_bpe *t, const unsigned char *s, size_t n) {
    size_t n_tok, n_out;
    uint32_t *tok = slm_bpe_encode(t, s, n, &n_tok);
    unsigned char *back = slm_bpe_decode(t, tok, n_tok, &n_out);
    int ok = n_out == n && memcmp(back, s, n) == 0;
    for (size_t i = 0; i < n_tok; i++) ok &= tok[i] < (uint32_t)slm_bpe_vocab_size(t);
    free(tok);
    free(back);
    return ok;
}

static void test_bpe(void) {
    // English-like text with repeats, so that merges happen
    const char *words[] = {"the ", "cat ", "sat ", "on ", "mat, ", "and ", "then\n", "it ", "ran. ", "42 "};
    size_t n = 0;
    unsigned char *text = malloc(200000);
    uint64_t s = 7;
    while (n < 190000) {
        const char *w = words[t_rand_u64(&s) % 10];
        memcpy(text + n, w, strlen(w));
        n += strlen(w);
    }
    slm_bpe *t = NULL, *t2 = NULL, *loaded = NULL;
    slm_err err;
    int trained = slm_bpe_train(&t, text, n, 300, &err) == 0;
    int got_vocab = trained ? slm_bpe_vocab_size(t) : 0;
    t_check(trained && got_vocab > 256 && got_vocab < 300,
            "BPE on %zu bytes of 10 distinct words stops at %d tokens, when no pair repeats", n, got_vocab);
    {
        unsigned char *rich = malloc(100000);
        for (int i = 0; i < 100000; i++) rich[i] = i % 6 == 5 ? ' ' : (unsigned char)('a' + t_rand_u64(&s) % 8);
        slm_bpe *r = NULL;
        t_check(slm_bpe_train(&r, rich, 100000, 400, &err) == 0 && slm_bpe_vocab_size(r) == 400,
                "BPE trains exactly the 400 tokens asked on varied text");
        slm_bpe_free(r);
        free(rich);
    }
    t_check(slm_bpe_train(&t2, text, n, 300, &err) == 0, "BPE trains again");
    size_t n1, n2;
    uint32_t *a = slm_bpe_encode(t, text, n, &n1), *b = slm_bpe_encode(t2, text, n, &n2);
    t_check(n1 == n2 && !memcmp(a, b, n1 * sizeof *a), "training is deterministic (same encoding twice)");
    t_check((double)n / n1 > 2.0, "encoding compresses repeated text: %.2f bytes per token (> 2)", (double)n / n1);
    free(a);
    free(b);
    t_check(round_trips(t, text, n), "round trip of the training text");

    unsigned char noise[4096];
    int all_ok = 1;
    for (int trial = 0; trial < 50; trial++) {
        size_t len = t_rand_u64(&s) % sizeof noise;
        for (size_t i = 0; i < len; i++) noise[i] = (unsigned char)t_rand_u64(&s);
        all_ok &= round_trips(t, noise, len);
    }
    t_check(all_ok, "round trip of 50 random byte strings (invalid UTF-8, NUL bytes)");
    const unsigned char odd[] = {0x00, 0xff, 0xfe, ' ', ' ', 0xc3, 0x28, '\n', 0xe2, 0x82, ' ', 't', 'h', 0x00};
    t_check(round_trips(t, odd, sizeof odd) && round_trips(t, odd, 0), "round trip of NULs, broken UTF-8, empty");

    t_check(slm_bpe_save(t, path("t.bpe"), &err) == 0 && slm_bpe_load(&loaded, path("t.bpe"), &err) == 0,
            "save and load");
    size_t n3;
    uint32_t *c = slm_bpe_encode(loaded, text, n, &n3), *d = slm_bpe_encode(t, text, n, &n1);
    t_check(n3 == n1 && !memcmp(c, d, n1 * sizeof *c), "the loaded tokenizer encodes identically");
    free(c);
    free(d);

    slm_bpe *bad = NULL;
    write_bytes(path("junk.bpe"), "hello world, not a tokenizer", 28);
    t_check(slm_bpe_load(&bad, path("junk.bpe"), &err) && strstr(err.msg, "not a slm tokenizer"),
            "foreign tokenizer file rejected: %s", err.msg);
    FILE *f = fopen(path("t.bpe"), "rb");
    unsigned char buf[4096];
    size_t got = fread(buf, 1, sizeof buf, f);
    fclose(f);
    write_bytes(path("short.bpe"), buf, got - 5);
    t_check(slm_bpe_load(&bad, path("short.bpe"), &err) && strstr(err.msg, "truncated"),
            "truncated tokenizer rejected: %s", err.msg);
    buf[16] = 0xff;  // first merge's left id: now refers to a token not made yet
    buf[17] = 0xff;
    write_bytes(path("corrupt.bpe"), buf, got);
    t_check(slm_bpe_load(&bad, path("corrupt.bpe"), &err) && strstr(err.msg, "corrupt"),
            "corrupt tokenizer rejected: %s", err.msg);
    slm_bpe_free(t);
    slm_bpe_free(t2);
    slm_bpe_free(loaded);
    free(text);
}

static void test_tokfile(void) {
    slm_err err;
    enum { N = 1000 };
    uint32_t tok[N];
    for (int i = 0; i < N; i++) tok[i] = (uint32_t)(i * 7919) % 70000;
    slm_tokfile tf;
    for (int wide = 0; wide < 2; wide++) {
        uint32_t vocab = wide ? 70000 : 65536;
        uint32_t small[N];
        for (int i = 0; i < N; i++) small[i] = tok[i] % vocab;
        int ok = slm_tokfile_write(path("a.tok"), small, N, vocab, &err) == 0 &&
                 slm_tokfile_open(&tf, path("a.tok"), &err) == 0;
        int same = ok && tf.count == N && tf.width == (wide ? 4 : 2) && tf.vocab == vocab;
        for (int i = 0; same && i < N; i++) same = slm_tokfile_get(&tf, (uint64_t)i) == small[i];
        t_check(same, "token file round trip, vocab %u, width %d", vocab, wide ? 4 : 2);
        if (ok) slm_tokfile_close(&tf);
    }
    slm_tokfile_write(path("b.tok"), tok, N, 0, &err);
    FILE *f = fopen(path("b.tok"), "rb");
    unsigned char *buf = malloc(32 + 4 * N);
    size_t got = fread(buf, 1, 32 + 4 * N, f);
    fclose(f);
    struct {
        const char *what, *expect;
        size_t at, len;
        unsigned char value;
    } cases[] = {
        {"truncated", "truncated", 0, got - 3, 0}, {"header only, cut", "not a slm token file", 0, 20, 0},
        {"wrong magic", "not a slm token file", 0, got, 'X'}, {"wrong version", "version", 8, got, 9},
        {"bad width", "token width", 12, got, 3},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        unsigned char *copy = malloc(got);
        memcpy(copy, buf, got);
        if (cases[k].value) copy[cases[k].at] = cases[k].value;
        write_bytes(path("bad.tok"), copy, cases[k].len);
        free(copy);
        int rejected = slm_tokfile_open(&tf, path("bad.tok"), &err) != 0;
        t_check(rejected && strstr(err.msg, cases[k].expect), "%s token file rejected: %s", cases[k].what,
                rejected ? err.msg : "(accepted)");
    }
    slm_tokfile_write(path("v.tok"), tok, N, 70000, &err);  // then claim a smaller vocabulary
    f = fopen(path("v.tok"), "r+b");
    fseek(f, 24, SEEK_SET);
    unsigned char v[4] = {0x10, 0x27, 0, 0};  // 10000
    fwrite(v, 1, 4, f);
    fclose(f);
    t_check(slm_tokfile_open(&tf, path("v.tok"), &err) && strstr(err.msg, "not below the vocabulary"),
            "token above the vocabulary rejected: %s", err.msg);
    free(buf);
}

static void test_loader(void) {
    slm_err err;
    enum { N = 1003 };
    uint32_t tok[N];
    for (int i = 0; i < N; i++) tok[i] = (uint32_t)i;  // token = its position
    slm_tokfile tf;
    slm_tokfile_write(path("l.tok"), tok, N, 0, &err);
    slm_tokfile_open(&tf, path("l.tok"), &err);
    const int B = 2, T = 5;
    int in[10], tg[10];
    for (int world = 2; world <= 3; world++) {
        int disjoint = 1, shifted = 1;
        slm_loader ld[3];
        for (int r = 0; r < world; r++) slm_loader_init(&ld[r], &tf, 3, N, r, world, B, T, &err);
        char *seen = calloc(N, 1);
        for (int r = 0; r < world; r++)
            for (int step = 0; step < 200; step++) {
                slm_loader_next(&ld[r], in, tg);
                for (int i = 0; i < B * T; i++) {
                    shifted &= tg[i] == in[i] + 1;
                    disjoint &= in[i] >= (int)ld[r].begin && tg[i] < (int)ld[r].end;
                    seen[in[i]] |= (char)(1 << r);
                }
            }
        for (int i = 0; i < N; i++) disjoint &= seen[i] == 0 || !(seen[i] & (seen[i] - 1));
        free(seen);
        t_check(disjoint, "world %d: ranks read disjoint shards of [3, %d) over 200 batches (wrapping)", world, N);
        t_check(shifted, "world %d: targets are the inputs shifted by one token", world);
    }
    slm_loader ld;
    slm_loader_init(&ld, &tf, 0, N, 0, 1, B, T, &err);
    slm_loader_next(&ld, in, tg);
    slm_loader_next(&ld, in, tg);
    t_check(in[0] == 10 && ld.pos == 20, "consecutive batches advance by B*T tokens (second starts at %d)", in[0]);
    slm_loader_reset(&ld);
    slm_loader_next(&ld, in, tg);
    t_check(in[0] == 0, "reset goes back to the shard's start");
    t_check(slm_loader_init(&ld, &tf, 0, 20, 0, 2, B, T, &err) && strstr(err.msg, "not enough tokens"),
            "a shard smaller than one batch is an error: %s", err.msg);
    slm_tokfile_close(&tf);
}

int main(void) {
    if (!mkdtemp(dir)) return 1;
    test_bpe();
    test_tokfile();
    test_loader();
    const char *names[] = {"t.bpe", "junk.bpe", "short.bpe", "corrupt.bpe", "a.tok",
                           "b.tok", "bad.tok",  "v.tok",     "l.tok"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) unlink(path(names[i]));
    rmdir(dir);
    return t_finish("test_data");
}
