// cmd_sample.c — `slm sample`: generate text from a checkpoint. Each new token
// runs the forward over the last seq_len tokens (no KV cache: sampling is for
// looking at a model, not for serving it).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "core/err.h"
#include "core/rng.h"
#include "data/bpe.h"
#include "model/llama.h"
#include "train/checkpoint.h"

// Picks the next token from logits [V]: greedy when temperature is 0, else
// softmax(logits / temperature) restricted to the top_k largest (0 = all).
static int pick(float *logits, int V, float temperature, int top_k, slm_rng *rng) {
    int best = 0;
    for (int i = 1; i < V; i++)
        if (logits[i] > logits[best]) best = i;
    if (temperature <= 0) return best;
    float cutoff = -INFINITY;
    if (top_k > 0 && top_k < V) {
        // the k-th largest logit, by partial selection on a copy
        float *copy = slm_xmalloc((size_t)V * sizeof(float));
        memcpy(copy, logits, (size_t)V * sizeof(float));
        for (int k = 0; k < top_k; k++) {
            int arg = k;
            for (int i = k + 1; i < V; i++)
                if (copy[i] > copy[arg]) arg = i;
            float tmp = copy[k];
            copy[k] = copy[arg];
            copy[arg] = tmp;
        }
        cutoff = copy[top_k - 1];
        free(copy);
    }
    double sum = 0.0;
    for (int i = 0; i < V; i++) sum += logits[i] >= cutoff ? exp((logits[i] - logits[best]) / temperature) : 0.0;
    double r = slm_rng_uniform(rng) * sum;
    for (int i = 0; i < V; i++) {
        if (logits[i] < cutoff) continue;
        r -= exp((logits[i] - logits[best]) / temperature);
        if (r <= 0) return i;
    }
    return best;
}

int slm_cmd_sample(int argc, char **argv) {
    const char *ckpt = NULL, *tok_path = NULL, *prompt = "\n", *backend = NULL;
    int n_tokens = 200, top_k = 40, greedy = 0;
    float temperature = 0.8f;
    int64_t seed = 1337;
    slm_flag flags[] = {
        {"--checkpoint", FLAG_STR, &ckpt, "checkpoint written by slm train --save (required)"},
        {"--tokenizer", FLAG_STR, &tok_path, "tokenizer written by slm tokenize (required)"},
        {"--prompt", FLAG_STR, &prompt, "text to continue [a newline]"},
        {"--tokens", FLAG_INT, &n_tokens, "tokens to generate [200]"},
        {"--temperature", FLAG_FLOAT, &temperature, "softmax temperature, 0 = greedy [0.8]"},
        {"--top-k", FLAG_INT, &top_k, "sample among the k most likely tokens, 0 = all [40]"},
        {"--greedy", FLAG_BOOL, &greedy, "always take the most likely token"},
        {"--seed", FLAG_I64, &seed, "sampling seed [1337]"},
        {"--backend", FLAG_STR, &backend, "cpu|cuda [cuda when a GPU is present, else cpu]"},
    };
    slm_flags_parse(flags, sizeof flags / sizeof flags[0], argc, argv,
                    "slm sample --checkpoint FILE --tokenizer FILE [flags]",
                    "Generates text from a trained model: greedy, or with temperature and top-k.");
    if (!ckpt || !tok_path)
        slm_die(SLM_EXIT_USAGE, "sample needs --checkpoint and --tokenizer (see slm sample --help)");
    if (n_tokens < 0 || top_k < 0 || temperature < 0)
        slm_die(SLM_EXIT_USAGE, "--tokens, --top-k and --temperature must be >= 0");
    if (greedy) temperature = 0;
    if (!*prompt) slm_die(SLM_EXIT_USAGE, "--prompt is empty; give some text");

    slm_err err;
    slm_model_config cfg;
    slm_ckpt_meta meta;
    slm_bpe *bpe = NULL;
    if (slm_checkpoint_peek(ckpt, &cfg, &meta, &err) || slm_bpe_load(&bpe, tok_path, &err))
        slm_die(SLM_EXIT_FAIL, "%s", err.msg);
    if (slm_bpe_vocab_size(bpe) > cfg.vocab)
        slm_die(SLM_EXIT_FAIL, "tokenizer %s has %d tokens but the model's vocabulary is %d", tok_path,
                slm_bpe_vocab_size(bpe), cfg.vocab);
    slm_backend_kind kind = SLM_BACKEND_CPU;
    if (!backend)
        kind = slm_backend_default();
    else if (slm_backend_kind_parse(backend, &kind))
        slm_die(SLM_EXIT_FAIL, "unknown backend '%s': expected cpu or cuda", backend);
    slm_backend *be = slm_backend_open(kind, &err);
    if (!be) slm_die(SLM_EXIT_FAIL, "%s", err.msg);
    slm_model m;
    const int T = meta.seq_len, V = cfg.vocab;  // the context the model was trained on
    if (slm_model_init(&m, &cfg, be, 0, &err) || slm_model_alloc_acts(&m, 1, T, SLM_ATTN_VANILLA, &err) ||
        slm_checkpoint_load_model(ckpt, &m, &meta, &err))
        slm_die(SLM_EXIT_FAIL, "%s", err.msg);

    size_t n_prompt;
    uint32_t *enc = slm_bpe_encode(bpe, (const unsigned char *)prompt, strlen(prompt), &n_prompt);
    size_t cap = n_prompt + (size_t)n_tokens + 1, len = 0;
    int *ctx = slm_xmalloc(cap * sizeof(int));
    for (size_t i = 0; i < n_prompt; i++) ctx[len++] = (int)enc[i];
    free(enc);
    if (len == 0) slm_die(SLM_EXIT_USAGE, "--prompt encodes to no tokens; give some text");
    fputs(prompt, stdout);
    float *logits = slm_xmalloc((size_t)V * sizeof(float));
    const size_t elem = slm_dtype_bytes(be->compute);
    uint16_t *logits_bf16 = be->compute == SLM_BF16 ? slm_xmalloc((size_t)V * elem) : NULL;
    slm_rng rng = {(uint64_t)seed};
    for (int i = 0; i < n_tokens; i++) {
        int n = len < (size_t)T ? (int)len : T;
        slm_model_forward(&m, ctx + len - n, NULL, 1, n, 0.0f);
        const char *last = (const char *)m.logits + (size_t)(n - 1) * V * elem;  // logits [n,V], compute dtype
        if (logits_bf16) {
            be->to_host(logits_bf16, last, (size_t)V * elem);
            for (int v = 0; v < V; v++) logits[v] = slm_bf16_to_f32(logits_bf16[v]);
        } else {
            be->to_host(logits, last, (size_t)V * sizeof(float));
        }
        int next = pick(logits, V, temperature, top_k, &rng);
        ctx[len++] = next;
        size_t nb = 0;
        const unsigned char *bytes =
            slm_bpe_token_bytes(bpe, (uint32_t)next, &nb);  // NULL past the tokenizer's vocabulary
        if (bytes) fwrite(bytes, 1, nb, stdout);
        fflush(stdout);
    }
    putchar('\n');
    free(logits);
    free(logits_bf16);
    free(ctx);
    slm_model_free(&m);
    slm_backend_destroy(be);
    slm_bpe_free(bpe);
    return 0;
}
