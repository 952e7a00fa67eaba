// hf_logits.c — the logits slm.c computes (CPU, fp32, vanilla attention) for a
// model of train/init_from.h (an slm checkpoint, a Hugging Face directory or
// .safetensors) on given token sequences, printed as one JSON object
// {"batch": B, "seq": T, "vocab": V, "logits": [B·T·V floats, 9 digits]}, so
// that tests/reference/check_export.py can compare them with what
// transformers computes on an `slm export` of the same model.
//
// usage: hf_logits SOURCE TOKENS     TOKENS: ids by commas, sequences of equal length by ';' ("1,2,3;4,5,6")
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "train/init_from.h"

// One sequence of ids by commas from *p into tok; its length (0 on a malformed one), *p past it.
static int parse_row(const char **p, int *tok) {
    int n = 0;
    for (;;) {
        char *end;
        long v = strtol(*p, &end, 10);
        if (end == *p) return 0;
        tok[n++] = (int)v;
        *p = end;
        if (*end != ',') return n;
        (*p)++;
    }
}

// The sequences of text into tokens (a new array), *B of *T each; exits when they are ragged or malformed.
static int *parse_tokens(const char *text, int *B, int *T) {
    int *tok = calloc(strlen(text) + 1, sizeof(int)), n = 0, len;
    const char *p = text;
    *B = *T = 0;
    while ((len = parse_row(&p, tok + n)) > 0 && (*B == 0 || len == *T)) {
        *T = len;
        n += len;
        (*B)++;
        if (*p != ';') break;
        p++;
    }
    if (len <= 0 || len != *T || *p) {
        fprintf(stderr, "hf_logits: TOKENS must be ids by commas, sequences of equal length by ';' (got '%s')\n", text);
        exit(2);
    }
    return tok;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: hf_logits SOURCE TOKENS   (ids by commas, sequences by ';')\n");
        return 2;
    }
    int B, T, seq_len;
    int *tokens = parse_tokens(argv[2], &B, &T);
    slm_err err;
    slm_model_config cfg;
    slm_model m;
    slm_backend *be = slm_backend_cpu();
    if (slm_source_config(argv[1], &cfg, &err) || slm_model_init(&m, &cfg, be, 0, &err) ||
        slm_source_load_model(argv[1], &m, &seq_len, &err) || slm_model_alloc_acts(&m, B, T, SLM_ATTN_VANILLA, &err)) {
        fprintf(stderr, "hf_logits: %s\n", err.msg);
        return 1;
    }
    const size_t n = (size_t)B * T * cfg.vocab;
    float *logits = malloc(n * sizeof(float));
    slm_model_forward(&m, tokens, NULL, B, T, 0.0f);
    be->to_host(logits, m.logits, n * sizeof(float));
    printf("{\"batch\": %d, \"seq\": %d, \"vocab\": %d, \"logits\": [", B, T, cfg.vocab);
    for (size_t i = 0; i < n; i++) printf("%s%.9g", i ? "," : "", logits[i]);
    printf("]}\n");
    free(logits);
    free(tokens);
    slm_model_free(&m);
    slm_backend_destroy(be);
    return 0;
}
