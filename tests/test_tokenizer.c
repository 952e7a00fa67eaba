// test_tokenizer.c — the byte-level BPE (data/bpe.h): exact round trips on any
// bytes (random, invalid UTF-8, NULs, long runs without spaces), deterministic
// training, the vocabulary asked for or an early stop, save/load, compression
// of English-like text (and of the fortunes corpus where it is installed), and
// the rejection of bad tokenizer files, each with its message.
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "data/bpe.h"
#include "testutil.h"

// Appends the file at p to *buf; 0 when it cannot be read.
static int append_file(const char *p, unsigned char **buf, size_t *n) {
    FILE *f = fopen(p, "rb");
    if (!f) return 0;
    for (size_t got;;) {
        *buf = realloc(*buf, *n + 65536);
        got = fread(*buf + *n, 1, 65536, f);
        *n += got;
        if (!got) break;
    }
    fclose(f);
    return 1;
}

static int round_trips(const slm_bpe *t, const unsigned char *s, size_t n) {
    size_t n_tok, n_out;
    uint32_t *tok = slm_bpe_encode(t, s, n, &n_tok);
    unsigned char *back = slm_bpe_decode(t, tok, n_tok, &n_out);
    int ok = n_out == n && (n == 0 || memcmp(back, s, n) == 0);
    for (size_t i = 0; i < n_tok; i++) ok &= tok[i] < (uint32_t)slm_bpe_vocab_size(t);
    free(tok);
    free(back);
    return ok;
}

// Tokens per byte of s under t.
static double bytes_per_token(const slm_bpe *t, const unsigned char *s, size_t n) {
    size_t n_tok;
    free(slm_bpe_encode(t, s, n, &n_tok));
    return (double)n / (double)n_tok;
}

// Two tokenizers are the same when every token has the same bytes.
static int same_tokenizer(const slm_bpe *a, const slm_bpe *b) {
    if (slm_bpe_vocab_size(a) != slm_bpe_vocab_size(b)) return 0;
    for (uint32_t id = 0; id < (uint32_t)slm_bpe_vocab_size(a); id++) {
        size_t la, lb;
        const unsigned char *ba = slm_bpe_token_bytes(a, id, &la), *bb = slm_bpe_token_bytes(b, id, &lb);
        if (la != lb || memcmp(ba, bb, la)) return 0;
    }
    return 1;
}

// English-like text: sentences of words made of one to three syllables, the
// common syllables far more frequent than the rare ones; a few "syllables"
// are whole words with an apostrophe, digits or UTF-8.
static unsigned char *english(size_t n, uint64_t *seed) {
    static const char *syllables[] = {
        "the",         "a",   "in", "to", "and", "ing", "er",  "on",  "re",    "at",   "st",
        "en",          "ti",  "es", "or", "al",  "com", "pro", "con", "ex",    "ly",   "ment",
        "ous",         "ble", "qu", "zy", "ph",  "ght", "wr",  "kn",  "don't", "1984", "\xc3\xa9t\xc3\xa9",
        "na\xc3\xafve"};
    const uint64_t n_syl = sizeof syllables / sizeof syllables[0];
    unsigned char *s = malloc(n + 64);
    size_t k = 0;
    int capital = 1;
    while (k < n) {
        size_t word_start = k;
        for (uint64_t j = 0, n_parts = 1 + t_rand_u64(seed) % 3; j < n_parts; j++) {
            uint64_t u = t_rand_u64(seed) % n_syl, v = t_rand_u64(seed) % n_syl;
            const char *w = syllables[u < v ? u : v];  // the min of two draws: skewed to the first
            memcpy(s + k, w, strlen(w));
            k += strlen(w);
        }
        if (capital && s[word_start] >= 'a' && s[word_start] <= 'z')
            s[word_start] = (unsigned char)(s[word_start] - 'a' + 'A');
        uint64_t r = t_rand_u64(seed) % 24;  // a sentence of 12 words on average, a line of 24
        capital = r < 2;
        if (r < 2)
            s[k++] = '.';
        else if (r < 3)
            s[k++] = ',';
        s[k++] = r == 0 ? '\n' : ' ';
    }
    return s;
}

static void test_round_trips(const slm_bpe *t, uint64_t *seed) {
    // odd trials: uniform bytes; even: few distinct bytes, so that merges apply
    const unsigned char few[] = {' ', 0x00, 0xff, 0xc3, 'a', 'b'};
    unsigned char noise[4096];
    int all_ok = 1;
    for (int trial = 0; trial < 100; trial++) {
        size_t len = t_rand_u64(seed) % sizeof noise;
        for (size_t i = 0; i < len; i++)
            noise[i] = trial % 2 ? (unsigned char)t_rand_u64(seed) : few[t_rand_u64(seed) % sizeof few];
        all_ok &= round_trips(t, noise, len);
    }
    t_check(all_ok, "round trip of 100 random byte strings up to 4 KB (invalid UTF-8, NULs, spaces)");
    const unsigned char odd[] = {0x00, 0xff, 0xfe, ' ', ' ', 0xc3, 0x28, '\n', 0xe2, 0x82, ' ',  't', 'h',
                                 0x00, '\t', ' ',  ' ', 'x', 0xf0, 0x9f, 0x98, 0x80, '\r', '\n', ' '};
    t_check(round_trips(t, odd, sizeof odd) && round_trips(t, odd, 1) && round_trips(t, odd, 0),
            "round trip of NULs, broken UTF-8, an emoji, whitespace runs, one byte and nothing");
    enum { LONG = 300000 };
    unsigned char *run = malloc(LONG);
    for (size_t i = 0; i < LONG; i++) run[i] = i < LONG / 3 ? 'e' : i < 2 * LONG / 3 ? ' ' : (unsigned char)(i * 7);
    double t0 = slm_now_s();
    int ok = round_trips(t, run, LONG);
    t_check(ok, "round trip of %d bytes of letter, space and byte runs without a word break (%.2f s)", LONG,
            slm_now_s() - t0);
    free(run);
}

