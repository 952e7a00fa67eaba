// test_hf_tokenizer.c — Hugging Face tokenizer.json import (data/hf_tokenizer.h)
// against the tokenizers library: on the fixtures of
// tests/reference/make_tokenizer_fixtures.py (five variants of a tiny
// byte-level BPE: Llama-3's regex with ignore_merges and a second-pass added
// token, GPT-2's ByteLevel regex with "a b" merges, SmolLM's Digits, every
// Split behaviour, Qwen2's NFC normalizer) the ids of every line and of the whole text equal
// tokenizers' and decode back to the text (invalid UTF-8 read as U+FFFD, as
// Python's errors="replace") where nothing is stripped or removed; the UTF-8 repair and the byte-level alphabet
// on their own; and the rejection of damaged or unsupported files, each with
// a one-line message naming the file and what is wrong. slm's own BPE written
// as a tokenizer.json (data/bpe_hf.h) and read back here encodes every valid
// UTF-8 text as slm does: runs longer than a chunk, runs of every kind of
// whitespace, random mixes; a tokenizer with two tokens of the same bytes is
// refused.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/bpe.h"
#include "data/bpe_hf.h"
#include "data/byte_level.h"
#include "data/hf_tokenizer.h"
#include "data/utf8.h"
#include "testutil.h"

static unsigned char *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *buf = NULL;
    *n = 0;
    for (size_t got;;) {
        buf = realloc(buf, *n + 65536);
        got = fread(buf + *n, 1, 65536, f);
        *n += got;
        if (!got) break;
    }
    fclose(f);
    return buf;
}

// The next line of ids in *p (advanced past it) into ids; returns their number.
static size_t parse_ids(const char **p, uint32_t *ids) {
    size_t k = 0;
    while (**p && **p != '\n') {
        char *end;
        ids[k++] = (uint32_t)strtoul(*p, &end, 10);
        *p = *end == ' ' ? end + 1 : end;
    }
    if (**p == '\n') ++*p;
    return k;
}

static int same_ids(const uint32_t *a, size_t na, const uint32_t *b, size_t nb) {
    return na == nb && (na == 0 || !memcmp(a, b, na * sizeof *a));
}

// Every line of text.txt, then the whole of it, against DIR/ids.txt.
static void check_lines(slm_hftok *t, const char *name, const unsigned char *text, size_t n, const char *ids) {
    uint32_t *want = malloc((n + 1) * sizeof *want);
    size_t lines = 0, bad = 0, first_bad = 0;
    for (size_t at = 0; at < n; lines++) {
        const unsigned char *nl = memchr(text + at, '\n', n - at);
        size_t len = (size_t)(nl - (text + at)) + 1, n_tok, n_rep, n_want = parse_ids(&ids, want);
        uint32_t *got = slm_hftok_encode(t, text + at, len, &n_tok, &n_rep, NULL);
        if (!same_ids(got, n_tok, want, n_want) && !bad++) first_bad = lines + 1;
        free(got);
        at += len;
    }
    t_check(bad == 0, "%s: the ids of each of the %zu lines are tokenizers' (%zu differ, the first line %zu)", name,
            lines, bad, first_bad);
    size_t n_tok, n_rep, n_want = parse_ids(&ids, want);
    uint32_t *got = slm_hftok_encode(t, text, n, &n_tok, &n_rep, NULL);
    t_check(same_ids(got, n_tok, want, n_want) && n_rep == 16,
            "%s: the whole text (%zu bytes) is %zu tokens, as tokenizers' %zu; %zu invalid sequences read as U+FFFD",
            name, n, n_tok, n_want, n_rep);
    free(got);
    free(want);
}

// Decoding the whole text's ids gives the text, invalid UTF-8 repaired.
static void check_decode(slm_hftok *t, const char *name, const unsigned char *text, size_t n) {
    size_t n_tok, n_rep, n_fixed = n, k = 0;
    uint32_t *ids = slm_hftok_encode(t, text, n, &n_tok, &n_rep, NULL);
    unsigned char *fixed = slm_utf8_repair(text, n, &n_fixed, &n_rep), *back = malloc(3 * n + 1);
    int ok = 1;
    for (size_t i = 0; i < n_tok && ok; i++) {
        size_t len;
        const unsigned char *b = slm_hftok_token_bytes(t, ids[i], &len);
        ok = b && k + len <= n_fixed;
        if (ok) memcpy(back + k, b, len), k += len;
    }
    t_check(ok && k == n_fixed && !memcmp(back, fixed, k), "%s: the ids decode to the text (%zu bytes)", name, k);
    free(ids);
    free(fixed);
    free(back);
}

