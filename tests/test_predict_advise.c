// test_predict_advise.c — the search behind `slm advise`: every valid point
// of a space is predicted (single only on one device, as sweep runs it); the
// largest micro batch that fits says memory capped it, with the next one's
// bytes; a measured record of the same configuration and device takes its
// point's place; the reasons name the dominant term. Gradient accumulation:
// accumulation 1 is always searched, more only within the cap on the global
// batch in tokens; the memory cap holds at every accumulation; DDP over
// 100 Gb/s Ethernet between nodes wins by accumulating, and says so.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "predict/advise.h"
#include "testutil.h"

static char prices[4096];

static slm_predictor predictor(const slm_hw_catalog *cat, const char *device) {
    slm_predictor pr;
    slm_err err;
    if (slm_predictor_init(&pr, slm_hw_find(cat, device), t_tmp_path("no-calibration.json"), &err))
        t_check(0, "%s", err.msg);
    pr.prices_path = prices;
    return pr;
}

// accums {1, 4}, global batch at most 64 sequences: accumulation 1 everywhere (even past the cap), 4 where it fits.
static void accumulation_space(const slm_hw_catalog *cat) {
    slm_advise_space s = {.seq_len = 1024,
                          .worlds = {1, 8},
                          .n_worlds = 2,
                          .micros = {4, 8, 16},
                          .n_micros = 3,
                          .attns = {SLM_ATTN_FLASH},
                          .n_attns = 1,
                          .strategies = {SLM_STRATEGY_SINGLE, SLM_STRATEGY_DDP},
                          .n_strategies = 2,
                          .accums = {1, 4},
                          .n_accums = 2,
                          .max_global_tokens = 64 * 1024};
    slm_preset("100m", &s.model, NULL);
    slm_predictor pr = predictor(cat, "A100-80GB");
    int n, over_cap = 0, past_cap_at_1 = 0, n4 = 0;
    slm_candidate *c = slm_advise_search(&s, &pr, 1, NULL, &n);
    for (int i = 0; i < n; i++) {
        const int accum = slm_grad_accum(&c[i].rc);
        n4 += accum == 4;
        over_cap += accum > 1 && (int64_t)c[i].rc.global_batch * s.seq_len > s.max_global_tokens;
        past_cap_at_1 += accum == 1 && (int64_t)c[i].rc.global_batch * s.seq_len > s.max_global_tokens;
    }
    t_check(n == 9 && n4 == 3,
            "%d candidates, %d at accumulation 4: 6 at accumulation 1 (3 micro batches single x1 and ddp x8), 3 at 4 "
            "(single x1, global 16..64); ddp x8 x 4 (global 128..512) is past the 64-sequence cap; the 1 in the list "
            "is not searched twice",
            n, n4);
    t_check(over_cap == 0 && past_cap_at_1 == 1,
            "no accumulating candidate past the cap; at accumulation 1 ddp x8 micro 16 (global 128) is kept past it "
            "(%d such)",
            past_cap_at_1);
    char what[160] = "";
    for (int i = 0; i < n; i++)
        if (slm_grad_accum(&c[i].rc) == 4 && c[i].rc.micro_batch == 8) slm_candidate_describe(&c[i], what, sizeof what);
    t_check(strstr(what, "micro 8 x 4 accum, global 32") != NULL, "described: %s", what);
    free(c);
}

