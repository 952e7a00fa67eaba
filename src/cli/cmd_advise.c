// cmd_advise.c — `slm advise`: the best configurations for a model by tokens
// per dollar and by time to N tokens, searched over the study's grid (device
// type × count × strategy × attention × micro batch × gradient accumulation)
// through the performance model, measured records taking their points' place
// where they exist; each with the runner-up and the reason. --table prints the
// best configuration by tokens per dollar for every model × device type ×
// device count.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/bench_flags.h"
#include "cli/commands.h"
#include "cli/grid.h"
#include "core/data_path.h"
#include "core/err.h"
#include "measure/prices.h"
#include "predict/advise.h"

enum { MAX_DEVICES = 8, MAX_MODELS = 8 };

typedef struct {
    const char *model, *device, *devices, *accums, *grid, *results, *hardware, *calibration, *prices, *interconnect;
    int64_t tokens, max_global_tokens;
    float budget_usd, target_loss;
    int seen_budget, seen_target, seen_accums, seq_len, global_batch, top, table;
    int seen_tokens, seen_seq_len, seen_global;  // given (0: the default otherwise)
} advise_options;

static int parse_list(const char *flag, const char *text, int *out, int max) {
    slm_flag_list_check(flag, text);
    char buf[256];
    snprintf(buf, sizeof buf, "%s", text);
    int n = 0;
    for (char *s = strtok(buf, ","); s; s = strtok(NULL, ",")) {
        char *end;
        long v = strtol(s, &end, 10);
        if (*end || v < 1 || v > 1 << 20 || n == max)
            slm_die(SLM_EXIT_USAGE, "%s: '%s' is not a list of at most %d positive integers", flag, text, max);
        out[n++] = (int)v;
    }
    return n;
}

// The grid's dimensions (models, attention, strategy, world size, micro batch, sequence length) into the space.
static int load_space(const char *path, slm_advise_space *s, char models[][32]) {
    slm_run_config rc;
    slm_run_flag_text t;
    slm_bench_options bo;
    slm_flag flags[SLM_BENCH_FLAGS_MAX];
    slm_run_config_defaults(&rc);
    int nf = slm_bench_flags(flags, &rc, &t, &bo);
    slm_grid g;
    slm_err err;
    if (slm_grid_load(path, flags, nf, &g, &err)) slm_die(SLM_EXIT_USAGE, "%s", err.msg);
    memset(s, 0, sizeof *s);
    s->seq_len = 1024;
    int n_models = 0;
    for (int d = 0; d < g.n_dims; d++) {
        const slm_grid_dim *dim = &g.dims[d];
        for (int i = 0; i < dim->n && dim->values[i]; i++) {
            const char *v = dim->values[i];
            if (!strcmp(dim->key, "model") && n_models < MAX_MODELS) snprintf(models[n_models++], 32, "%s", v);
            if (!strcmp(dim->key, "world_size") && s->n_worlds < SLM_ADVISE_MAX_DIM) s->worlds[s->n_worlds++] = atoi(v);
            if (!strcmp(dim->key, "micro_batch") && s->n_micros < SLM_ADVISE_MAX_DIM)
                s->micros[s->n_micros++] = atoi(v);
            if (!strcmp(dim->key, "seq_len")) s->seq_len = atoi(v);
            if (!strcmp(dim->key, "attention"))
                s->attns[s->n_attns++] = !strcmp(v, "flash") ? SLM_ATTN_FLASH : SLM_ATTN_VANILLA;
            if (!strcmp(dim->key, "strategy"))
                for (int k = 0; k < 4; k++)
                    if (!strcmp(v, slm_strategy_names[k])) s->strategies[s->n_strategies++] = (slm_strategy_kind)k;
        }
    }
    slm_grid_free(&g);
    if (!s->n_worlds || !s->n_micros || !s->n_attns || !s->n_strategies)
        slm_die(SLM_EXIT_USAGE, "%s: a grid for advise needs world_size, micro_batch, attention and strategy", path);
    return n_models;
}

static int by_tokens_per_dollar(const void *a, const void *b) {
    const slm_candidate *x = a, *y = b;
    double u = isfinite(x->tokens_per_dollar) ? x->tokens_per_dollar : -1,
           v = isfinite(y->tokens_per_dollar) ? y->tokens_per_dollar : -1;
    return (u < v) - (u > v);
}