// The variant in DIR (given as the directory, or as_file its tokenizer.json).
static void check_variant(const char *name, int as_file, int decodes) {
    char dir[256], path[300];
    snprintf(dir, sizeof dir, "tests/data/hf_tokenizer/%s", name);
    snprintf(path, sizeof path, "%s%s", t_source_path(dir), as_file ? "/tokenizer.json" : "");
    slm_hftok *t = NULL;
    slm_err err = {{0}};
    int rc = slm_hftok_load(&t, path, &err);
    t_check(rc == 0 && slm_hftok_vocab_size(t) >= 600, "%s: loads (%s)", name, rc ? err.msg : "ok");
    size_t n, n_ids;
    unsigned char *text = read_all(t_source_path("tests/data/hf_tokenizer/text.txt"), &n);
    snprintf(path, sizeof path, "%s/ids.txt", t_source_path(dir));
    char *ids = (char *)read_all(path, &n_ids);
    if (!rc && text && ids) {
        ids = realloc(ids, n_ids + 1);
        ids[n_ids] = 0;
        check_lines(t, name, text, n, ids);
        if (decodes) check_decode(t, name, text, n);
    }
    t_check(text && ids, "%s: the fixture files are there", name);
    free(text);
    free(ids);
    slm_hftok_free(t);
}

// Python's bytes.decode("utf-8", errors="replace") on each case: the U+FFFDs.
static void test_repair(void) {
    static const struct {
        const char *bytes;
        size_t replaced;
    } cases[] = {{"\xff", 1},
                 {"\xc3(", 1},
                 {"\xe2\x82", 1},
                 {"\xe2\x82"
                  "a",
                  1},
                 {"\xed\xa0\x80", 3},
                 {"\xc0\x80", 2},
                 {"\xe0\x80\x80", 3},
                 {"\xf4\x90\x80\x80", 4},
                 {"\xf0\x9f\x98", 1},
                 {"\x80\x80", 2},
                 {"\xf0\x9f\x98\x80", 0},
                 {"ok \xe2\x82\xac", 0}};
    int ok = 1;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = strlen(cases[i].bytes), out_n, rep;
        unsigned char *fixed = slm_utf8_repair((const unsigned char *)cases[i].bytes, n, &out_n, &rep);
        ok &= rep == cases[i].replaced && (fixed != NULL) == (rep > 0);
        free(fixed);
    }
    t_check(ok, "invalid UTF-8 becomes one U+FFFD per maximal ill-formed subpart, as in Python");
    int round_trip = slm_byte_level_char(' ') == 0x120 && slm_byte_level_char('\n') == 0x10A &&
                     slm_byte_level_char('!') == '!' && slm_byte_level_char(0xAD) == 0x143;
    for (int b = 0; b < 256; b++) round_trip &= slm_byte_level_byte(slm_byte_level_char((unsigned char)b)) == b;
    t_check(round_trip && slm_byte_level_byte(0x144) == -1 && slm_byte_level_byte(0x4E00) == -1,
            "the byte-level alphabet: GPT-2's characters, one per byte, and back");
}

// ---- damaged and unsupported files ----
#define BL "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": false}"
#define SPLIT(rx) \
    "{\"type\": \"Split\", \"pattern\": {\"Regex\": \"" rx "\"}, \"behavior\": \"Isolated\", \"invert\": false}"
#define PRE(steps) "{\"type\": \"Sequence\", \"pretokenizers\": [" steps "]}"
#define VOCAB "{\"a\": 0, \"b\": 1, \"ab\": 2, \"<s>\": 3}"
#define MODEL(vocab, merges) "{\"type\": \"BPE\", \"vocab\": " vocab ", \"merges\": " merges "}"
#define ADDED(id, flags) "[{\"id\": " #id ", \"content\": \"<s>\", " flags "}]"
#define FLAGS "\"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true"

// A tokenizer.json of these parts (NULL: the valid one).
static const char *tok_json(const char *model, const char *pre, const char *added, const char *more) {
    static char buf[2048];
    snprintf(buf, sizeof buf, "{\"version\": \"1.0\", %s\"added_tokens\": %s, \"pre_tokenizer\": %s, \"model\": %s}",
             more ? more : "", added ? added : ADDED(3, FLAGS), pre ? pre : PRE(SPLIT("\\\\s+|\\\\w+") ", " BL),
             model ? model : MODEL(VOCAB, "[\"a b\"]"));
    return buf;
}

