// advise.c — the configuration search of `slm advise` (advise.h).
#include "predict/advise.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The measured record of rc on this device, if any (same shape, batch, kernel, strategy and world).
static const slm_record *measured_of(const slm_results *res, const slm_run_config *rc, const slm_hw *hw,
                                     const slm_hw_catalog *cat) {
    if (!res) return NULL;
    char want[17], got[17];
    slm_run_config a = *rc;
    a.backend = "any", a.dtype = "any", a.mem_limit = 0;
    slm_config_hash(&a, want);
    for (int i = 0; i < res->n; i++) {
        const slm_record *r = &res->recs[i];
        if (strcmp(r->source, "measured") || strcmp(r->status, "ok") || slm_hw_match(cat, r->device) != hw) continue;
        slm_run_config b = r->run;
        b.backend = "any", b.dtype = "any", b.mem_limit = 0;
        b.model.rope_theta = a.model.rope_theta, b.model.norm_eps = a.model.norm_eps;
        slm_config_hash(&b, got);
        if (!strcmp(want, got)) return r;
    }
    return NULL;
}

slm_candidate *slm_advise_search(const slm_advise_space *s, const slm_predictor *pr, int n_pr,
                                 const slm_results *measured, int *n_out) {
    size_t cap = (size_t)n_pr * s->n_worlds * s->n_strategies * s->n_attns * s->n_micros;
    slm_candidate *c = slm_xcalloc(cap + 1, sizeof *c);
    int n = 0;
    slm_hw_catalog one = {0};
    for (int p = 0; p < n_pr; p++)
        for (int w = 0; w < s->n_worlds; w++)
            for (int st = 0; st < s->n_strategies; st++)
                for (int a = 0; a < s->n_attns; a++)
                    for (int m = 0; m < s->n_micros; m++) {
                        slm_candidate *x = &c[n];
                        slm_run_config *rc = &x->rc;
                        slm_run_config_defaults(rc);
                        rc->model = s->model;
                        rc->seq_len = s->seq_len;
                        rc->world_size = s->worlds[w];
                        rc->strategy = s->strategies[st];
                        rc->attention = s->attns[a];
                        rc->micro_batch = s->micros[m];
                        rc->global_batch = s->global_batch ? s->global_batch : s->micros[m] * s->worlds[w];
                        slm_err err;
                        slm_run_config check = *rc;
                        // as slm sweep: single only on one device, the others only on more; whole micro batches
                        if ((rc->strategy == SLM_STRATEGY_SINGLE) != (rc->world_size == 1) ||
                            slm_run_config_validate(&check, &err))
                            continue;
                        x->pr = &pr[p];
                        if (slm_predict_record(&pr[p], rc, &x->rec, &x->pred, &err)) continue;
                        x->oom = x->pred.oom;
                        one.hw = (slm_hw *)pr[p].hw, one.n = 1;
                        const slm_record *meas = measured_of(measured, rc, pr[p].hw, &one);
                        if (meas) {
                            double price = x->rec.price_per_device_hour;
                            char price_source[256];
                            snprintf(price_source, sizeof price_source, "%s", x->rec.price_source);
                            x->rec = *meas;
                            x->measured = 1;
                            x->oom = 0;
                            if (!isfinite(x->rec.price_per_device_hour)) {
                                x->rec.price_per_device_hour = price;
                                snprintf(x->rec.price_source, sizeof x->rec.price_source, "%s", price_source);
                            }
                        }
                        slm_record_derived d;
                        slm_record_derive(&x->rec, &d);
                        x->tokens_per_s = x->rec.tokens_per_s;
                        x->tokens_per_dollar = d.tokens_per_dollar;
                        n++;
                    }
    // memory caps: the next micro batch of the same configuration does not fit
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            const slm_run_config *a = &c[i].rc, *b = &c[j].rc;
            if (c[j].oom && c[i].pr == c[j].pr && a->world_size == b->world_size && a->strategy == b->strategy &&
                a->attention == b->attention && b->micro_batch > a->micro_batch &&
                (!c[i].micro_cap || b->micro_batch < c[i].micro_cap)) {
                c[i].micro_cap = b->micro_batch;
                c[i].cap_needs_bytes = (double)c[j].pred.plan.peak_bytes;
            }
        }
    *n_out = n;
    return c;
}