static int by_tokens_per_s(const void *a, const void *b) {
    const slm_candidate *x = a, *y = b;
    return (x->tokens_per_s < y->tokens_per_s) - (x->tokens_per_s > y->tokens_per_s);
}

static void print_ranking(const char *title, slm_candidate *c, int n, int top, double tokens, double budget) {
    printf("\n%s\n  %-3s %-74s %10s %10s %9s %9s  %s\n", title, "#", "configuration", "tokens/s", "tokens/$", "hours",
           "dollars", "source");
    int shown = 0, first = -1, second = -1;
    for (int i = 0; i < n && shown < top; i++) {
        if (c[i].oom) continue;
        double hours = tokens / c[i].tokens_per_s / 3600, dollars = tokens / c[i].tokens_per_dollar;
        if (budget > 0 && !(dollars <= budget)) continue;
        char what[160], why[1024];
        slm_candidate_describe(&c[i], what, sizeof what);
        slm_advise_reason(&c[i], why, sizeof why);
        printf("  %-3d %-74s %10.4g %10.4g %9.3g %9.4g  %s\n      why: %s\n", shown + 1, what, c[i].tokens_per_s,
               c[i].tokens_per_dollar, hours, dollars, c[i].measured ? "measured" : "predicted", why);
        if (first < 0)
            first = i;
        else if (second < 0)
            second = i;
        shown++;
    }
    if (!shown) printf("  nothing fits%s\n", budget > 0 ? " within the budget" : "");
    if (second >= 0) {
        char why[1024];
        slm_advise_compare(&c[first], &c[second], why, sizeof why);
        printf("  #1 over the runner-up: %s\n", why);
    }
}

// The best configuration by tokens per dollar for every device type × device count, one markdown row each.
static void print_table(const char *model, slm_candidate *c, int n, const slm_predictor *pr, int n_pr,
                        const slm_advise_space *s) {
    qsort(c, (size_t)n, sizeof *c, by_tokens_per_dollar);
    for (int p = 0; p < n_pr; p++)
        for (int w = 0; w < s->n_worlds; w++) {
            const slm_candidate *best = NULL;
            for (int i = 0; i < n && !best; i++)
                if (c[i].pr == &pr[p] && c[i].rc.world_size == s->worlds[w] && !c[i].oom) best = &c[i];
            if (!best) {
                printf("| %s | %s | %d | out of memory | | | | | | | |\n", model, pr[p].hw->name, s->worlds[w]);
                continue;
            }
            slm_record_derived d;
            slm_record_derive(&best->rec, &d);
            const slm_run_config *rc = &best->rc;
            printf("| %s | %s | %d | %s | %s | %d | %d | %d | %.4g | %.4g | %.1f%% |%s\n", model, pr[p].hw->name,
                   s->worlds[w], slm_strategy_names[rc->strategy], slm_attention_names[rc->attention], rc->micro_batch,
                   slm_grad_accum(rc), rc->global_batch, best->tokens_per_s, best->tokens_per_dollar, 100 * d.mfu,
                   best->measured ? " measured" : "");
        }
}

// Tokens to reach the target loss: the fewest any measured record of the model needed.
static double tokens_to_loss(const slm_results *res, const slm_model_config *m, double target) {
    double best = NAN;
    for (int i = 0; res && i < res->n; i++) {
        const slm_record *r = &res->recs[i];
        if (!r->target_tokens || !(r->target_loss <= target + 1e-9) || r->run.model.n_layers != m->n_layers ||
            r->run.model.d_model != m->d_model)
            continue;
        if (!(best <= r->target_tokens)) best = (double)r->target_tokens;
    }
    return best;
}

