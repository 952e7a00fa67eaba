// advise.c — the configuration search of `slm advise` (advise.h).
#include "predict/advise.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The measured record of rc on this device, if any (same shape, batch, kernel, strategy and world): of several
// (slm sweep --rounds), the median.
static const slm_record *measured_of(const slm_results *res, const slm_run_config *rc, const slm_hw *hw,
                                     const slm_hw_catalog *cat) {
    if (!res) return NULL;
    int *match = slm_xcalloc((size_t)res->n + 1, sizeof(int)), n = 0;
    char want[17], got[17];
    slm_run_config a = *rc;
    a.mem_limit = 0;
    slm_config_hash_any_device(&a, want);
    for (int i = 0; i < res->n; i++) {
        const slm_record *r = &res->recs[i];
        if (strcmp(r->source, "measured") || strcmp(r->status, "ok") || slm_hw_match(cat, r->device) != hw) continue;
        slm_run_config b = r->run;
        b.mem_limit = 0;
        b.model.rope_theta = a.model.rope_theta, b.model.norm_eps = a.model.norm_eps;
        b.model.rope_scaling = a.model.rope_scaling;  // none changes the speed
        slm_config_hash_any_device(&b, got);
        if (!strcmp(want, got)) match[n++] = i;
    }
    int median = slm_results_median_of(res->recs, match, n);
    free(match);
    return median >= 0 ? &res->recs[median] : NULL;
}

// The space's point i (accumulation varying fastest, then micro batch, attention, strategy, device count,
// predictor) into rc; the predictor's index, or -1 when the point is not searched.
static int space_point(const slm_advise_space *s, size_t i, int n_acc, slm_run_config *rc) {
    const int k = (int)(i % (size_t)n_acc);
    i /= (size_t)n_acc;
    const int m = (int)(i % (size_t)s->n_micros);
    i /= (size_t)s->n_micros;
    const int a = (int)(i % (size_t)s->n_attns);
    i /= (size_t)s->n_attns;
    const int st = (int)(i % (size_t)s->n_strategies);
    i /= (size_t)s->n_strategies;
    const int w = (int)(i % (size_t)s->n_worlds);
    const int accum = k ? s->accums[k - 1] : 1;
    slm_run_config_defaults(rc);
    rc->model = s->model;
    rc->seq_len = s->seq_len;
    rc->world_size = s->worlds[w];
    rc->strategy = s->strategies[st];
    rc->attention = s->attns[a];
    rc->micro_batch = s->micros[m];
    const int64_t global = s->global_batch ? s->global_batch : (int64_t)s->micros[m] * s->worlds[w] * accum;
    if (global > INT_MAX || (k && (accum == 1 || (s->max_global_tokens && global * s->seq_len > s->max_global_tokens))))
        return -1;
    rc->global_batch = (int)global;
    slm_err err;
    // as slm sweep: single only on one device, the others only on more; whole micro batches
    if ((rc->strategy == SLM_STRATEGY_SINGLE) != (rc->world_size == 1) || slm_run_config_validate(rc, &err)) return -1;
    return (int)(i / (size_t)s->n_worlds);
}

// x predicted on pr, or its measured record where `measured` holds one; -1 when pr cannot place it.
static int candidate_init(slm_candidate *x, const slm_predictor *pr, const slm_results *measured) {
    slm_err err;
    x->pr = pr;
    if (slm_predict_record(pr, &x->rc, &x->rec, &x->pred, &err)) return -1;
    x->oom = x->pred.oom;
    slm_hw_catalog one = {.hw = (slm_hw *)pr->hw, .n = 1};
    const slm_record *meas = measured_of(measured, &x->rc, pr->hw, &one);
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
    return 0;
}

// Same device, count, strategy and attention: only micro batch and accumulation differ.
static int same_group(const slm_candidate *x, const slm_candidate *y) {
    return x->pr == y->pr && x->rc.world_size == y->rc.world_size && x->rc.strategy == y->rc.strategy &&
           x->rc.attention == y->rc.attention;
}

slm_candidate *slm_advise_search(const slm_advise_space *s, const slm_predictor *pr, int n_pr,
                                 const slm_results *measured, int *n_out) {
    const int n_acc = s->global_batch ? 1 : 1 + s->n_accums;
    const size_t total = (size_t)n_pr * s->n_worlds * s->n_strategies * s->n_attns * s->n_micros * n_acc;
    slm_candidate *c = slm_xcalloc(total + 1, sizeof *c);
    int n = 0;
    for (size_t i = 0; i < total; i++) {
        memset(&c[n], 0, sizeof c[n]);
        const int p = space_point(s, i, n_acc, &c[n].rc);
        if (p >= 0 && !candidate_init(&c[n], &pr[p], measured)) n++;
    }
    // memory caps: the next micro batch of the same configuration does not fit; a group's candidates are
    // contiguous (space_point's order), and their memory is the same at every accumulation
    for (int g = 0, e; g < n; g = e) {
        e = g + 1;
        while (e < n && same_group(&c[g], &c[e])) e++;
        for (int i = g; i < e; i++)
            for (int j = g; j < e; j++) {
                const int next = c[j].rc.micro_batch;
                if (c[j].oom && next > c[i].rc.micro_batch && (!c[i].micro_cap || next < c[i].micro_cap)) {
                    c[i].micro_cap = next;
                    c[i].cap_needs_bytes = (double)c[j].pred.plan.peak_bytes;
                }
            }
    }
    *n_out = n;
    return c;
}