static void test_training(const unsigned char *text, size_t n, uint64_t *seed) {
    slm_err err;
    slm_bpe *a = NULL, *b = NULL;
    double t0 = slm_now_s();
    int ok = slm_bpe_train(&a, text, n, 1000, &err) == 0;
    double train_s = slm_now_s() - t0;
    t_check(ok && slm_bpe_vocab_size(a) == 1000,
            "trains the 1000 tokens asked on %zu bytes of English-like text (%.2f s)", n, train_s);
    t_check(slm_bpe_train(&b, text, n, 1000, &err) == 0 && same_tokenizer(a, b),
            "training twice on the same text gives the same tokenizer");
    double bpt = bytes_per_token(a, text, n);
    t_check(bpt > 1.5, "the encoding compresses English-like text: %.2f bytes per token (> 1.5)", bpt);
    t_check(round_trips(a, text, n), "round trip of the training text");
    test_round_trips(a, seed);
    slm_bpe_free(b);

    const unsigned char *tiny = (const unsigned char *)"abab abab xyz";
    ok = slm_bpe_train(&b, tiny, strlen((const char *)tiny), 5000, &err) == 0;
    t_check(ok && slm_bpe_vocab_size(b) > 256 && slm_bpe_vocab_size(b) < 5000,
            "a text that runs out of repeated pairs stops early: %d tokens of the 5000 asked",
            ok ? slm_bpe_vocab_size(b) : 0);
    slm_bpe_free(b);
    ok = slm_bpe_train(&b, NULL, 0, 300, &err) == 0;
    t_check(ok && slm_bpe_vocab_size(b) == 256, "an empty text gives the 256 byte tokens");
    slm_bpe_free(b);
    t_check(
        slm_bpe_train(&b, text, n, 255, &err) && strstr(err.msg, "between 256 and 1048576") && strstr(err.msg, "255"),
        "vocabulary 255 refused: %s", err.msg);
    size_t len;
    t_check(!slm_bpe_token_bytes(a, 1000, &len) && len == 0 && slm_bpe_token_bytes(a, 999, &len) && len >= 2,
            "token_bytes: NULL past the vocabulary, a merged token has at least 2 bytes");

    slm_bpe *loaded = NULL;
    ok = slm_bpe_save(a, t_tmp_path("t.bpe"), &err) == 0 && slm_bpe_load(&loaded, t_tmp_path("t.bpe"), &err) == 0;
    t_check(ok && same_tokenizer(a, loaded), "save then load gives the same tokenizer");
    if (ok) {
        size_t n1, n2;
        uint32_t *x = slm_bpe_encode(a, text, n, &n1), *y = slm_bpe_encode(loaded, text, n, &n2);
        t_check(n1 == n2 && !memcmp(x, y, n1 * sizeof *x), "the loaded tokenizer encodes identically");
        free(x);
        free(y);
    }
    slm_bpe_free(loaded);
    slm_bpe_free(a);

    // a long run of letters: chunks are capped, so training stays fast
    enum { RUN = 200000 };
    unsigned char *letters = malloc(RUN);
    for (size_t i = 0; i < RUN; i++) letters[i] = (unsigned char)('a' + t_rand_u64(seed) % 26);
    t0 = slm_now_s();
    ok = slm_bpe_train(&b, letters, RUN, 512, &err) == 0;
    t_check(ok && round_trips(b, letters, RUN), "%d random letters with no space: trains (%.2f s) and round-trips", RUN,
            slm_now_s() - t0);
    slm_bpe_free(b);
    free(letters);
}

