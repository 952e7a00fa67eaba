// run_flags.h — the flags every run understands (README.md lists them), shared
// by train, info, bench, sweep, predict and advise: the model and its shape,
// batch, attention, strategy, device, data, optimizer and loop.
#pragma once
#include "cli/flags.h"
#include "core/run_config.h"

enum { SLM_RUN_FLAGS_MAX = 64 };

// Text values resolved after parsing (the model name, enums, shape overrides).
typedef struct {
    const char *model, *attention, *strategy, *overlap;
    const char *backend, *dtype;  // NULL: the default, resolved to what this machine has (backend.h)
    int n_layers, d_model, n_heads, n_kv_heads, ffn_dim, vocab, max_seq_len, tie_embeddings;
    float rope_theta, norm_eps;
    int seen_shape[10];
    int seen_model, seen_seq_len;
    int seen_warmup, seen_min_lr;  // given (their defaults depend on --steps and --lr)
    int allow_emulated_bf16;
    int64_t seed;
} slm_run_flag_text;

typedef enum { RUN_FLAGS_MODEL = 1, RUN_FLAGS_TRAIN = 2 } slm_run_flag_set;

// Appends the flags of `which` to flags[*n]; the values land in rc and text.
void slm_run_flags_add(slm_flag *flags, int *n, slm_run_config *rc, slm_run_flag_text *text, int which);
// Resolves the model (preset, JSON model file, Hugging Face directory, or
// --init-from's source; then shape flags), the enums, the
// world size (the ranks of this job: mpirun -np N) and validates the whole
// config; any problem is one line and exit code 2.
void slm_run_flags_finish(slm_run_config *rc, slm_run_flag_text *text);
// The resolution alone, without validating and without exiting: -1 with err
// set when the model or an enum is unknown (a sweep's grid names the line).
// --backend and --dtype become their enums here, and only here; unnamed,
// the machine's default backend and that backend's default dtype.
int slm_run_flags_resolve(slm_run_config *rc, slm_run_flag_text *text, slm_err *err);
// The backend the flags ask for into *out: --backend, else slm_backend_default().
// -1 with err set when --backend names none.
int slm_run_flags_backend(const slm_run_flag_text *text, slm_backend_kind *out, slm_err *err);
// Every rule of a resolved config: slm_run_config_validate's, then its
// backend's (slm_backend_check). -1 with err set at the first one broken.
int slm_run_flags_validate(const slm_run_config *rc, slm_err *err);