// The file made of text loads, or fails with one line naming it and holding `want`.
static void expect_load(const char *what, const char *text, const char *want) {
    t_write_file("bad.json", text, strlen(text));
    const char *path = t_tmp_path("bad.json");
    slm_hftok *t = NULL;
    slm_err err = {{0}};
    int rc = slm_hftok_load(&t, path, &err);
    if (!want) {
        size_t n;
        uint32_t *ids = rc ? NULL : slm_hftok_encode(t, (const unsigned char *)"abab<s>", 7, &n, &n, NULL);
        t_check(!rc && n == 3 && ids[0] == 2 && ids[1] == 2 && ids[2] == 3, "%s: loads and encodes (%s)", what,
                rc ? err.msg : "ok");
        free(ids);
    } else {
        t_check(rc && strstr(err.msg, want) && strstr(err.msg, path) && !strchr(err.msg, '\n'), "%s: %s", what,
                rc ? err.msg : "loaded");
    }
    slm_hftok_free(t);
    unlink(path);
}

// The file, its version and the model.
static void test_reject_model(void) {
    expect_load("the valid base file", tok_json(NULL, NULL, NULL, NULL), NULL);
    expect_load("not JSON", "{\"model\": ", "not valid JSON");
    expect_load("not an object", "[1, 2]", "not a JSON object");
    expect_load("invalid UTF-8", "{\"model\": \"\xff\"}", "not valid UTF-8");
    expect_load("no model", "{\"version\": \"1.0\"}", "the model is missing");
    char *two = (char *)tok_json(NULL, NULL, NULL, NULL);
    two[strlen("{\"version\": \"")] = '2';
    expect_load("another version", two, "version \"2.0\" is not supported");
    expect_load("Unigram", tok_json("{\"type\": \"Unigram\", \"vocab\": []}", NULL, NULL, NULL),
                "Unigram (SentencePiece): not supported");
    expect_load("WordPiece", tok_json("{\"type\": \"WordPiece\", \"vocab\": {}}", NULL, NULL, NULL),
                "WordPiece (BERT's): not supported");
    expect_load("a Llama-2 SentencePiece BPE",
                tok_json("{\"type\": \"BPE\", \"byte_fallback\": true, \"vocab\": {}, \"merges\": []}", "null", "[]",
                         "\"normalizer\": {\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"Prepend\", "
                         "\"prepend\": \"_\"}]}, "),
                "SentencePiece BPE (byte_fallback, as Llama-2 and TinyLlama)");
    expect_load("model type wrong", tok_json("{\"type\": 5}", NULL, NULL, NULL), "model.type must be a string");
    expect_load("vocab a list", tok_json(MODEL("[]", "[]"), NULL, NULL, NULL), "model.vocab must be an object");
    expect_load("vocab id 0.5", tok_json(MODEL("{\"a\": 0.5}", "[]"), NULL, NULL, NULL), "must be a whole number");
    expect_load("vocab id -1", tok_json(MODEL("{\"a\": -1}", "[]"), NULL, NULL, NULL), "must be a whole number");
    expect_load("vocab id twice", tok_json(MODEL("{\"a\": 0, \"b\": 0}", "[]"), NULL, NULL, NULL),
                "gives id 0 to both");
    expect_load("vocab string twice", tok_json(MODEL("{\"a\": 0, \"a\": 1}", "[]"), NULL, NULL, NULL),
                "lists \"a\" twice");
    expect_load("merges not a list", tok_json(MODEL(VOCAB, "{}"), NULL, NULL, NULL), "model.merges must be a list");
    expect_load("merge of an unknown token", tok_json(MODEL(VOCAB, "[\"a c\"]"), NULL, NULL, NULL),
                "model.merges[0] needs \"c\", which is not in the vocabulary");
    expect_load("merge making an unknown token",
                tok_json(MODEL(VOCAB, "[[\"a\", \"b\"], [\"b\", \"a\"]]"), NULL, NULL, NULL),
                "model.merges[1] needs \"ba\"");
    expect_load("merge of three", tok_json(MODEL(VOCAB, "[\"a b c\"]"), NULL, NULL, NULL), "two tokens with one space");
    expect_load("merge a number", tok_json(MODEL(VOCAB, "[7]"), NULL, NULL, NULL),
                "must be a string \"a b\" or a pair");
    expect_load("unk not in vocab",
                tok_json("{\"type\": \"BPE\", \"unk_token\": \"<unk>\", \"vocab\": " VOCAB ", \"merges\": []}", NULL,
                         NULL, NULL),
                "unk_token \"<unk>\" is not in the vocabulary");
    expect_load("dropout",
                tok_json("{\"type\": \"BPE\", \"dropout\": 0.1, \"vocab\": {}, \"merges\": []}", NULL, NULL, NULL),
                "dropout must be null or 0");
}

