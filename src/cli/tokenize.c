// tokenize.c — `slm tokenize`: train (or load) a byte-level BPE tokenizer,
// encode a text file into token files (train and, with --val-frac, a held-out
// validation tail), or decode a token file back to text.
#include <stdio.h>
#include <stdlib.h>

#include "cli/commands.h"
#include "cli/flags.h"
#include "core/clock.h"
#include "core/err.h"
#include "data/bpe.h"
#include "data/tokfile.h"

static unsigned char *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) slm_die(SLM_EXIT_FAIL, "cannot open text file %s", path);
    size_t cap = 1 << 20, len = 0;
    unsigned char *buf = slm_xmalloc(cap);
    size_t got;
    while ((got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            cap *= 2;
            unsigned char *bigger = realloc(buf, cap);
            if (!bigger) slm_die(SLM_EXIT_FAIL, "out of host memory reading %s", path);
            buf = bigger;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) slm_die(SLM_EXIT_FAIL, "read error in %s", path);
    *n = len;
    return buf;
}

static int decode_file(const char *tokens_path, const slm_bpe *bpe) {
    slm_err err;
    slm_tokfile tf;
    if (slm_tokfile_open(&tf, tokens_path, &err)) slm_die(SLM_EXIT_FAIL, "%s", err.msg);
    if (tf.vocab > (uint32_t)slm_bpe_vocab_size(bpe))
        slm_die(SLM_EXIT_FAIL, "%s was made with vocabulary %u but the tokenizer has %d tokens", tokens_path, tf.vocab,
                slm_bpe_vocab_size(bpe));
    for (uint64_t i = 0; i < tf.count; i++) {
        size_t len;
        const unsigned char *b = slm_bpe_token_bytes(bpe, slm_tokfile_get(&tf, i), &len);
        if (!b)
            slm_die(SLM_EXIT_FAIL, "%s: token %llu is outside the tokenizer's vocabulary", tokens_path,
                    (unsigned long long)i);
        fwrite(b, 1, len, stdout);
    }
    slm_tokfile_close(&tf);
    return fflush(stdout) ? SLM_EXIT_FAIL : SLM_EXIT_OK;
}

int slm_cmd_tokenize(int argc, char **argv) {
    const char *text_path = NULL, *tok_path = NULL, *out = NULL, *val_out = NULL, *decode = NULL;
    int vocab = 0;
    float val_frac = 0.0f;
    slm_flag flags[] = {
        {"--text", FLAG_STR, &text_path, "text file to train on and encode"},
        {"--vocab", FLAG_INT, &vocab, "train a tokenizer of this many tokens (>= 256) and save it to --tokenizer"},
        {"--tokenizer", FLAG_STR, &tok_path, "tokenizer file: written when --vocab is given, else read (required)"},
        {"--out", FLAG_STR, &out, "token file for the encoded text (its training part with --val-frac)"},
        {"--val-frac", FLAG_FLOAT, &val_frac, "share of the tokens, from the end, held out for validation [0]"},
        {"--val-out", FLAG_STR, &val_out, "token file for the held-out tokens (with --val-frac)"},
        {"--decode", FLAG_STR, &decode, "decode this token file to standard output instead"},
    };
    slm_flags_parse(flags, sizeof flags / sizeof flags[0], argc, argv,
                    "slm tokenize --text FILE --vocab N --tokenizer OUT.bpe --out TOKENS.tok [--val-frac F --val-out "
                    "VAL.tok]\n       slm tokenize --tokenizer T.bpe --decode TOKENS.tok",
                    "Trains a byte-level BPE tokenizer on a text file (or loads one), and encodes the text into\n"
                    "token files for slm train; or decodes a token file back into text. Any bytes round-trip.");
    if (!tok_path) slm_die(SLM_EXIT_USAGE, "tokenize needs --tokenizer (see slm tokenize --help)");
    if (!decode && (!text_path || !out))
        slm_die(SLM_EXIT_USAGE, "tokenize needs --text and --out, or --decode (see slm tokenize --help)");
    if (vocab && (vocab < 256 || vocab > (1 << 20)))
        slm_die(SLM_EXIT_USAGE, "--vocab must be between 256 and 1048576 (got %d)", vocab);
    if (!(val_frac >= 0 && val_frac < 1)) slm_die(SLM_EXIT_USAGE, "--val-frac must be in [0, 1) (got %g)", val_frac);
    if ((val_frac > 0) != (val_out != NULL)) slm_die(SLM_EXIT_USAGE, "--val-frac and --val-out go together");
    if (decode && vocab) slm_die(SLM_EXIT_USAGE, "--decode reads a tokenizer; it cannot take --vocab");

    slm_err err;
    slm_bpe *bpe = NULL;
    size_t n_text = 0;
    unsigned char *text = text_path ? read_all(text_path, &n_text) : NULL;
    double t0 = slm_now_s();
    if (vocab) {
        fprintf(stderr, "training a %d-token BPE on %zu bytes of %s...\n", vocab, n_text, text_path);
        if (slm_bpe_train(&bpe, text, n_text, vocab, &err) || slm_bpe_save(bpe, tok_path, &err))
            slm_die(SLM_EXIT_FAIL, "%s", err.msg);
        if (slm_bpe_vocab_size(bpe) < vocab)
            fprintf(stderr, "note: the text ran out of repeated pairs at %d tokens\n", slm_bpe_vocab_size(bpe));
    } else if (slm_bpe_load(&bpe, tok_path, &err)) {
        slm_die(SLM_EXIT_FAIL, "%s", err.msg);
    }
    double t_train = slm_now_s() - t0;
    if (decode) {
        free(text);
        int rc = decode_file(decode, bpe);
        slm_bpe_free(bpe);
        return rc;
    }

    size_t n_tok;
    uint32_t *tokens = slm_bpe_encode(bpe, text, n_text, &n_tok);
    uint32_t V = (uint32_t)slm_bpe_vocab_size(bpe);
    size_t n_val = (size_t)((double)n_tok * val_frac), n_train = n_tok - n_val;
    if (slm_tokfile_write(out, tokens, n_train, V, &err) ||
        (val_out && slm_tokfile_write(val_out, tokens + n_train, n_val, V, &err)))
        slm_die(SLM_EXIT_FAIL, "%s", err.msg);
    printf("tokenizer %s: %u tokens%s (%.1f s)\n", tok_path, V, vocab ? ", trained" : ", loaded", t_train);
    printf("encoded %zu bytes into %zu tokens (%.2f bytes per token) in %.1f s\n", n_text, n_tok,
           n_tok ? (double)n_text / n_tok : 0.0, slm_now_s() - t0 - t_train);
    printf("  %s: %zu tokens\n", out, n_train);
    if (val_out) printf("  %s: %zu tokens (validation)\n", val_out, n_val);
    free(tokens);
    free(text);
    slm_bpe_free(bpe);
    return 0;
}