// The flags into o, checked.
static void parse_options(int argc, char **argv, advise_options *o) {
    *o = (advise_options){
        .device = "A100-40GB,A100-80GB,H100-80GB",
        .accums = "1,2,4,8",
        .max_global_tokens = 1 << 20,
        .top = 3,
    };
    slm_flag flags[] = {
        {"--model", FLAG_STR, &o->model,
         "100m|500m|1b|2b or a JSON model file [every model of the grid, with --table]"},
        {"--tokens", FLAG_I64, &o->tokens, "tokens to train on [20 x the parameters]", &o->seen_tokens},
        {"--budget-usd", FLAG_FLOAT, &o->budget_usd, "only configurations whose tokens cost at most this",
         &o->seen_budget},
        {"--target-loss", FLAG_FLOAT, &o->target_loss,
         "tokens = what measured records of the model needed to reach this validation loss", &o->seen_target},
        {"--device", FLAG_STR, &o->device, "device types, comma-separated [A100-40GB,A100-80GB,H100-80GB]"},
        {"--devices", FLAG_STR, &o->devices, "device counts, comma-separated [the grid's world_size: 1..64]"},
        {"--seq-len", FLAG_INT, &o->seq_len, "tokens per sequence [the grid's]", &o->seen_seq_len},
        {"--accum", FLAG_STR, &o->accums, "gradient-accumulation counts searched, comma-separated [1,2,4,8]",
         &o->seen_accums},
        {"--max-global-tokens", FLAG_I64, &o->max_global_tokens,
         "accumulation > 1 only while global batch x seq-len <= this [1048576 = 2^20, why above]"},
        {"--global-batch", FLAG_INT, &o->global_batch,
         "fixed global batch: accumulation = this / (micro x devices), not searched [micro x devices x accum]",
         &o->seen_global},
        {"--grid", FLAG_STR, &o->grid, "the space searched [data/grids/gpu-study.json]"},
        {"--results", FLAG_STR, &o->results, "measured records (comma-separated files) that replace predictions"},
        {"--top", FLAG_INT, &o->top, "configurations shown per objective [3]"},
        {"--table", FLAG_BOOL, &o->table,
         "markdown table: best by tokens/$ per model x device type x count (its accum, global batch)"},
        {"--interconnect", FLAG_STR, &o->interconnect,
         "link between nodes: ib-ndr|ib-hdr|ethernet-100g|ethernet-400g [each device's own]"},
        {"--hardware", FLAG_STR, &o->hardware, "hardware catalog [data/hardware.json]"},
        {"--calibration", FLAG_STR, &o->calibration, "calibration file [the cache's calibration.json]"},
        {"--prices", FLAG_STR, &o->prices, "prices file [data/prices.json]"},
    };
    slm_flags_parse(
        flags, sizeof flags / sizeof flags[0], argc, argv, "slm advise --model M [flags]",
        "Searches the grid (device type x count x strategy x attention x micro batch x gradient\n"
        "accumulation) through slm predict, and measured records where they exist, and prints the best\n"
        "configurations by tokens per dollar and by time to N tokens, each with why it wins and what it\n"
        "beats the runner-up by. The global batch is micro x devices x accumulation; accumulation 1 (the\n"
        "study's points) is always searched, more only up to --max-global-tokens. Its default, 2^20 tokens,\n"
        "is GPT-3's (Brown et al. 2020, Table 2.1: 0.5M tokens for 125M-760M models, 1M for 1.3B-2.7B,\n"
        "the range of this study); a larger batch trains with fewer optimizer steps per token and needs its\n"
        "own convergence check.\n"
        "examples: slm advise --model 1b --tokens 20000000000\n"
        "          slm advise --model 100m --budget-usd 500 --device A100-40GB,H100-80GB --devices 8,16\n"
        "          slm advise --table > table.md\n"
        "          slm advise --table --accum 1      # the study's points only: global batch micro x devices");
    if (!o->model && !o->table) slm_die(SLM_EXIT_USAGE, "--model is required (or --table for every model of the grid)");
    if (o->tokens < 0 || (o->seen_budget && !(o->budget_usd > 0)) || o->top < 1 || o->seq_len < 0 ||
        o->global_batch < 0 || o->max_global_tokens < 1 || (o->seen_tokens && !o->tokens) ||
        (o->seen_seq_len && !o->seq_len) || (o->seen_global && !o->global_batch))
        slm_die(SLM_EXIT_USAGE,
                "--tokens, --budget-usd, --top, --seq-len, --global-batch and --max-global-tokens must be positive");
    if (o->seen_accums && o->global_batch)
        slm_die(SLM_EXIT_USAGE, "--accum and --global-batch: give one (a fixed global batch sets the accumulation)");
}

// The hardware catalog (--hardware, else data/hardware.json) and the --interconnect link of it, NULL for each
// device's own; returns the catalog's path.
static const char *load_hardware(const advise_options *o, slm_hw_catalog *cat, const slm_interconnect **ic) {
    slm_err err;
    const char *hw_path = o->hardware ? o->hardware : slm_hw_default_path();
    if (!hw_path) slm_die(SLM_EXIT_USAGE, "no data/hardware.json here: give --hardware FILE");
    if (slm_hw_load(hw_path, cat, &err)) slm_die(SLM_EXIT_USAGE, "%s", err.msg);
    *ic = NULL;
    if (o->interconnect && !(*ic = slm_hw_interconnect(cat, o->interconnect, &err)))
        slm_die(SLM_EXIT_USAGE, "%s", err.msg);
    return hw_path;
}