// The pre-tokenizer.
static void test_reject_pre_tokenizer(void) {
    expect_load("bad regex", tok_json(NULL, PRE(SPLIT("(ab") ", " BL), NULL, NULL), "the regex does not compile");
    expect_load("Oniguruma's \\h", tok_json(NULL, PRE(SPLIT("\\\\h+") ", " BL), NULL, NULL),
                "\\h means another thing in Oniguruma");
    expect_load("inline (?m)", tok_json(NULL, PRE(SPLIT("(?m)a") ", " BL), NULL, NULL), "inline flag (?m)");
    expect_load("split behavior",
                tok_json(NULL,
                         PRE("{\"type\": \"Split\", \"pattern\": {\"String\": \"a\"}, "
                             "\"behavior\": \"Sideways\", \"invert\": false}, " BL),
                         NULL, NULL),
                "behavior \"Sideways\" is not one of");
    expect_load("split without invert",
                tok_json(NULL,
                         PRE("{\"type\": \"Split\", \"pattern\": {\"String\": \"a\"}, "
                             "\"behavior\": \"Isolated\"}, " BL),
                         NULL, NULL),
                "pretokenizers[0].invert is missing");
    expect_load("split pattern a string",
                tok_json(NULL,
                         PRE("{\"type\": \"Split\", \"pattern\": \"a\", "
                             "\"behavior\": \"Isolated\", \"invert\": false}, " BL),
                         NULL, NULL),
                "pattern must be {\"Regex\"");
    expect_load("Whitespace", tok_json(NULL, "{\"type\": \"Whitespace\"}", NULL, NULL),
                "the pre-tokenizer Whitespace is not supported");
    expect_load("Metaspace", tok_json(NULL, "{\"type\": \"Metaspace\", \"replacement\": \"_\"}", NULL, NULL),
                "the pre-tokenizer Metaspace (SentencePiece's)");
    expect_load("no ByteLevel", tok_json(NULL, PRE(SPLIT("a")), NULL, NULL), "has 0 ByteLevel steps");
    expect_load("two ByteLevels", tok_json(NULL, PRE(BL ", " BL), NULL, NULL), "has 2 ByteLevel steps");
    expect_load("no pre-tokenizer", tok_json(NULL, "null", NULL, NULL), "pre_tokenizer is null");
    expect_load("ByteLevel flag a string",
                tok_json(NULL, "{\"type\": \"ByteLevel\", \"add_prefix_space\": \"no\"}", NULL, NULL),
                "add_prefix_space must be true or false");
}

// The normalizer, the decoder and the added tokens.
static void test_reject_rest(void) {
    expect_load("normalizer NFKC", tok_json(NULL, NULL, NULL, "\"normalizer\": {\"type\": \"NFKC\"}, "),
                "the normalizer NFKC is not supported (only NFC, or none)");
    expect_load("normalizer Lowercase in a Sequence",
                tok_json(NULL, NULL, NULL,
                         "\"normalizer\": {\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"NFC\"}, "
                         "{\"type\": \"Lowercase\"}]}, "),
                "normalizer.normalizers[1]: the normalizer Lowercase is not supported");
    expect_load("decoder WordPiece", tok_json(NULL, NULL, NULL, "\"decoder\": {\"type\": \"WordPiece\"}, "),
                "the decoder WordPiece is not supported");
    expect_load("added id not tokenizers'", tok_json(NULL, NULL, ADDED(9, FLAGS), NULL),
                "has id 9, but tokenizers gives it 3");
    expect_load("added single_word",
                tok_json(NULL, NULL,
                         "[{\"id\": 3, \"content\": \"<s>\", \"single_word\": true, \"lstrip\": false, "
                         "\"rstrip\": false, \"normalized\": false, \"special\": true}]",
                         NULL),
                "single_word true: not supported");
    expect_load("added without lstrip",
                tok_json(NULL, NULL, "[{\"id\": 3, \"content\": \"<s>\", \"single_word\": false}]", NULL),
                "added_tokens[0].lstrip is missing");
    expect_load("added not a list", tok_json(NULL, NULL, "{}", NULL), "added_tokens must be a list");
    slm_hftok *t = NULL;
    slm_err err = {{0}};
    t_check(slm_hftok_load(&t, t_tmpdir(), &err) && strstr(err.msg, "tokenizer.json"),
            "a directory without tokenizer.json: %s", err.msg);
}

