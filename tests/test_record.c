// test_record.c — the result record round-trips: a record with every field
// set is written, read back and written again to the same line; every field
// of docs/formats.md's table is in the line (prediction_basis aside: only a
// predicted record with a basis has it); unknown figures stay null; and a
// damaged line, or a results file holding one, is refused naming the field or
// line.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/record.h"
#include "measure/results.h"
#include "testutil.h"

static char *read_line(const char *path) {
    FILE *f = fopen(path, "r");
    static char line[1 << 14];
    line[0] = 0;
    if (f) {
        if (!fgets(line, sizeof line, f)) line[0] = 0;
        fclose(f);
    }
    return line;
}

static void full_record(slm_record *r) {
    slm_run_config rc;
    slm_run_config_defaults(&rc);
    slm_preset("tiny", &rc.model, NULL);
    rc.model.tie_embeddings = 1;
    snprintf(rc.model.name, sizeof rc.model.name, "custom");
    rc.seq_len = 200;
    rc.micro_batch = 3;
    rc.global_batch = 24;
    rc.world_size = 4;
    rc.attention = SLM_ATTN_FLASH;
    rc.strategy = SLM_STRATEGY_FSDP_GRAD_OP;
    rc.overlap = 0;
    rc.mem_limit = (size_t)3 << 30;
    slm_record_init(r, &rc, "predicted");
    r->status = "oom";
    snprintf(r->message, sizeof r->message, "a message with \"quotes\", a tab\tand unicode: \xc3\xa9");
    r->nodes = 2;
    snprintf(r->device, sizeof r->device, "Test CPU (4 threads)");
    r->step_time_s = 0.125;
    r->step_time_p10_s = 0.1;
    r->step_time_p90_s = 1.0 / 3.0;
    r->tokens_per_s = 38400.5;
    r->peak_flops_per_device = 1.5e11;
    r->peak_mem_bytes = 123456789;
    for (int c = 0; c < SLM_MEM_NCAT; c++) r->mem_bytes[c] = 1000u * (c + 1);
    r->comm_time_frac = 0.2;
    r->price_per_device_hour = 4.1;
    snprintf(r->price_source, sizeof r->price_source, "--price 4.1");
    r->train_tokens = 1 << 20;
    r->final_loss = 3.5;
    r->val_loss = 3.75;
    r->target_loss = 4.0;
    r->target_tokens = 1 << 19;
    snprintf(r->git_commit, sizeof r->git_commit, "abcdef123456");
    snprintf(r->date, sizeof r->date, "2026-01-02T03:04:05Z");
    snprintf(r->host, sizeof r->host, "testhost");
    snprintf(r->versions, sizeof r->versions, "slm test");
}

// A copy of line with the first occurrence of `from` replaced by `to`.
static const char *edit(const char *line, const char *from, const char *to) {
    static char out[1 << 14];
    const char *at = strstr(line, from);
    if (!at) return "";
    snprintf(out, sizeof out, "%.*s%s%s", (int)(at - line), line, to, at + strlen(from));
    return out;
}

// The hash of a configuration measured before RoPE scaling existed is what its
// record says (tests/fixtures/predict/cpu-calibration.jsonl, line 1); the same
// model with Llama 3.1 scaling hashes apart.
static void check_hash_pinned(void) {
    slm_run_config rc;
    slm_run_config_defaults(&rc);
    slm_preset("tiny", &rc.model, NULL);
    rc.seq_len = 128;
    rc.micro_batch = rc.global_batch = 2;
    rc.mem_limit = 314572800;
    char plain[17], scaled[17];
    slm_config_hash(&rc, plain);
    rc.model.rope_scaling = (slm_rope_scaling){8.0f, 1.0f, 4.0f, 8192};
    slm_config_hash(&rc, scaled);
    t_check(!strcmp(plain, "cf69b66020e9db9c") && strcmp(scaled, plain),
            "an older record's hash stands (%s, want cf69b66020e9db9c); RoPE scaling hashes apart (%s)", plain, scaled);
}

