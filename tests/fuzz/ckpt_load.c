// ckpt_load.c — fuzz_load_checkpoint (ckpt_load.h): the checkpoint reader's
// entry points in the order `slm sample` calls them, on one CPU backend
// opened once per process (one thread: a fuzzer shares its machine).
#include "ckpt_load.h"

#include <omp.h>

#include "backend/backend.h"
#include "fuzz.h"
#include "train/checkpoint.h"

static slm_backend *cpu(void) {
    static slm_backend *be;
    slm_err err;
    if (!be) {
        omp_set_num_threads(1);
        if (!(be = slm_backend_open(SLM_BACKEND_CPU, SLM_F32, &err)))
            fuzz_fail("cannot open the cpu backend: %s", err.msg);
    }
    return be;
}

void fuzz_load_checkpoint(const char *path) {
    slm_model_config cfg;
    slm_ckpt_meta meta;
    slm_err err, why;
    fuzz_err_clear(&err);
    if (slm_checkpoint_peek(path, &cfg, &meta, &err)) {
        fuzz_check_refusal(&err, "the checkpoint reader");
        return;
    }
    if (slm_model_config_validate(&cfg, &why)) fuzz_fail("accepted a checkpoint of an invalid model: %s", why.msg);
    slm_model m;
    fuzz_err_clear(&err);
    if (slm_model_init(&m, &cfg, cpu(), 0, &err) || slm_model_alloc_acts(&m, 1, meta.seq_len, SLM_ATTN_VANILLA, &err) ||
        slm_checkpoint_load_model(path, &m, &meta, &err))
        fuzz_check_refusal(&err, "loading a checkpoint");
    slm_model_free(&m);
}
