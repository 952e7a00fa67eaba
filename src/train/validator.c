// validator.c — the validation loss (validator.h).
#include "train/validator.h"

#include <math.h>

void slm_validator_init(slm_validator *v, slm_strategy *st, slm_batch_source *src, const slm_run_config *rc,
                        int *inputs, int *targets) {
    *v = (slm_validator){.st = st,
                         .src = src,
                         .inputs = inputs,
                         .targets = targets,
                         .B = rc->micro_batch,
                         .T = rc->seq_len,
                         .eval_batches = rc->eval_batches,
                         .eval_every = rc->eval_every,
                         .steps = rc->steps};
}

int slm_validator_due(const slm_validator *v, int step) {
    return v->src && (step == v->steps || (v->eval_every && step % v->eval_every == 0));
}

int slm_validator_run(slm_validator *v, int step, double *loss, slm_err *err) {
    slm_comm *c = v->st->comm;
    const int per_rank = (v->eval_batches + c->world - 1) / c->world;
    slm_strategy_set_eval(v->st, 1);
    double sum = 0.0;
    for (int j = 0; j < per_rank; j++) {
        int i = j * c->world + c->rank, counted = i < v->eval_batches;
        if (!counted) i = 0;
        if (slm_batch_nth(v->src, v->inputs, v->targets, v->B, v->T, SLM_VAL_STREAM, (uint64_t)i, err))
            return slm_comm_fail_alone(c, err);
        double l = slm_model_forward(v->st->model, v->inputs, v->targets, v->B, v->T, 0.0f);
        if (counted) sum += l;
    }
    slm_strategy_set_eval(v->st, 0);
    c->all_reduce(c, &sum, 1, SLM_F64, SLM_SUM, 0);
    *loss = sum / v->eval_batches;
    if (!isfinite(*loss))
        return slm_fail(err, "validation loss became %g at step %d (try a lower --lr, or --grad-clip 1)", *loss, step);
    return 0;
}