int main(void) {
    slm_err err;
    slm_record a, b;
    full_record(&a);
    const char *path = t_tmp_path("records.jsonl");
    remove(path);
    t_check(slm_record_append(path, &a, &err) == 0, "a record with every field set is appended");
    char first[1 << 14];
    snprintf(first, sizeof first, "%s", read_line(path));
    t_check(slm_record_parse(first, &b, &err) == 0, "it reads back (%s)",
            slm_record_parse(first, &b, &err) ? err.msg : "ok");

    t_check(!strcmp(b.source, "predicted") && !strcmp(b.status, "oom") && !strcmp(b.message, a.message),
            "source, status and message (quotes, tab, UTF-8) survive");
    t_check(!strcmp(b.run.model.name, "custom") && b.run.model.n_layers == a.run.model.n_layers &&
                b.run.model.d_model == a.run.model.d_model && b.run.model.n_heads == a.run.model.n_heads &&
                b.run.model.n_kv_heads == a.run.model.n_kv_heads && b.run.model.ffn_dim == a.run.model.ffn_dim &&
                b.run.model.vocab == a.run.model.vocab && b.run.model.tie_embeddings == 1,
            "model name and shape survive, the tied head inferred from params");
    t_check(b.run.seq_len == 200 && b.run.micro_batch == 3 && b.run.global_batch == 24 && b.run.world_size == 4 &&
                b.nodes == 2 && b.run.attention == SLM_ATTN_FLASH && b.run.strategy == SLM_STRATEGY_FSDP_GRAD_OP &&
                b.run.overlap == 0 && b.run.backend == SLM_BACKEND_CPU && b.run.dtype == SLM_F32 &&
                b.run.mem_limit == a.run.mem_limit,
            "batch, sequence, ranks, nodes, attention, strategy and overlap, backend, dtype, memory cap survive");
    int same_mem = b.peak_mem_bytes == a.peak_mem_bytes;
    for (int c = 0; c < SLM_MEM_NCAT; c++) same_mem = same_mem && b.mem_bytes[c] == a.mem_bytes[c];
    t_check(b.step_time_s == a.step_time_s && b.step_time_p10_s == a.step_time_p10_s &&
                b.step_time_p90_s == a.step_time_p90_s && b.tokens_per_s == a.tokens_per_s &&
                b.peak_flops_per_device == a.peak_flops_per_device && b.comm_time_frac == a.comm_time_frac && same_mem,
            "step times (bit for bit), throughput, peak FLOP/s, communication share, memory by category survive");
    t_check(b.price_per_device_hour == 4.1 && !strcmp(b.price_source, "--price 4.1") && b.train_tokens == 1 << 20 &&
                b.final_loss == 3.5 && b.val_loss == 3.75 && b.target_loss == 4.0 && b.target_tokens == 1 << 19,
            "price, its source, training tokens, losses, target and tokens to it survive");
    t_check(!strcmp(b.git_commit, "abcdef123456") && !strcmp(b.date, "2026-01-02T03:04:05Z") &&
                !strcmp(b.host, "testhost") && !strcmp(b.versions, "slm test"),
            "provenance (commit, date, host, versions) is kept, not replaced by the reader's");

    remove(path);
    slm_record_append(path, &b, &err);
    t_check(!strcmp(first, read_line(path)), "written again, the record is the same line, derived figures included");

    static const char *const schema_fields[] = {"schema",
                                                "source",
                                                "status",
                                                "message",
                                                "config_hash",
                                                "model",
                                                "params",
                                                "n_layers",
                                                "d_model",
                                                "n_heads",
                                                "n_kv_heads",
                                                "ffn_dim",
                                                "vocab",
                                                "seq_len",
                                                "micro_batch",
                                                "global_batch",
                                                "grad_accum",
                                                "attention",
                                                "strategy",
                                                "overlap",
                                                "world_size",
                                                "nodes",
                                                "backend",
                                                "device",
                                                "dtype",
                                                "mem_limit_bytes",
                                                "step_time_s",
                                                "step_time_p10_s",
                                                "step_time_p90_s",
                                                "tokens_per_s",
                                                "tokens_per_s_per_device",
                                                "flops_per_token",
                                                "peak_flops_per_device",
                                                "peak_flops_source",
                                                "mfu",
                                                "peak_mem_bytes",
                                                "mem_params_bytes",
                                                "mem_grads_bytes",
                                                "mem_optimizer_bytes",
                                                "mem_activations_bytes",
                                                "mem_attention_bytes",
                                                "mem_comm_bytes",
                                                "mem_workspace_bytes",
                                                "comm_time_frac",
                                                "price_per_device_hour",
                                                "price_source",
                                                "tokens_per_dollar",
                                                "dollars_per_billion_tokens",
                                                "train_tokens",
                                                "final_loss",
                                                "val_loss",
                                                "dollars_spent",
                                                "loss_per_dollar",
                                                "target_loss",
                                                "tokens_to_target_loss",
                                                "dollars_to_target_loss",
                                                "git_commit",
                                                "date",
                                                "host",
                                                "versions"};
    int n_fields = sizeof schema_fields / sizeof schema_fields[0], missing = 0;
    for (int i = 0; i < n_fields; i++) {
        char key[64];
        snprintf(key, sizeof key, "\"%s\":", schema_fields[i]);
        if (!strstr(first, key)) printf("     missing: %s\n", schema_fields[i]), missing++;
    }
    t_check(missing == 0, "all %d fields of docs/formats.md's record are in the line", n_fields);
    slm_record_derived d;
    slm_record_derive(&b, &d);
    t_check(fabs(d.tokens_per_dollar - 38400.5 * 3600 / (4.1 * 4)) < 1e-6 * d.tokens_per_dollar &&
                fabs(d.mfu - d.flops_per_token * 38400.5 / (4 * 1.5e11)) < 1e-12 &&
                fabs(d.dollars_to_target_loss - (1 << 19) / 38400.5 * 4.1 * 4 / 3600) < 1e-12,
            "tokens/$ = tokens/s x 3600 / (price x devices); MFU and dollars to the target from the same figures");

    // unknown figures: null in, NaN inside, null out
    slm_run_config rc;
    slm_run_config_defaults(&rc);
    slm_record u, v;
    slm_record_init(&u, &rc, "measured");
    u.status = "error";
    remove(path);
    slm_record_append(path, &u, &err);
    char nulls[1 << 14];
    snprintf(nulls, sizeof nulls, "%s", read_line(path));
    int parsed = slm_record_parse(nulls, &v, &err) == 0;
    t_check(parsed && isnan(v.step_time_s) && isnan(v.tokens_per_s) && isnan(v.comm_time_frac) &&
                isnan(v.price_per_device_hour) && v.peak_mem_bytes == 0 && v.train_tokens == 0 &&
                strstr(nulls, "\"tokens_per_dollar\":null") && strstr(nulls, "\"mfu\":null"),
            "a record of unknown figures reads back with them unknown, and derived ones null");

    // damaged lines: each refused with the field named
    struct {
        const char *from, *to, *expect;
    } bad[] = {
        {"\"status\":\"error\"", "\"status\":\"fine\"", "field \"status\" is 'fine' (expected ok|oom|error)"},
        {"\"status\":\"error\"", "\"status\":\"\\u001b[2J\"", "field \"status\" is '\\x1b[2J' (expected"},
        {"\"micro_batch\":8", "\"micro_batch\":\"8\"", "field \"micro_batch\" must be a number or null"},
        {"\"micro_batch\":8", "\"micro_batch\":2.5", "field \"micro_batch\" must be an integer"},
        {"\"attention\":\"vanilla\",", "", "field \"attention\" is missing"},
        {"\"schema\":1", "\"schema\":2", "schema 2 is not 1"},
        {"{", "[", "not valid JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *line = edit(nulls, bad[i].from, bad[i].to);
        int rejected = line[0] && slm_record_parse(line, &v, &err) != 0 && strstr(err.msg, bad[i].expect);
        t_check(rejected, "a line with %s instead of %s is refused: %s", bad[i].to[0] ? bad[i].to : "nothing",
                bad[i].from, rejected ? err.msg : "(accepted, or another message)");
    }

    // a results file with a bad third line: the read stops there, naming the line
    FILE *f = fopen(path, "w");
    fprintf(f, "%s%s%s", first, nulls, edit(nulls, "\"world_size\":1", "\"world_size\":0"));  // lines end in \n
    fclose(f);
    slm_results res = {0};
    int failed = slm_results_read(path, 0, &res, &err) != 0;
    char where[64];
    snprintf(where, sizeof where, "records.jsonl:3: not a result record: field \"world_size\"");
    t_check(failed && strstr(err.msg, where), "a results file with a bad line 3 is refused: %s", err.msg);
    slm_results_free(&res);
    t_check(slm_results_read(t_tmp_path("missing.jsonl"), 0, &res, &err) != 0 && strstr(err.msg, "cannot open"),
            "a missing results file is an error for report: %s", err.msg);
    t_check(slm_results_read(t_tmp_path("missing.jsonl"), SLM_RESULTS_MISSING_OK, &res, &err) == 0 && res.n == 0,
            "and an empty start for a sweep's first run");
    // --overlap off is its own configuration; a record written before the field reads as overlapped
    slm_run_config on = a.run, off = a.run;
    on.overlap = 1;
    off.overlap = 0;
    char h_on[17], h_off[17];
    slm_config_hash(&on, h_on);
    slm_config_hash(&off, h_off);
    char *old = strstr(first, "\"overlap\":false,");
    int stripped = old != NULL;
    if (old) memmove(old, old + strlen("\"overlap\":false,"), strlen(old + strlen("\"overlap\":false,")) + 1);
    slm_record c;
    int read_old = stripped && slm_record_parse(first, &c, &err) == 0;
    t_check(strcmp(h_on, h_off) && read_old && c.run.overlap == 1,
            "overlap off hashes apart (%s vs %s); a line without \"overlap\" reads as overlapped", h_off, h_on);
    check_hash_pinned();
    return t_finish("test_record");
}
