// cmd_sample.c — `slm sample`: generate text from a checkpoint (slm's, or a
// Hugging Face one: train/init_from.h). Each new token runs the forward over
// the last seq_len tokens (no KV cache: sampling is for looking at a model,
// not for serving it).
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
#include "train/init_from.h"

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

typedef struct {
    const char *ckpt, *tok_path, *prompt, *backend;
    int n_tokens, top_k, greedy;
    float temperature;
    int64_t seed;
} sample_options;

// The flags into o, and their usage errors; --greedy sets the temperature to 0.
static void parse_options(int argc, char **argv, sample_options *o) {
    *o = (sample_options){.prompt = "\n", .n_tokens = 200, .top_k = 40, .temperature = 0.8f, .seed = 1337};
    slm_flag flags[] = {
        {"--checkpoint", FLAG_STR, &o->ckpt,
         "checkpoint written by slm train --save, or a Hugging Face directory / .safetensors (required)"},
        {"--tokenizer", FLAG_STR, &o->tok_path, "tokenizer written by slm tokenize (required)"},
        {"--prompt", FLAG_STR, &o->prompt, "text to continue [a newline]"},
        {"--tokens", FLAG_INT, &o->n_tokens, "tokens to generate [200]"},
        {"--temperature", FLAG_FLOAT, &o->temperature, "softmax temperature, 0 = greedy [0.8]"},
        {"--top-k", FLAG_INT, &o->top_k, "sample among the k most likely tokens, 0 = all [40]"},
        {"--greedy", FLAG_BOOL, &o->greedy, "always take the most likely token"},
        {"--seed", FLAG_I64, &o->seed, "sampling seed [1337]"},
        {"--backend", FLAG_STR, &o->backend, "cpu|cuda [cuda when a GPU is present, else cpu]"},
    };
    slm_flags_parse(flags, sizeof flags / sizeof flags[0], argc, argv,
                    "slm sample --checkpoint FILE --tokenizer FILE [flags]",
                    "Generates text from a trained model: greedy, or with temperature and top-k. The model is an slm\n"
                    "checkpoint or a Hugging Face LlamaForCausalLM checkpoint (docs/hf.md); the tokenizer is slm's.");
    if (!o->ckpt || !o->tok_path)
        slm_die(SLM_EXIT_USAGE, "sample needs --checkpoint and --tokenizer (see slm sample --help)");
    if (o->n_tokens < 0 || o->top_k < 0 || o->temperature < 0)
        slm_die(SLM_EXIT_USAGE, "--tokens, --top-k and --temperature must be >= 0");
    if (o->greedy) o->temperature = 0;
    if (!*o->prompt) slm_die(SLM_EXIT_USAGE, "--prompt is empty; give some text");
}

// The --backend (NULL: the default one), opened.
static slm_backend *open_backend(const char *backend) {
    slm_backend_kind kind = SLM_BACKEND_CPU;
    if (!backend)
        kind = slm_backend_default();
    else if (slm_backend_kind_parse(backend, &kind))
        slm_die(SLM_EXIT_FAIL, "unknown backend '%s': expected cpu or cuda", backend);
    slm_err err;
    slm_backend *be = slm_backend_open(kind, slm_backend_default_dtype(kind), &err);
    if (!be) slm_die(SLM_EXIT_FAIL, "%s", err.msg);
    return be;
}

// The model of o->ckpt (train/init_from.h: an slm checkpoint or a Hugging Face checkpoint) on the backend, checked
// against the tokenizer's vocabulary, with activations for one sequence of the context it was trained on (*seq_len),
// or of `need` tokens when fewer (an HF model's context may be far longer than a sample); returns the backend.
static slm_backend *load_model(const sample_options *o, const slm_bpe *bpe, size_t need, slm_model *m, int *seq_len) {
    slm_err err;
    slm_model_config cfg;
    if (slm_source_config(o->ckpt, &cfg, &err)) slm_die(SLM_EXIT_FAIL, "%s", err.msg);
    if (slm_bpe_vocab_size(bpe) > cfg.vocab)
        slm_die(SLM_EXIT_FAIL, "tokenizer %s has %d tokens but the model's vocabulary is %d", o->tok_path,
                slm_bpe_vocab_size(bpe), cfg.vocab);
    slm_backend *be = open_backend(o->backend);
    if (slm_model_init(m, &cfg, be, 0, &err) || slm_source_load_model(o->ckpt, m, seq_len, &err))
        slm_die(SLM_EXIT_FAIL, "%s", err.msg);
    if ((size_t)*seq_len > need) *seq_len = (int)need;
    if (slm_model_alloc_acts(m, 1, *seq_len, SLM_ATTN_VANILLA, &err)) slm_die(SLM_EXIT_FAIL, "%s", err.msg);
    return be;
}