void slm_candidate_describe(const slm_candidate *c, char *out, size_t len) {
    const slm_run_config *rc = &c->rc;
    char nodes[32] = "";
    if (c->rec.nodes > 1) snprintf(nodes, sizeof nodes, " (%d nodes)", c->rec.nodes);
    snprintf(out, len, "%s x%d%s, %s, %s, micro %d, global %d", c->pr->hw->name, rc->world_size, nodes,
             slm_strategy_names[rc->strategy], slm_attention_names[rc->attention], rc->micro_batch, rc->global_batch);
}

void slm_advise_reason(const slm_candidate *c, char *out, size_t len) {
    const slm_prediction *p = &c->pred;
    double step = p->step_s, compute = p->compute_s / step, comm = p->comm_exposed_s / step;
    double attn = p->attention_s * slm_grad_accum(&c->rc) / p->compute_s;
    const char *bound = comm > 0.3 ? "communication-bound" : compute > 0.8 ? "compute-bound" : "mixed";
    int k = snprintf(out, len,
                     "%s%s: compute %.0f%%, exposed communication %.0f%%, optimizer %.0f%%; attention %.0f%% "
                     "of compute",
                     c->measured ? "measured; model says " : "", bound, 100 * compute, 100 * comm,
                     100 * p->optimizer_s / step, 100 * attn);
    if (c->micro_cap && k > 0 && (size_t)k < len)
        snprintf(out + k, len - (size_t)k, "; memory caps the micro batch (%d needs %.0f GiB of %.0f)", c->micro_cap,
                 c->cap_needs_bytes / 1073741824.0, c->pr->hw->mem_bytes / 1073741824.0);
}

void slm_advise_compare(const slm_candidate *a, const slm_candidate *b, char *out, size_t len) {
    const slm_run_config *x = &a->rc, *y = &b->rc;
    char why[512] = "";
#define ADD(...) snprintf(why + strlen(why), sizeof why - strlen(why), __VA_ARGS__)
    if (a->pr != b->pr)
        ADD("; %.2fx the throughput per device at %.2fx the price per device-hour",
            (a->tokens_per_s / x->world_size) / (b->tokens_per_s / y->world_size),
            a->rec.price_per_device_hour / b->rec.price_per_device_hour);
    if (x->strategy != y->strategy || x->world_size != y->world_size)
        ADD("; exposed communication %.1f%% vs %.1f%% of the step (%.3g s vs %.3g s of collectives)",
            100 * a->pred.comm_exposed_s / a->pred.step_s, 100 * b->pred.comm_exposed_s / b->pred.step_s,
            a->pred.comm_s, b->pred.comm_s);
    if (x->strategy != y->strategy) ADD("; optimizer %.3g s vs %.3g s", a->pred.optimizer_s, b->pred.optimizer_s);
    if (x->attention != y->attention)
        ADD("; attention %.0f%% vs %.0f%% of compute",
            100 * a->pred.attention_s * slm_grad_accum(x) / a->pred.compute_s,
            100 * b->pred.attention_s * slm_grad_accum(y) / b->pred.compute_s);
    if (x->micro_batch != y->micro_batch)
        ADD("; micro batch %d vs %d%s", x->micro_batch, y->micro_batch,
            b->micro_cap && b->micro_cap <= x->micro_batch ? " (the runner-up's larger batch does not fit)" : "");
    ADD("; %.3g vs %.3g tokens/$", a->tokens_per_dollar, b->tokens_per_dollar);
#undef ADD
    snprintf(out, len, "%s", why + 2);
}
