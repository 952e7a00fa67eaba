// test_predict_advise.c — the search behind `slm advise`: every valid point
// of a space is predicted (single only on one device, as sweep runs it); the
// largest micro batch that fits says memory capped it, with the next one's
// bytes; a measured record of the same configuration and device takes its
// point's place; the reasons name the dominant term.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "predict/advise.h"
#include "testutil.h"

int main(void) {
    slm_hw_catalog cat;
    slm_err err;
    if (slm_hw_load(t_source_path("data/hardware.json"), &cat, &err)) {
        t_check(0, "%s", err.msg);
        return t_finish("test_predict_advise");
    }
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
    slm_predictor pr;
    slm_predictor_init(&pr, slm_hw_find(&cat, "A100-40GB"), t_tmp_path("no-calibration.json"));
    pr.prices_path = t_source_path("data/prices.json");

    // a measured record of 1b, ddp x8, flash, micro 8 on an A100-40GB
    slm_results res = {0};
    static slm_record meas;
    slm_run_config rc;
    slm_run_config_defaults(&rc);
    rc.model = s.model;
    rc.seq_len = 1024, rc.world_size = 8, rc.micro_batch = 8, rc.global_batch = 64;
    rc.strategy = SLM_STRATEGY_DDP, rc.attention = SLM_ATTN_FLASH;
    slm_record_init(&meas, &rc, "measured");
    snprintf(meas.device, sizeof meas.device, "NVIDIA A100-SXM4-40GB");
    meas.tokens_per_s = 123456;
    meas.step_time_s = 64 * 1024 / 123456.0;
    res.recs = &meas, res.n = 1;

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
            "the measured record replaces its point (tokens/s %.0f, priced %.4g tokens/$)", m8 ? m8->tokens_per_s : 0,
            m8 ? m8->tokens_per_dollar : 0);
    t_check(strstr(why, "compute-bound") != NULL, "1b at 8 GPUs is compute-bound in the model");
    if (largest && m8) {
        slm_advise_compare(largest, m8, why, sizeof why);
        t_check(strstr(why, "micro batch") != NULL, "against a smaller batch: %s", why);
    }
    free(c);
    slm_hw_free(&cat);
    return t_finish("test_predict_advise");
}