// 100m, 32 and 64 H100s, 8 per node, 100 Gb/s Ethernet between nodes: at accumulation 1 the gradients' all-reduce
// dominates DDP's step; the best by tokens/$ accumulates and its words say so.
static void accumulation_wins(const slm_hw_catalog *cat) {
    slm_advise_space s = {.seq_len = 1024,
                          .worlds = {32, 64},
                          .n_worlds = 2,
                          .micros = {4, 8, 16},
                          .n_micros = 3,
                          .attns = {SLM_ATTN_FLASH},
                          .n_attns = 1,
                          .strategies = {SLM_STRATEGY_DDP, SLM_STRATEGY_FSDP_FULL, SLM_STRATEGY_FSDP_GRAD_OP},
                          .n_strategies = 3,
                          .accums = {2, 4, 8},
                          .n_accums = 3,
                          .max_global_tokens = 1 << 21};
    slm_preset("100m", &s.model, NULL);
    slm_predictor pr = predictor(cat, "H100-80GB");
    slm_err err;
    pr.interconnect = slm_hw_interconnect(cat, "ethernet-100g", &err);
    t_check(pr.interconnect != NULL && !slm_hw_interconnect(cat, "ib-xdr", &err) && strstr(err.msg, "ethernet-100g"),
            "ethernet-100g is in the catalog; an unknown link is refused naming the known ones: %s", err.msg);
    int n;
    slm_candidate *c = slm_advise_search(&s, &pr, 1, NULL, &n);
    const slm_candidate *best = NULL, *best1 = NULL;
    for (int i = 0; i < n; i++) {
        if (c[i].oom) continue;
        if (!best || c[i].tokens_per_dollar > best->tokens_per_dollar) best = &c[i];
        if (slm_grad_accum(&c[i].rc) == 1 && (!best1 || c[i].tokens_per_dollar > best1->tokens_per_dollar))
            best1 = &c[i];
    }
    if (!best || !best1) {
        t_check(0, "no candidate that fits in %d", n);
        free(c);
        return;
    }
    char what[160], why[1024], vs[1024] = "";
    slm_candidate_describe(best, what, sizeof what);
    slm_advise_reason(best1, why, sizeof why);
    t_check(best1->pred.comm_exposed_s > best1->pred.compute_s && strstr(why, "communication-bound"),
            "the best at accumulation 1 is communication-bound: %s", why);
    const slm_candidate *twin = NULL;  // best at accumulation 1
    for (int i = 0; i < n; i++)
        if (slm_grad_accum(&c[i].rc) == 1 && c[i].rc.world_size == best->rc.world_size &&
            c[i].rc.strategy == best->rc.strategy && c[i].rc.micro_batch == best->rc.micro_batch)
            twin = &c[i];
    slm_advise_reason(best, why, sizeof why);
    if (twin) slm_advise_compare(best, twin, vs, sizeof vs);
    t_check(slm_grad_accum(&best->rc) > 1 && best->tokens_per_dollar > 1.2 * best1->tokens_per_dollar,
            "the best by tokens/$ accumulates: %s, %.4g tokens/$ against %.4g at accumulation 1", what,
            best->tokens_per_dollar, best1->tokens_per_dollar);
    t_check(twin && strstr(why, "accumulation") && best->rc.strategy == SLM_STRATEGY_DDP &&
                strstr(vs, " vs 1: DDP's all-reduce and the optimizer once per "),
            "its reason: %s; over itself at accumulation 1: %s", why, twin ? vs : "(none)");
    free(c);
}