void slm_candidate_describe(const slm_candidate *c, char *out, size_t len) {
    const slm_run_config *rc = &c->rc;
    char nodes[32] = "", accum[32] = "";
    if (c->rec.nodes > 1) snprintf(nodes, sizeof nodes, " (%d nodes)", c->rec.nodes);
    if (slm_grad_accum(rc) > 1) snprintf(accum, sizeof accum, " x %d accum", slm_grad_accum(rc));
    snprintf(out, len, "%s x%d%s, %s, %s, micro %d%s, global %d", c->pr->hw->name, rc->world_size, nodes,
             slm_strategy_names[rc->strategy], slm_attention_names[rc->attention], rc->micro_batch, accum,
             rc->global_batch);
}

// Accumulation as each strategy does it (perf.h): what runs once per optimizer step, and what stays per micro step.
static const char *const per_optimizer_step[] = {"the optimizer", "DDP's all-reduce and the optimizer", "the optimizer",
                                                 "the optimizer"};
static const char *const per_micro_step[] = {"", "", " (FSDP's gathers and reduce-scatters stay per micro step)",
                                             " (FSDP's gathers and reduce-scatters stay per micro step)"};

void slm_advise_reason(const slm_candidate *c, char *out, size_t len) {
    const slm_prediction *p = &c->pred;
    const int accum = slm_grad_accum(&c->rc);
    double step = p->step_s, compute = p->compute_s / step, comm = p->comm_exposed_s / step;
    double attn = p->attention_s * accum / p->compute_s;
    const char *bound = comm > 0.3 ? "communication-bound" : compute > 0.8 ? "compute-bound" : "mixed";
    char why[512];
    int k = snprintf(why, sizeof why,
                     "%s%s: compute %.0f%%, exposed communication %.0f%%, optimizer %.0f%%; attention %.0f%% "
                     "of compute",
                     c->measured ? "measured; model says " : "", bound, 100 * compute, 100 * comm,
                     100 * p->optimizer_s / step, 100 * attn);
    if (accum > 1 && k > 0 && (size_t)k < sizeof why)
        k += snprintf(why + k, sizeof why - (size_t)k, "; accumulation %d: %s once per %d micro steps%s", accum,
                      per_optimizer_step[c->rc.strategy], accum, per_micro_step[c->rc.strategy]);
    if (c->micro_cap && k > 0 && (size_t)k < sizeof why)
        snprintf(why + k, sizeof why - (size_t)k, "; memory caps the micro batch (%d needs %.0f GiB of %.0f)",
                 c->micro_cap, c->cap_needs_bytes / 1073741824.0, c->pr->hw->mem_bytes / 1073741824.0);
    snprintf(out, len, "%s", why);
}

void slm_advise_compare(const slm_candidate *a, const slm_candidate *b, char *out, size_t len) {
    const slm_run_config *x = &a->rc, *y = &b->rc;
    const int ka = slm_grad_accum(x), kb = slm_grad_accum(y);
    char why[1024] = "";
#define ADD(...) snprintf(why + strlen(why), sizeof why - strlen(why), __VA_ARGS__)
    if (a->pr != b->pr)
        ADD("; %.2fx the throughput per device at %.2fx the price per device-hour",
            (a->tokens_per_s / x->world_size) / (b->tokens_per_s / y->world_size),
            a->rec.price_per_device_hour / b->rec.price_per_device_hour);
    const slm_strategy_kind both = x->strategy == y->strategy ? x->strategy : SLM_STRATEGY_SINGLE;
    if (ka != kb)
        ADD("; accumulation %d vs %d: %s once per %d vs %d micro steps%s, exposed communication %.1f%% vs %.1f%% of "
            "the step, optimizer %.1f%% vs %.1f%%",
            ka, kb, per_optimizer_step[both], ka, kb, per_micro_step[both],
            100 * a->pred.comm_exposed_s / a->pred.step_s, 100 * b->pred.comm_exposed_s / b->pred.step_s,
            100 * a->pred.optimizer_s / a->pred.step_s, 100 * b->pred.optimizer_s / b->pred.step_s);
    else if (x->strategy != y->strategy || x->world_size != y->world_size)
        ADD("; exposed communication %.1f%% vs %.1f%% of the step (%.3g s vs %.3g s of collectives)",
            100 * a->pred.comm_exposed_s / a->pred.step_s, 100 * b->pred.comm_exposed_s / b->pred.step_s,
            a->pred.comm_s, b->pred.comm_s);
    if (x->strategy != y->strategy && ka == kb)
        ADD("; optimizer %.3g s vs %.3g s", a->pred.optimizer_s, b->pred.optimizer_s);
    if (x->attention != y->attention)
        ADD("; attention %.0f%% vs %.0f%% of compute", 100 * a->pred.attention_s * ka / a->pred.compute_s,
            100 * b->pred.attention_s * kb / b->pred.compute_s);
    if (x->micro_batch != y->micro_batch)
        ADD("; micro batch %d vs %d%s", x->micro_batch, y->micro_batch,
            b->micro_cap && b->micro_cap <= x->micro_batch ? " (the runner-up's larger batch does not fit)" : "");
    ADD("; %.3g vs %.3g tokens/$", a->tokens_per_dollar, b->tokens_per_dollar);
#undef ADD
    snprintf(out, len, "%s", why + 2);
}