// The fortunes corpus (Debian's fortunes package), where installed: the
// fortune files, not their .dat indexes or .u8 links.
static void test_fortunes(void) {
    const char *fdir = "/usr/share/games/fortunes";
    DIR *d = opendir(fdir);
    if (!d) {
        printf("skip %s is absent: no compression check on the fortunes corpus\n", fdir);
        return;
    }
    unsigned char *text = NULL;
    size_t n = 0;
    char p[4096];
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || (len > 4 && !strcmp(e->d_name + len - 4, ".dat")) ||
            (len > 3 && !strcmp(e->d_name + len - 3, ".u8")))
            continue;
        snprintf(p, sizeof p, "%s/%s", fdir, e->d_name);
        append_file(p, &text, &n);
    }
    closedir(d);
    if (n < 100000) {
        printf("skip the fortunes corpus holds only %zu bytes: no compression check\n", n);
        free(text);
        return;
    }
    slm_err err;
    slm_bpe *t = NULL;
    double t0 = slm_now_s();
    int ok = slm_bpe_train(&t, text, n, 4096, &err) == 0;
    double train_s = slm_now_s() - t0;
    double bpt = ok ? bytes_per_token(t, text, n) : 0;
    t_check(ok && slm_bpe_vocab_size(t) == 4096 && bpt > 2.5,
            "fortunes corpus, %.2f MB: 4096 tokens trained in %.2f s, %.2f bytes per token (> 2.5)", (double)n / 1e6,
            train_s, bpt);
    t_check(ok && round_trips(t, text, n), "fortunes corpus round-trips");
    slm_bpe_free(t);
    free(text);
}

static void test_bad_files(void) {
    slm_err err;
    slm_bpe *t = NULL, *bad = NULL;
    uint64_t seed = 3;
    unsigned char *text = english(20000, &seed);
    slm_bpe_train(&t, text, 20000, 300, &err);
    slm_bpe_save(t, t_tmp_path("good.bpe"), &err);
    unsigned char *good = NULL;
    size_t n = 0;
    append_file(t_tmp_path("good.bpe"), &good, &n);
    unsigned char *copy = malloc(n + 8);

    t_check(slm_bpe_load(&bad, t_tmp_path("missing.bpe"), &err) && strstr(err.msg, "cannot open tokenizer") &&
                strstr(err.msg, "missing.bpe"),
            "missing tokenizer file: %s", err.msg);
    t_write_file("foreign.bpe", "hello world, not a tokenizer", 28);
    t_check(slm_bpe_load(&bad, t_tmp_path("foreign.bpe"), &err) && strstr(err.msg, "not a slm tokenizer") &&
                strstr(err.msg, "foreign.bpe"),
            "foreign file: %s", err.msg);
    t_write_file("empty.bpe", "", 0);
    t_check(slm_bpe_load(&bad, t_tmp_path("empty.bpe"), &err) && strstr(err.msg, "not a slm tokenizer"),
            "empty file: %s", err.msg);
    t_write_file("header.bpe", good, 12);
    t_check(slm_bpe_load(&bad, t_tmp_path("header.bpe"), &err) && strstr(err.msg, "truncated"), "header cut short: %s",
            err.msg);
    t_write_file("short.bpe", good, n - 5);
    t_check(slm_bpe_load(&bad, t_tmp_path("short.bpe"), &err) && strstr(err.msg, "truncated") &&
                strstr(err.msg, "44 merges"),
            "merges cut short: %s", err.msg);
    memcpy(copy, good, n);
    memset(copy + n, 0, 8);
    t_write_file("long.bpe", copy, n + 8);
    t_check(slm_bpe_load(&bad, t_tmp_path("long.bpe"), &err) && strstr(err.msg, "corrupt"), "bytes past the merges: %s",
            err.msg);
    memcpy(copy, good, n);
    copy[8] = 2;
    t_write_file("version.bpe", copy, n);
    t_check(slm_bpe_load(&bad, t_tmp_path("version.bpe"), &err) && strstr(err.msg, "version 2") &&
                strstr(err.msg, "expected 1"),
            "wrong version: %s", err.msg);
    memcpy(copy, good, n);
    copy[16 + 8 * 3] = 0x10;  // merge 3's left token: now 0x110 = 272, not made before merge 3 (token 259)
    copy[16 + 8 * 3 + 1] = 0x01;
    t_write_file("order.bpe", copy, n);
    t_check(slm_bpe_load(&bad, t_tmp_path("order.bpe"), &err) && strstr(err.msg, "merge 3 uses token 272"),
            "merge of a token not made yet: %s", err.msg);
    memcpy(copy, good, n);
    copy[15] = 0x7f;  // 2 billion merges
    t_write_file("huge.bpe", copy, n);
    t_check(slm_bpe_load(&bad, t_tmp_path("huge.bpe"), &err) && strstr(err.msg, "corrupt"), "absurd merge count: %s",
            err.msg);
    t_check(slm_bpe_save(t, "/nonexistent-dir/t.bpe", &err) && strstr(err.msg, "/nonexistent-dir/t.bpe"),
            "saving into a missing directory fails: %s", err.msg);
    const char *names[] = {"good.bpe", "foreign.bpe", "empty.bpe", "header.bpe", "short.bpe",
                           "long.bpe", "version.bpe", "order.bpe", "huge.bpe"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) unlink(t_tmp_path(names[i]));
    slm_bpe_free(t);
    free(copy);
    free(good);
    free(text);
}

int main(void) {
    t_tmpdir();
    uint64_t seed = 7;
    enum { N = 400000 };
    unsigned char *text = english(N, &seed);
    test_training(text, N, &seed);
    test_fortunes();
    test_bad_files();
    unlink(t_tmp_path("t.bpe"));
    rmdir(t_tmpdir());
    free(text);
    return t_finish("test_tokenizer");
}
