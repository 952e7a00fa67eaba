// tokenize.c — `slm tokenize`: train (or load) a byte-level BPE tokenizer,
// encode text files into a token file (and, with --val-frac, a validation
// file holding the last part of the tokens, so train and validation are
// disjoint), or decode a token file back into text on standard output.
// Steps are announced on stderr; the summary goes to stdout.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/flags.h"
#include "core/clock.h"
#include "core/err.h"
#include "data/bpe.h"
#include "data/tokfile.h"

typedef struct {
    unsigned char *bytes;
    size_t n, cap;
} text_buf;

// Appends the whole of the file at path to t.
static void append_file(text_buf *t, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) slm_die(SLM_EXIT_FAIL, "cannot open text file %s: %s", path, strerror(errno));
    size_t got;
    do {
        if (t->n == t->cap) {
            t->cap = t->cap ? 2 * t->cap : 1 << 20;
            t->bytes = realloc(t->bytes, t->cap);
            if (!t->bytes) slm_die(SLM_EXIT_FAIL, "out of host memory reading %s (%zu bytes so far)", path, t->n);
        }
        got = fread(t->bytes + t->n, 1, t->cap - t->n, f);
        t->n += got;
    } while (got > 0);
    int failed = ferror(f);
    fclose(f);
    if (failed) slm_die(SLM_EXIT_FAIL, "cannot read text file %s", path);
}

static double mb(size_t bytes) { return (double)bytes / 1e6; }

static int decode_to_stdout(const char *tokens_path, const slm_bpe *bpe, const char *tok_path) {
    slm_err err;
    slm_tokfile tf;
    if (slm_tokfile_open(&tf, tokens_path, &err)) slm_die(SLM_EXIT_FAIL, "%s", err.msg);
    const uint32_t V = (uint32_t)slm_bpe_vocab_size(bpe);
    if (tf.vocab > V)
        slm_die(SLM_EXIT_FAIL, "%s was made with a vocabulary of %u but the tokenizer %s has %u tokens", tokens_path,
                tf.vocab, tok_path, V);
    for (uint64_t i = 0; i < tf.count; i++) {
        size_t len;
        const uint32_t id = slm_tokfile_get(&tf, i);
        const unsigned char *b = slm_bpe_token_bytes(bpe, id, &len);
        if (!b)
            slm_die(SLM_EXIT_FAIL, "%s: token %llu is %u, outside the %u tokens of the tokenizer %s", tokens_path,
                    (unsigned long long)i, id, V, tok_path);
        if (fwrite(b, 1, len, stdout) != len) slm_die(SLM_EXIT_FAIL, "writing the decoded text to stdout failed");
    }
    slm_tokfile_close(&tf);
    if (fflush(stdout)) slm_die(SLM_EXIT_FAIL, "writing the decoded text to stdout failed");
    return SLM_EXIT_OK;
}

typedef struct {
    const char *text_path, *tok_path, *out, *val_out, *decode;
    int vocab;
    float val_frac;
} tokenize_options;

// The flags into o; returns the --text files in their order, n_texts of them.
static const char **parse_options(int argc, char **argv, tokenize_options *o, int *n_texts) {
    *o = (tokenize_options){0};
    const slm_flag flags[] = {
        {"--text", FLAG_STR, &o->text_path,
         "text file to train on and encode; repeat for more (concatenated in order)"},
        {"--vocab", FLAG_INT, &o->vocab, "train a tokenizer of this many tokens, 256..1048576, into --tokenizer"},
        {"--tokenizer", FLAG_STR, &o->tok_path, "tokenizer file: written when --vocab is given, else read (required)"},
        {"--out", FLAG_STR, &o->out, "token file for the encoded text (its training part with --val-frac)"},
        {"--val-frac", FLAG_FLOAT, &o->val_frac, "share of the tokens, from the end, held out for validation [0]"},
        {"--val-out", FLAG_STR, &o->val_out, "token file for the held-out tokens (with --val-frac)"},
        {"--decode", FLAG_STR, &o->decode, "decode this token file to standard output instead"},
    };
    slm_flags_parse(flags, (int)(sizeof flags / sizeof flags[0]), argc, argv,
                    "slm tokenize --text FILE [--text FILE ...] --vocab N --tokenizer OUT.bpe [--out TOKENS.tok]\n"
                    "                    [--val-frac F --val-out VAL.tok]\n"
                    "       slm tokenize --text FILE [--text FILE ...] --tokenizer T.bpe --out TOKENS.tok [...]\n"
                    "       slm tokenize --decode TOKENS.tok --tokenizer T.bpe > TEXT",
                    "Trains a byte-level BPE tokenizer on text files (or loads one) and encodes the text into\n"
                    "token files for slm train; or decodes a token file back into text. Any bytes round-trip.");
    // Every flag of this command takes a value, so once parsed argv is
    // (flag, value) pairs: collect the repeated --text values.
    const char **texts = slm_xcalloc((size_t)argc, sizeof *texts);
    *n_texts = 0;
    for (int i = 1; i + 1 < argc; i += 2)
        if (!strcmp(argv[i], "--text")) texts[(*n_texts)++] = argv[i + 1];
    return texts;
}