// The prompt's tokens in a context with room for n_tokens more; *len: how many.
static int *encode_prompt(const slm_bpe *bpe, const char *prompt, int n_tokens, size_t *len) {
    size_t n_prompt;
    uint32_t *enc = slm_bpe_encode(bpe, (const unsigned char *)prompt, strlen(prompt), &n_prompt);
    size_t cap = n_prompt + (size_t)n_tokens + 1, n = 0;
    int *ctx = slm_xmalloc(cap * sizeof(int));
    for (size_t i = 0; i < n_prompt; i++) ctx[n++] = (int)enc[i];
    free(enc);
    if (n == 0) slm_die(SLM_EXIT_USAGE, "--prompt encodes to no tokens; give some text");
    *len = n;
    return ctx;
}

// The logits [V] of the last of the n positions the forward ran, as fp32 on the host (through logits_bf16 when
// the backend computes in bf16); elem: the bytes of one logit in the compute dtype.
static void last_logits(const slm_model *m, const slm_backend *be, int n, int V, size_t elem, float *logits,
                        uint16_t *logits_bf16) {
    const char *last = (const char *)m->logits + (size_t)(n - 1) * V * elem;  // logits [n,V], compute dtype
    if (logits_bf16) {
        be->to_host(logits_bf16, last, (size_t)V * elem);
        for (int v = 0; v < V; v++) logits[v] = slm_bf16_to_f32(logits_bf16[v]);
    } else {
        be->to_host(logits, last, (size_t)V * sizeof(float));
    }
}

// Appends o->n_tokens tokens to the context ctx[0..len), each from the forward over the last T tokens (the
// context the model was trained on), writing each one's bytes to stdout as it comes.
static void generate(slm_model *m, const slm_backend *be, const slm_bpe *bpe, int T, int *ctx, size_t len,
                     const sample_options *o) {
    const int V = m->cfg.vocab;
    float *logits = slm_xmalloc((size_t)V * sizeof(float));
    const size_t elem = slm_dtype_bytes(be->compute);
    uint16_t *logits_bf16 = be->compute == SLM_BF16 ? slm_xmalloc((size_t)V * elem) : NULL;
    slm_rng rng = {(uint64_t)o->seed};
    for (int i = 0; i < o->n_tokens; i++) {
        int n = len < (size_t)T ? (int)len : T;
        slm_model_forward(m, ctx + len - n, NULL, 1, n, 0.0f);
        last_logits(m, be, n, V, elem, logits, logits_bf16);
        int next = pick(logits, V, o->temperature, o->top_k, &rng);
        ctx[len++] = next;
        size_t nb = 0;
        const unsigned char *bytes =
            slm_bpe_token_bytes(bpe, (uint32_t)next, &nb);  // NULL past the tokenizer's vocabulary
        if (bytes) fwrite(bytes, 1, nb, stdout);
        fflush(stdout);
    }
    free(logits);
    free(logits_bf16);
}

int slm_cmd_sample(int argc, char **argv) {
    sample_options o;
    parse_options(argc, argv, &o);
    slm_bpe *bpe = NULL;
    slm_err err;
    if (slm_bpe_load(&bpe, o.tok_path, &err)) slm_die(SLM_EXIT_FAIL, "%s", err.msg);
    size_t len;
    int *ctx = encode_prompt(bpe, o.prompt, o.n_tokens, &len);
    slm_model m;
    int seq_len;
    slm_backend *be = load_model(&o, bpe, len + (size_t)o.n_tokens, &m, &seq_len);
    fputs(o.prompt, stdout);
    generate(&m, be, bpe, seq_len, ctx, len, &o);
    putchar('\n');
    free(ctx);
    slm_model_free(&m);
    slm_backend_destroy(be);
    slm_bpe_free(bpe);
    return 0;
}