// The space searched, the grid's with the flags' changes, and its models (--model, else the grid's); returns how
// many models.
static int make_space(const advise_options *o, slm_advise_space *space, char models[][32]) {
    int n_models = load_space(o->grid, space, models);
    if (o->devices) space->n_worlds = parse_list("--devices", o->devices, space->worlds, SLM_ADVISE_MAX_DIM);
    if (o->seq_len) space->seq_len = o->seq_len;
    space->global_batch = o->global_batch;
    space->n_accums = parse_list("--accum", o->accums, space->accums, SLM_ADVISE_MAX_DIM);
    space->max_global_tokens = o->max_global_tokens;
    for (int i = 0; i < space->n_accums; i++)
        for (int j = 0; j < i; j++)
            if (space->accums[i] == space->accums[j])
                slm_die(SLM_EXIT_USAGE, "--accum %s: %d appears twice (expected distinct counts)", o->accums,
                        space->accums[i]);
    if (o->model) snprintf(models[0], sizeof models[0], "%s", o->model), n_models = 1;
    return n_models;
}

// A predictor per --device type, with the link between nodes and the prices (which must price each device: a
// configuration without a price has no tokens per dollar to rank); returns how many.
static int make_predictors(const advise_options *o, const slm_hw_catalog *cat, const char *hw_path,
                           const slm_interconnect *ic, const char *prices, slm_predictor *pr) {
    int n_pr = 0;
    char names[256];
    slm_flag_list_check("--device", o->device);
    snprintf(names, sizeof names, "%s", o->device);
    for (char *s = strtok(names, ","); s; s = strtok(NULL, ",")) {
        const slm_hw *hw = slm_hw_find(cat, s);
        if (!hw) slm_die(SLM_EXIT_USAGE, "--device %s is not in %s", s, hw_path);
        if (n_pr == MAX_DEVICES) slm_die(SLM_EXIT_USAGE, "--device: at most %d types", MAX_DEVICES);
        slm_price price;
        slm_err err;
        if (slm_price_lookup(prices, hw->price, 1, &price, &err) ||
            slm_predictor_init(&pr[n_pr], hw, o->calibration, &err))
            slm_die(SLM_EXIT_USAGE, "%s", err.msg);
        pr[n_pr].interconnect = ic;
        pr[n_pr++].prices_path = prices;
    }
    return n_pr;
}

// The records of the comma-separated results files, appended to res.
static void read_results(const char *list, slm_results *res) {
    slm_err err;
    char files[1024];
    snprintf(files, sizeof files, "%s", list);
    for (char *f = strtok(files, ","); f; f = strtok(NULL, ","))
        if (slm_results_read(f, 0, res, &err)) slm_die(SLM_EXIT_FAIL, "%s", err.msg);
}

// The model into the space, resolved as bench resolves --model, long enough for the space's sequence length.
static void set_model(slm_advise_space *space, const char *model) {
    slm_run_config rc;
    slm_run_flag_text t;
    slm_err err;
    slm_run_config_defaults(&rc);
    memset(&t, 0, sizeof t);
    t.model = model, t.attention = "vanilla", t.strategy = "single", t.overlap = "on";
    t.seed = 1;
    if (slm_run_flags_resolve(&rc, &t, &err)) slm_die(SLM_EXIT_USAGE, "%s", err.msg);
    space->model = rc.model;
    if (space->seq_len > space->model.seq_len) space->model.seq_len = space->seq_len;
}

// Tokens to train on: --tokens, else 20 x the parameters, or with --target-loss what measured records needed;
// why says which.
static double tokens_to_train(const advise_options *o, const slm_results *res, const char *model,
                              const slm_model_config *m, const char **why) {
    double params = (double)slm_param_count(m), tokens = o->tokens ? (double)o->tokens : 20 * params;
    *why = o->tokens ? "--tokens" : "20 x parameters";
    if (o->seen_target) {
        tokens = tokens_to_loss(res, m, o->target_loss);
        if (!isfinite(tokens))
            slm_die(SLM_EXIT_USAGE,
                    "--target-loss %g: no measured record of %s reached it (give --results with loss runs: slm "
                    "bench --train-tokens N --target-loss L), or give --tokens",
                    o->target_loss, model);
        *why = "measured to reach the target loss";
    }
    return tokens;
}

