// tokenize.c — `slm tokenize`: train (or load) a byte-level BPE tokenizer, or
// load a Hugging Face tokenizer.json; encode text files into a token file
// (and, with --val-frac, a validation file holding the last part of the
// tokens, so train and validation are disjoint), or decode a token file back
// into text on standard output; write slm's tokenizer as a Hugging Face one
// (--export-hf). Steps are announced on stderr; the summary goes to stdout.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/flags.h"
#include "core/clock.h"
#include "core/err.h"
#include "data/bpe.h"
#include "data/bpe_hf.h"
#include "data/tokenizer.h"
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

static int decode_to_stdout(const char *tokens_path, const slm_tokenizer *tok, const char *tok_path) {
    slm_err err;
    slm_tokfile tf;
    if (slm_tokfile_open(&tf, tokens_path, &err)) slm_die(SLM_EXIT_FAIL, "%s", err.msg);
    const uint32_t V = slm_tokenizer_vocab(tok);
    if (tf.vocab > V)
        slm_die(SLM_EXIT_FAIL, "%s was made with a vocabulary of %u but the tokenizer %s has %u tokens", tokens_path,
                tf.vocab, tok_path, V);
    for (uint64_t i = 0; i < tf.count; i++) {
        size_t len;
        const uint32_t id = slm_tokfile_get(&tf, i);
        const unsigned char *b = slm_tokenizer_token_bytes(tok, id, &len);
        if (!b)
            slm_die(SLM_EXIT_FAIL, "%s: token %llu is %u, which names no token of the tokenizer %s (%u ids)",
                    tokens_path, (unsigned long long)i, id, tok_path, V);
        if (fwrite(b, 1, len, stdout) != len) slm_die(SLM_EXIT_FAIL, "writing the decoded text to stdout failed");
    }
    slm_tokfile_close(&tf);
    if (fflush(stdout)) slm_die(SLM_EXIT_FAIL, "writing the decoded text to stdout failed");
    return SLM_EXIT_OK;
}

typedef struct {
    const char *text_path, *tok_path, *hf_path, *export_hf, *out, *val_out, *decode;
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
        {"--tokenizer", FLAG_STR, &o->tok_path, "slm tokenizer file: written when --vocab is given, else read"},
        {"--hf-tokenizer", FLAG_STR, &o->hf_path,
         "a Hugging Face tokenizer.json (or its directory) of byte-level BPE, instead of --tokenizer (docs/hf.md)"},
        {"--export-hf", FLAG_STR, &o->export_hf,
         "write the --tokenizer as DIR/tokenizer.json and DIR/tokenizer_config.json for Hugging Face"},
        {"--out", FLAG_STR, &o->out, "token file for the encoded text (its training part with --val-frac)"},
        {"--val-frac", FLAG_FLOAT, &o->val_frac, "share of the tokens, from the end, held out for validation [0]"},
        {"--val-out", FLAG_STR, &o->val_out, "token file for the held-out tokens (with --val-frac)"},
        {"--decode", FLAG_STR, &o->decode, "decode this token file to standard output instead"},
    };
    slm_flags_parse(flags, (int)(sizeof flags / sizeof flags[0]), argc, argv,
                    "slm tokenize --text FILE [--text FILE ...] --vocab N --tokenizer OUT.bpe [--out TOKENS.tok]\n"
                    "                    [--val-frac F --val-out VAL.tok]\n"
                    "       slm tokenize --text FILE [--text FILE ...] --tokenizer T.bpe --out TOKENS.tok [...]\n"
                    "       slm tokenize --text FILE [...] --hf-tokenizer DIR_OR_JSON --out TOKENS.tok [...]\n"
                    "       slm tokenize --decode TOKENS.tok (--tokenizer T.bpe | --hf-tokenizer DIR_OR_JSON) > TEXT\n"
                    "       slm tokenize --export-hf DIR --tokenizer T.bpe   (or with --vocab, after training)",
                    "Trains a byte-level BPE tokenizer on text files (or loads one, or a Hugging Face\n"
                    "tokenizer.json) and encodes the text into token files for slm train; or decodes a token\n"
                    "file back into text; or writes slm's tokenizer as a Hugging Face one. Any bytes round-trip\n"
                    "through slm's tokenizer; a Hugging Face one reads invalid UTF-8 as U+FFFD, as Python does.");
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
    if (!o->tok_path == !o->hf_path)
        slm_die(SLM_EXIT_USAGE, "tokenize needs --tokenizer or --hf-tokenizer, one of them (see slm tokenize --help)");
    if (o->hf_path && (o->vocab || o->export_hf))
        slm_die(SLM_EXIT_USAGE, "--hf-tokenizer is read only: --vocab and --export-hf go with --tokenizer");
    if (o->decode && (n_texts || o->vocab || o->out || o->val_out || o->val_frac != 0 || o->export_hf))
        slm_die(SLM_EXIT_USAGE, "--decode takes only --tokenizer or --hf-tokenizer (see slm tokenize --help)");
    const int export_only = o->export_hf && !o->vocab;
    if (export_only && (n_texts || o->out))
        slm_die(SLM_EXIT_USAGE, "--export-hf without --vocab writes the --tokenizer only: no --text or --out");
    if (!o->decode && !export_only && !n_texts)
        slm_die(SLM_EXIT_USAGE, "tokenize needs --text, or --decode, or --export-hf (see slm tokenize --help)");
    if (!o->decode && !export_only && !o->vocab && !o->out)
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
static void encode_text(const slm_tokenizer *tok, const text_buf *text, const tokenize_options *o, uint32_t V,
                        double t0, double train_s) {
    slm_err err;
    fprintf(stderr, "encoding %.2f MB...\n", mb(text->n));
    size_t n_tok, n_repaired;
    uint32_t *tokens = slm_tokenizer_encode(tok, text->bytes, text->n, &n_tok, &n_repaired, &err);
    if (!tokens) slm_die(SLM_EXIT_FAIL, "%s", err.msg);
    const double encode_s = slm_now_s() - t0 - train_s;
    if (n_repaired)
        fprintf(stderr,
                "note: %zu ill-formed UTF-8 sequences in the text were read as U+FFFD (as Python's "
                "errors=\"replace\")\n",
                n_repaired);
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
    printf("encoded %zu bytes into %zu tokens (%.2f bytes per token) in %.2f s (%.3g tokens/s)\n", text->n, n_tok,
           (double)text->n / (double)(n_tok ? n_tok : 1), encode_s, (double)n_tok / encode_s);
    printf("  %s: %zu tokens\n", o->out, n_train);
    if (o->val_out)
        printf("  %s: %zu tokens (validation: the last %.3g%% of the tokens)\n", o->val_out, n_val,
               100.0 * o->val_frac);
    free(tokens);
}