// ---- slm's BPE written for Hugging Face ----
// A random valid UTF-8 text of n bytes or a little more: runs of one class (often
// longer than a chunk), single spaces and mixes, ASCII and multi-byte characters.
static size_t random_text(unsigned char *out, size_t n, uint64_t *seed) {
    static const char *const pieces[] = {" ", "  ", "\t", "\n", "\r\n", "\v\f", "a",    "Z", "'",
                                         "7", ".",  "!?", "é",  "中",   "😀",    "\x01", "-", "\xc2\xa0"};
    const size_t n_pieces = sizeof pieces / sizeof pieces[0];
    size_t k = 0;
    while (k < n) {
        const char *p = pieces[t_rand_u64(seed) % n_pieces];
        size_t run = t_rand_u64(seed) % 4 == 0 ? 1 + t_rand_u64(seed) % 300 : 1 + t_rand_u64(seed) % 3;
        for (size_t r = 0; r < run && k < n; r++) {
            memcpy(out + k, p, strlen(p));
            k += strlen(p);
        }
    }
    return k;
}

static int same_encoding(const slm_bpe *bpe, slm_hftok *hf, const unsigned char *s, size_t n) {
    size_t na, nb, rep;
    uint32_t *a = slm_bpe_encode(bpe, s, n, &na), *b = slm_hftok_encode(hf, s, n, &nb, &rep, NULL);
    int same = b && same_ids(a, na, b, nb);
    free(a);
    free(b);
    return same;
}

static void test_export(void) {
    uint64_t seed = 11;
    enum { N = 1 << 20 };
    unsigned char *text = malloc(N + 8);
    size_t n = random_text(text, N, &seed), fixture_n;
    unsigned char *fixture = read_all(t_source_path("tests/data/hf_tokenizer/text.txt"), &fixture_n);
    slm_bpe *bpe;
    slm_hftok *hf = NULL;
    slm_err err = {{0}};
    int rc = slm_bpe_train(&bpe, text, n, 1024, &err) || slm_bpe_write_hf(bpe, t_tmpdir(), &err) ||
             slm_hftok_load(&hf, t_tmpdir(), &err);
    t_check(!rc, "a 1024-token BPE trained on %zu bytes of random text, written and read back (%s)", n,
            rc ? err.msg : "ok");
    if (!rc) {
        int same = same_encoding(bpe, hf, text, n);
        for (int i = 0; i < 200 && same; i++) same = same_encoding(bpe, hf, text, random_text(text, 2000, &seed));
        t_check(same, "it encodes the training text and 200 other random texts as slm does");
        size_t fixed_n, rep;
        unsigned char *fixed = slm_utf8_repair(fixture, fixture_n, &fixed_n, &rep);
        t_check(same_encoding(bpe, hf, fixed, fixed_n), "and the fixture text (%zu bytes, invalid UTF-8 repaired)",
                fixed_n);
        free(fixed);
    }
    slm_hftok_free(hf);
    slm_bpe_free(bpe);
    unlink(t_tmp_path("tokenizer.json"));
    unlink(t_tmp_path("tokenizer_config.json"));
    free(text);
    free(fixture);
}

// A hand-made slm tokenizer with one merge twice: tokens 256 and 257 are both "ab".
static void test_export_refused(void) {
    unsigned char file[32] = {'S', 'L', 'M', 'B', 'P', 'E', '0', '1', 1,   0, 0, 0, 2,   0, 0, 0,
                              'a', 0,   0,   0,   'b', 0,   0,   0,   'a', 0, 0, 0, 'b', 0, 0, 0};
    t_write_file("twice.bpe", file, sizeof file);
    slm_bpe *bpe = NULL;
    slm_err err = {{0}};
    int loaded = !slm_bpe_load(&bpe, t_tmp_path("twice.bpe"), &err);
    t_check(loaded && slm_bpe_write_hf(bpe, t_tmpdir(), &err) && strstr(err.msg, "tokens 256 and 257 have the same"),
            "a tokenizer with two tokens of the same bytes is not written: %s", err.msg);
    slm_bpe_free(bpe);
    unlink(t_tmp_path("twice.bpe"));
}

int main(void) {
    t_tmpdir();
    test_repair();
    check_variant("llama3", 0, 0);  // <sep> takes the spaces beside it (lstrip, rstrip): they do not decode back
    check_variant("gpt2", 1, 0);    // add_prefix_space puts a space before each piece after <s> and </s>
    check_variant("smollm", 0, 1);
    check_variant("splits", 1, 0);  // nor do the Removed parts
    check_variant("qwen2", 0, 0);   // nor does the text as it was before NFC
    test_reject_model();
    test_reject_pre_tokenizer();
    test_reject_rest();
    test_export();
    test_export_refused();
    rmdir(t_tmpdir());
    return t_finish("test_hf_tokenizer");
}