int main(void) {
    slm_hw_catalog cat;
    slm_err err;
    if (slm_hw_load(t_source_path("data/hardware.json"), &cat, &err)) {
        t_check(0, "%s", err.msg);
        return t_finish("test_predict_advise");
    }
    snprintf(prices, sizeof prices, "%s", t_source_path("data/prices.json"));
    const char none[] = "{\"calibrations\": []}";  // a calibration of no device: the datasheet's efficiencies
    t_write_file("no-calibration.json", none, sizeof none - 1);
    slm_advise_space s = {.seq_len = 1024,
                          .worlds = {1, 8},
                          .n_worlds = 2,
                          .micros = {4, 8, 16, 32, 64},
                          .n_micros = 5,
                          .attns = {SLM_ATTN_FLASH},
                          .n_attns = 1,
                          .strategies = {SLM_STRATEGY_SINGLE, SLM_STRATEGY_DDP},
                          .n_strategies = 2};
    slm_preset("1b", &s.model, NULL);
    slm_predictor pr = predictor(&cat, "A100-40GB");

    // a measured record of 1b, ddp x8, flash, micro 8 on an A100-40GB, measured three times (slm sweep --rounds):
    // 123456 tokens/s, and once twice as fast and once half as fast
    slm_results res = {0};
    static slm_record meas[3];
    slm_run_config rc;
    slm_run_config_defaults(&rc);
    rc.model = s.model;
    rc.seq_len = 1024, rc.world_size = 8, rc.micro_batch = 8, rc.global_batch = 64;
    rc.strategy = SLM_STRATEGY_DDP, rc.attention = SLM_ATTN_FLASH;
    static const double speed[3] = {2, 1, 0.5};
    for (int i = 0; i < 3; i++) {
        slm_record_init(&meas[i], &rc, "measured");
        snprintf(meas[i].device, sizeof meas[i].device, "NVIDIA A100-SXM4-40GB");
        meas[i].tokens_per_s = 123456 * speed[i];
        meas[i].step_time_s = 64 * 1024 / meas[i].tokens_per_s;
    }
    res.recs = meas, res.n = 3;

    int n;
    slm_candidate *c = slm_advise_search(&s, &pr, 1, &res, &n);
    t_check(n == 10, "%d candidates: 5 micro batches single at 1 GPU and ddp at 8 (ddp at 1 and single at 8 skipped)",
            n);
    const slm_candidate *largest = NULL, *m8 = NULL;
    int n_oom = 0;
    for (int i = 0; i < n; i++) {
        n_oom += c[i].oom;
        if (c[i].rc.world_size == 8 && !c[i].oom && (!largest || c[i].rc.micro_batch > largest->rc.micro_batch))
            largest = &c[i];
        if (c[i].rc.world_size == 8 && c[i].rc.micro_batch == 8) m8 = &c[i];
    }
    char why[512] = "";
    if (largest) slm_advise_reason(largest, why, sizeof why);
    t_check(n_oom > 0 && largest && largest->micro_cap == 2 * largest->rc.micro_batch &&
                largest->cap_needs_bytes > 40e9 && strstr(why, "memory caps the micro batch"),
            "1b ddp x8 on 40 GB: %d out of memory; micro %d is the largest that fits: %s", n_oom,
            largest ? largest->rc.micro_batch : 0, why);
    t_check(m8 && m8->measured && m8->tokens_per_s == 123456 && m8->tokens_per_dollar > 0,
            "the measured records' median replaces its point (tokens/s %.0f of 246912, 123456, 61728; priced %.4g "
            "tokens/$)",
            m8 ? m8->tokens_per_s : 0, m8 ? m8->tokens_per_dollar : 0);
    t_check(strstr(why, "compute-bound") != NULL, "1b at 8 GPUs is compute-bound in the model");
    if (largest && m8) {
        slm_advise_compare(largest, m8, why, sizeof why);
        t_check(strstr(why, "micro batch") != NULL, "against a smaller batch: %s", why);
    }
    free(c);

    // the same space accumulating 2: the memory cap of every accumulating candidate is its accumulation-1 twin's
    s.accums[0] = 2, s.n_accums = 1;
    c = slm_advise_search(&s, &pr, 1, &res, &n);
    int n_twins = 0, n_same = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            if (slm_grad_accum(&c[i].rc) == 2 && slm_grad_accum(&c[j].rc) == 1 &&
                c[i].rc.world_size == c[j].rc.world_size && c[i].rc.micro_batch == c[j].rc.micro_batch) {
                n_twins++;
                n_same += c[i].oom == c[j].oom && c[i].micro_cap == c[j].micro_cap &&
                          c[i].cap_needs_bytes == c[j].cap_needs_bytes &&
                          c[i].pred.plan.peak_bytes == c[j].pred.plan.peak_bytes;
            }
    t_check(n == 20 && n_twins == 10 && n_same == 10,
            "accumulating 2 (no cap): %d candidates; all %d of %d twins have accumulation 1's memory, oom and cap", n,
            n_same, n_twins);
    free(c);

    accumulation_space(&cat);
    accumulation_wins(&cat);
    slm_hw_free(&cat);
    return t_finish("test_predict_advise");
}