// What the advice is for: the model, the tokens, the sequence, the global batch, the configurations searched,
// each device type's basis and link between nodes, the budget.
static void print_search(const advise_options *o, const char *model, const slm_advise_space *space, double tokens,
                         const char *tokens_why, const slm_candidate *c, int n, const slm_predictor *pr, int n_pr,
                         const slm_interconnect *ic) {
    double params = (double)slm_param_count(&space->model);
    int n_oom = 0;
    for (int i = 0; i < n; i++) n_oom += c[i].oom;
    char global[160];
    if (o->global_batch)
        snprintf(global, sizeof global, "global batch %d", o->global_batch);
    else
        snprintf(global, sizeof global,
                 "global batch micro x devices x accumulation %s (past 1 only up to %lld tokens)", o->accums,
                 (long long)o->max_global_tokens);
    printf("advise %s (%.3g parameters): %.3g tokens (%s), sequence %d, %s; %d configurations, %d out of memory\n",
           model, params, tokens, tokens_why, space->seq_len, global, n, n_oom);
    for (int p = 0; p < n_pr; p++)
        printf("  %s: %s; between nodes %s\n", pr[p].hw->name, pr[p].basis,
               ic ? ic->name : "the device's own link (data/hardware.json)");
    if (o->seen_budget)
        printf("  budget $%g: only configurations whose %.3g tokens cost at most that\n", o->budget_usd, tokens);
}

// The advice for one model: what it is for, then the best configurations by tokens per dollar and by time.
static void advise_model(const advise_options *o, const char *model, const slm_advise_space *space, slm_candidate *c,
                         int n, const slm_predictor *pr, int n_pr, const slm_interconnect *ic, const slm_results *res) {
    const char *tokens_why;
    double tokens = tokens_to_train(o, res, model, &space->model, &tokens_why);
    print_search(o, model, space, tokens, tokens_why, c, n, pr, n_pr, ic);
    char title[128];
    qsort(c, (size_t)n, sizeof *c, by_tokens_per_dollar);
    print_ranking("best by tokens per dollar", c, n, o->top, tokens, o->seen_budget ? o->budget_usd : 0);
    qsort(c, (size_t)n, sizeof *c, by_tokens_per_s);
    snprintf(title, sizeof title, "best by time to %.3g tokens", tokens);
    print_ranking(title, c, n, o->top, tokens, o->seen_budget ? o->budget_usd : 0);
}

int slm_cmd_advise(int argc, char **argv) {
    advise_options o;
    parse_options(argc, argv, &o);
    slm_hw_catalog cat;
    const slm_interconnect *ic;
    const char *hw_path = load_hardware(&o, &cat, &ic);
    const char *prices = o.prices ? o.prices : slm_prices_default_path();
    if (!prices) slm_die(SLM_EXIT_USAGE, "no data/prices.json here: give --prices FILE");

    char grid[4096];
    if (!o.grid && !(o.grid = slm_data_path("grids/gpu-study.json", grid, sizeof grid)))
        slm_die(SLM_EXIT_USAGE, "no data/grids/gpu-study.json here: give --grid FILE");

    slm_advise_space space;
    char models[MAX_MODELS][32];
    int n_models = make_space(&o, &space, models);
    slm_predictor pr[MAX_DEVICES];
    int n_pr = make_predictors(&o, &cat, hw_path, ic, prices, pr);
    slm_results res = {0};
    if (o.results) read_results(o.results, &res);
    if (o.table)
        printf(
            "| model | device | devices | strategy | attention | micro batch | accum | global batch | tokens/s | "
            "tokens/$ | MFU |\n"
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for (int mi = 0; mi < n_models; mi++) {
        set_model(&space, models[mi]);
        int n;
        slm_candidate *c = slm_advise_search(&space, pr, n_pr, o.results ? &res : NULL, &n);
        if (o.table)
            print_table(models[mi], c, n, pr, n_pr, &space);
        else
            advise_model(&o, models[mi], &space, c, n, pr, n_pr, ic, &res);
        free(c);
    }
    slm_results_free(&res);
    slm_hw_free(&cat);
    return SLM_EXIT_OK;
}