// The flags given together that go together, and their values in range.
static void check_options(const tokenize_options *o, int n_texts) {
    if (!o->tok_path) slm_die(SLM_EXIT_USAGE, "tokenize needs --tokenizer (see slm tokenize --help)");
    if (o->decode && (n_texts || o->vocab || o->out || o->val_out || o->val_frac != 0))
        slm_die(SLM_EXIT_USAGE, "--decode takes only --tokenizer (see slm tokenize --help)");
    if (!o->decode && !n_texts) slm_die(SLM_EXIT_USAGE, "tokenize needs --text, or --decode (see slm tokenize --help)");
    if (!o->decode && !o->vocab && !o->out)
        slm_die(SLM_EXIT_USAGE, "tokenize needs --vocab to train a tokenizer, or --out to encode the text, or both");
    if (o->vocab && (o->vocab < 256 || o->vocab > (1 << 20)))
        slm_die(SLM_EXIT_USAGE, "--vocab must be between 256 and 1048576, got %d", o->vocab);
    if (!(o->val_frac >= 0 && o->val_frac < 1))
        slm_die(SLM_EXIT_USAGE, "--val-frac must be in [0, 1), got %g", o->val_frac);
    if ((o->val_frac > 0) != (o->val_out != NULL)) slm_die(SLM_EXIT_USAGE, "--val-frac and --val-out go together");
    if (o->val_out && !o->out) slm_die(SLM_EXIT_USAGE, "--val-out needs --out for the training tokens");
}

// Trains a BPE of vocab tokens on the text into bpe, and saves it to tok_path.
static void train_tokenizer(slm_bpe **bpe, const text_buf *text, int vocab, const char *tok_path) {
    slm_err err;
    fprintf(stderr, "training a %d-token BPE on %.2f MB...\n", vocab, mb(text->n));
    if (slm_bpe_train(bpe, text->bytes, text->n, vocab, &err) || slm_bpe_save(*bpe, tok_path, &err))
        slm_die(SLM_EXIT_FAIL, "%s", err.msg);
    if (slm_bpe_vocab_size(*bpe) < vocab)
        fprintf(stderr, "note: no pair occurs twice any more: the vocabulary stops at %d tokens\n",
                slm_bpe_vocab_size(*bpe));
}

// Encodes the text into --out, and its last --val-frac into --val-out (tokens of a V-token vocabulary); says
// what was written. t0 is when the tokenizer's training began, train_s how long it took.
static void encode_text(const slm_bpe *bpe, const text_buf *text, const tokenize_options *o, uint32_t V, double t0,
                        double train_s) {
    slm_err err;
    fprintf(stderr, "encoding %.2f MB...\n", mb(text->n));
    size_t n_tok;
    uint32_t *tokens = slm_bpe_encode(bpe, text->bytes, text->n, &n_tok);
    const double encode_s = slm_now_s() - t0 - train_s;
    const size_t n_val = (size_t)((double)n_tok * o->val_frac), n_train = n_tok - n_val;
    if (o->val_out && !n_val)
        slm_die(SLM_EXIT_FAIL,
                "--val-frac %g of %zu tokens leaves no validation token (more text, or a larger "
                "--val-frac)",
                o->val_frac, n_tok);
    fprintf(stderr, "writing %s...\n", o->val_out ? "the token files" : o->out);
    if (slm_tokfile_write(o->out, tokens, n_train, V, &err) ||
        (o->val_out && slm_tokfile_write(o->val_out, tokens + n_train, n_val, V, &err)))
        slm_die(SLM_EXIT_FAIL, "%s", err.msg);
    printf("encoded %zu bytes into %zu tokens (%.2f bytes per token) in %.2f s\n", text->n, n_tok,
           (double)text->n / (double)n_tok, encode_s);
    printf("  %s: %zu tokens\n", o->out, n_train);
    if (o->val_out)
        printf("  %s: %zu tokens (validation: the last %.3g%% of the tokens)\n", o->val_out, n_val,
               100.0 * o->val_frac);
    free(tokens);
}

int slm_cmd_tokenize(int argc, char **argv) {
    tokenize_options o;
    int n_texts;
    const char **texts = parse_options(argc, argv, &o, &n_texts);
    check_options(&o, n_texts);

    slm_err err;
    slm_bpe *bpe = NULL;
    if (!o.vocab && slm_bpe_load(&bpe, o.tok_path, &err)) slm_die(SLM_EXIT_FAIL, "%s", err.msg);
    if (o.decode) {
        free(texts);
        int rc = decode_to_stdout(o.decode, bpe, o.tok_path);
        slm_bpe_free(bpe);
        return rc;
    }

    text_buf text = {0};
    for (int i = 0; i < n_texts; i++) append_file(&text, texts[i]);
    if (!text.n) slm_die(SLM_EXIT_FAIL, "the text is empty (%d file(s), 0 bytes): nothing to tokenize", n_texts);
    fprintf(stderr, "read %.2f MB from %d file(s)\n", mb(text.n), n_texts);
    double t0 = slm_now_s();
    if (o.vocab) train_tokenizer(&bpe, &text, o.vocab, o.tok_path);
    const double train_s = slm_now_s() - t0;
    const uint32_t V = (uint32_t)slm_bpe_vocab_size(bpe);
    printf("tokenizer %s: %u tokens, %s in %.2f s\n", o.tok_path, V, o.vocab ? "trained" : "loaded", train_s);
    if (o.out) encode_text(bpe, &text, &o, V, t0, train_s);
    free(text.bytes);
    free(texts);
    slm_bpe_free(bpe);
    return SLM_EXIT_OK;
}