static void export_hf(const slm_bpe *bpe, const char *dir) {
    slm_err err;
    if (slm_bpe_write_hf(bpe, dir, &err)) slm_die(SLM_EXIT_FAIL, "%s", err.msg);
    printf("wrote %s/tokenizer.json and %s/tokenizer_config.json (%d tokens, for Hugging Face tokenizers)\n", dir, dir,
           slm_bpe_vocab_size(bpe));
}

// Reads the --text files; trains slm's tokenizer on them (--vocab) and exports it (--export-hf); encodes them (--out).
static void tokenize_texts(slm_tokenizer *tok, const char **texts, int n_texts, const tokenize_options *o) {
    text_buf text = {0};
    for (int i = 0; i < n_texts; i++) append_file(&text, texts[i]);
    if (!text.n) slm_die(SLM_EXIT_FAIL, "the text is empty (%d file(s), 0 bytes): nothing to tokenize", n_texts);
    fprintf(stderr, "read %.2f MB from %d file(s)\n", mb(text.n), n_texts);
    double t0 = slm_now_s();
    if (o->vocab) train_tokenizer(&tok->bpe, &text, o->vocab, o->tok_path);
    const double train_s = slm_now_s() - t0;
    const uint32_t V = slm_tokenizer_vocab(tok);
    printf("tokenizer %s: %u tokens, %s in %.2f s\n", o->hf_path ? o->hf_path : o->tok_path, V,
           o->vocab ? "trained" : "loaded", train_s);
    if (o->export_hf) export_hf(tok->bpe, o->export_hf);
    if (o->out) encode_text(tok, &text, o, V, t0, train_s);
    free(text.bytes);
}

int slm_cmd_tokenize(int argc, char **argv) {
    tokenize_options o;
    int n_texts;
    const char **texts = parse_options(argc, argv, &o, &n_texts);
    check_options(&o, n_texts);

    slm_err err;
    slm_tokenizer tok = {0};
    if (o.hf_path ? slm_hftok_load(&tok.hf, o.hf_path, &err) : !o.vocab && slm_bpe_load(&tok.bpe, o.tok_path, &err))
        slm_die(SLM_EXIT_FAIL, "%s", err.msg);
    int rc = SLM_EXIT_OK;
    if (o.decode)
        rc = decode_to_stdout(o.decode, &tok, o.hf_path ? o.hf_path : o.tok_path);
    else if (o.export_hf && !o.vocab)
        export_hf(tok.bpe, o.export_hf);
    else
        tokenize_texts(&tok, texts, n_texts, &o);
    free(texts);
    slm_tokenizer_free(&tok);
    return rc;
}
