// cmd_predict.c — `slm predict`: the performance model (src/predict) for one
// configuration, given with the same flags as `slm bench` plus the device and
// the machines, or for every point of a grid file (--grid) in one process.
// Writes result records of the bench's schema, "source":"predicted".
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/bench_flags.h"
#include "cli/commands.h"
#include "cli/grid.h"
#include "core/err.h"
#include "measure/prices.h"
#include "predict/predictor.h"

enum { MAX_DEVICES = 16, PREDICT_FLAGS_MAX = SLM_BENCH_FLAGS_MAX + 12 };

typedef struct {
    const char *devices, *hardware, *calibration, *interconnect, *grid;
    int world_size, nodes, devices_per_node;
    int seen_world, seen_nodes, seen_per_node;  // given (0: the default otherwise)
} predict_options;

// The bench's table and predict's own flags.
static int predict_flags(slm_flag *flags, slm_run_config *rc, slm_run_flag_text *t, slm_bench_options *bo,
                         predict_options *po) {
    int n = slm_bench_flags(flags, rc, t, bo);
    flags[n++] =
        (slm_flag){"--device", FLAG_STR, &po->devices,
                   "device type(s) of the hardware file, comma-separated: A100-40GB|A100-80GB|H100-80GB|H200|cpu "
                   "[the grid's device_type, else cpu]"};
    flags[n++] = (slm_flag){"--world-size", FLAG_INT, &po->world_size, "devices (ranks) in all [1]", &po->seen_world};
    flags[n++] =
        (slm_flag){"--nodes", FLAG_INT, &po->nodes, "machines [as few as --devices-per-node allows]", &po->seen_nodes};
    flags[n++] = (slm_flag){"--devices-per-node", FLAG_INT, &po->devices_per_node,
                            "devices in one machine [the hardware file's: 8 for GPUs]", &po->seen_per_node};
    flags[n++] = (slm_flag){"--interconnect", FLAG_STR, &po->interconnect,
                            "link between nodes: ib-ndr|ib-hdr|ethernet-100g|ethernet-400g [the device's own]"};
    flags[n++] = (slm_flag){"--hardware", FLAG_STR, &po->hardware, "hardware catalog [data/hardware.json]"};
    flags[n++] = (slm_flag){"--calibration", FLAG_STR, &po->calibration,
                            "calibration file (slm calibrate) [the cache's calibration.json]"};
    flags[n++] =
        (slm_flag){"--grid", FLAG_STR, &po->grid, "predict every point of this grid file (as slm sweep runs it)"};
    return n;
}

// Resolves and validates rc as bench does, except the device: predict places
// any backend and dtype on the device it is asked about, so the backend's own
// rules (slm_backend_check) are not asked.
static int resolve(slm_run_config *rc, slm_run_flag_text *t, slm_bench_options *bo, slm_err *err) {
    if (slm_bench_resolve(rc, t, bo, err)) return -1;
    return slm_run_config_validate(rc, err);
}

static void print_summary(const slm_record *r, const slm_prediction *p) {
    const slm_run_config *rc = &r->run;
    slm_record_derived d;
    slm_record_derive(r, &d);
    const double gib = 1024.0 * 1024 * 1024;
    printf("predict %s: %s attention, %s x %d (%d node%s), micro batch %d, global batch %d, seq %d, %s on %s\n",
           rc->model.name, slm_attention_names[rc->attention], slm_strategy_names[rc->strategy], rc->world_size,
           r->nodes, r->nodes > 1 ? "s" : "", rc->micro_batch, rc->global_batch, rc->seq_len, slm_dtype_name(rc->dtype),
           r->device);
    printf("  basis         %s\n", r->basis);
    printf("  peak memory   %.2f GiB per device:", p->plan.peak_bytes / gib);
    for (int c = 0; c < SLM_MEM_NCAT; c++)
        if (r->mem_bytes[c]) printf(" %s %.2f", slm_mem_cat_names[c], r->mem_bytes[c] / gib);
    printf("\n");
    if (p->oom) {
        printf("  status        oom: %s\n", r->message);
        return;
    }
    printf(
        "  step time     %.4g s: compute %.4g s (attention %.0f%%), communication %.4g s (%.4g s exposed), "
        "optimizer %.4g s\n",
        p->step_s, p->compute_s, 100 * p->attention_s * slm_grad_accum(rc) / p->compute_s, p->comm_s, p->comm_exposed_s,
        p->optimizer_s);
    printf("  throughput    %.0f tokens/s (%.0f per device), MFU %.1f%%\n", r->tokens_per_s, d.tokens_per_s_per_device,
           100 * d.mfu);
    if (isfinite(r->price_per_device_hour))
        printf("  cost          $%.4g per device-hour: %.4g tokens/$, $%.4g per billion tokens\n",
               r->price_per_device_hour, d.tokens_per_dollar, d.dollars_per_billion_tokens);
}

// A count flag (0 when not given) must be positive when given.
static void check_count(const char *flag, int seen, int v) {
    if (v < 0 || (seen && v == 0)) slm_die(SLM_EXIT_USAGE, "%s must be positive (got %d)", flag, v);
}

// One predictor per device named in `list` (comma-separated).
static int make_predictors(const slm_hw_catalog *cat, const char *list, const predict_options *po, slm_predictor *pr) {
    char names[512];
    slm_flag_list_check("--device", list);
    snprintf(names, sizeof names, "%s", list);
    const slm_interconnect *ic = NULL;
    slm_err err;
    if (po->interconnect && !(ic = slm_hw_interconnect(cat, po->interconnect, &err)))
        slm_die(SLM_EXIT_USAGE, "%s", err.msg);
    check_count("--world-size", po->seen_world, po->world_size);
    check_count("--nodes", po->seen_nodes, po->nodes);
    check_count("--devices-per-node", po->seen_per_node, po->devices_per_node);
    int n = 0;
    for (char *s = strtok(names, ","); s; s = strtok(NULL, ",")) {
        const slm_hw *hw = slm_hw_find(cat, s);
        if (!hw) {
            char known[256];
            slm_hw_names(cat, known, sizeof known);
            slm_die(SLM_EXIT_USAGE, "--device %s is not in %s (it has %s)", s, cat->path, known);
        }
        if (n == MAX_DEVICES) slm_die(SLM_EXIT_USAGE, "--device: at most %d devices", MAX_DEVICES);
        if (slm_predictor_init(&pr[n], hw, po->calibration, &err)) slm_die(SLM_EXIT_USAGE, "%s", err.msg);
        pr[n].nodes = po->nodes;
        pr[n].devices_per_node = po->devices_per_node;
        pr[n].interconnect = ic;
        pr[n].prices_path = slm_prices_default_path();
        n++;
    }
    return n;
}

// predict's flag table and the values it parses into.
typedef struct {
    slm_run_config rc;
    slm_run_flag_text t;
    slm_bench_options bo;
    predict_options unused;  // predict's own flags: a grid point's are parsed, not read
    slm_flag flags[PREDICT_FLAGS_MAX];
} predict_table;

// Fills pt's flags, its values at their defaults; returns the count of flags.
static int reset_table(predict_table *pt) {
    slm_run_config_defaults(&pt->rc);
    return predict_flags(pt->flags, &pt->rc, &pt->t, &pt->bo, &pt->unused);
}

// The grid file, its keys and values checked against predict's flags.
static void load_grid(const char *path, slm_grid *g) {
    predict_table pt;
    int nf = reset_table(&pt);
    slm_err err;
    if (slm_grid_load(path, pt.flags, nf, g, &err)) slm_die(SLM_EXIT_USAGE, "%s", err.msg);
}

// The command line of the grid's point i (args: room for 2 * SLM_GRID_MAX_DIMS + 4), without its world size
// (*world) and device type; returns its count of args.
static int point_args(const slm_grid *g, int64_t i, char **args, int *world) {
    int choice[SLM_GRID_MAX_DIMS];
    slm_grid_point(g, i, choice);
    int n_args = 0;
    *world = 1;
    args[n_args++] = "predict";
    for (int d = 0; d < g->n_dims; d++) {
        const slm_grid_dim *dim = &g->dims[d];
        char *v = dim->values[choice[d]];
        if (!dim->flag[0]) {
            *world = atoi(v);
        } else if (v && strcmp(dim->key, "device_type")) {
            args[n_args++] = (char *)dim->flag;
            if (dim->kind != FLAG_BOOL) args[n_args++] = v;
        }
    }
    return n_args;
}

// The configuration of the grid's point i into pt->rc, resolved as bench resolves it; -1 when the point is skipped.
static int point_config(const slm_grid *g, int64_t i, predict_table *pt) {
    char *args[2 * SLM_GRID_MAX_DIMS + 4];
    int world;
    int n_args = point_args(g, i, args, &world);
    slm_run_config *rc = &pt->rc;
    int nf = reset_table(pt);
    slm_flags_parse(pt->flags, nf, n_args, args, "slm predict", "");
    rc->world_size = world;
    slm_err err;
    if (slm_bench_resolve(rc, &pt->t, &pt->bo, &err)) slm_die(SLM_EXIT_USAGE, "%s: %s", g->path, err.msg);
    if (!slm_grid_dim_of(g, "global_batch") && slm_global_batch_of(rc->micro_batch, world, &rc->global_batch, &err))
        slm_die(SLM_EXIT_USAGE, "%s: %s", g->path, err.msg);
    // as slm sweep: strategy single only at world_size 1, the others only above it (the
    // device's rules are not asked: the predictor places the point on the device it models)
    return (rc->strategy == SLM_STRATEGY_SINGLE) != (world == 1) || slm_run_config_validate(rc, &err) ? -1 : 0;
}

typedef struct {
    long ok, oom, skip;  // points predicted to fit, out of memory, skipped
} grid_counts;

// Every point of the grid on the device of pr, appended to out.
static void predict_points(const slm_grid *g, const slm_predictor *pr, const char *out, grid_counts *n) {
    predict_table pt;
    for (int64_t i = 0; i < g->n_points; i++) {
        if (point_config(g, i, &pt)) {
            n->skip++;
            continue;
        }
        slm_record rec;
        slm_prediction p;
        slm_err err;
        if (slm_predict_record(pr, &pt.rc, &rec, &p, &err)) slm_die(SLM_EXIT_USAGE, "%s", err.msg);
        if (slm_record_append(out, &rec, &err)) slm_die(SLM_EXIT_FAIL, "%s", err.msg);
        p.oom ? n->oom++ : n->ok++;
    }
}

// Every point of the grid on every device, appended to --out.
static int predict_grid(const slm_hw_catalog *cat, const predict_options *po, const char *out, const char *prices) {
    slm_grid g;
    load_grid(po->grid, &g);
    const slm_grid_dim *dt = slm_grid_dim_of(&g, "device_type");
    const char *devices = po->devices ? po->devices : dt && dt->n == 1 && dt->values[0] ? dt->values[0] : "cpu";
    static slm_predictor pr[MAX_DEVICES];
    int n_dev = make_predictors(cat, devices, po, pr);
    grid_counts n = {0};
    clock_t t0 = clock();
    for (int k = 0; k < n_dev; k++) {
        if (prices) pr[k].prices_path = prices;
        predict_points(&g, &pr[k], out, &n);
        printf("%s: %s\n", pr[k].hw->name, pr[k].basis);
    }
    printf(
        "predicted %ld points of %s on %d device type%s (%ld out of memory, %ld skipped: single needs "
        "world_size 1, the others more) in %.2f s; records appended to %s\n",
        n.ok + n.oom, g.path, n_dev, n_dev > 1 ? "s" : "", n.oom, n.skip, (double)(clock() - t0) / CLOCKS_PER_SEC, out);
    slm_grid_free(&g);
    return SLM_EXIT_OK;
}

int slm_cmd_predict(int argc, char **argv) {
    slm_run_config rc;
    slm_run_config_defaults(&rc);
    slm_run_flag_text t;
    slm_bench_options bo;
    predict_options po = {0};
    slm_flag flags[PREDICT_FLAGS_MAX];
    int n = predict_flags(flags, &rc, &t, &bo, &po);
    slm_flags_parse(
        flags, n, argc, argv, "slm predict [flags]   |   slm predict --grid GRID.json --out FILE [flags]",
        "Predicts a configuration from the performance model (docs/predict.md): step time, tokens/s,\n"
        "MFU, peak memory by category (status oom past the device's memory), communication time and\n"
        "tokens per dollar, on a device type of data/hardware.json, with the efficiencies `slm calibrate`\n"
        "fitted when there are any (else the datasheet's). GPUs are predicted in bf16 mixed precision,\n"
        "CPUs in fp32. Appends result records (\"source\":\"predicted\") to --out.\n"
        "examples: slm predict --model 1b --attention flash --strategy ddp --world-size 16 --micro-batch 16\n"
        "              --global-batch 256 --device A100-80GB\n"
        "          slm predict --grid data/grids/gpu-study.json --device A100-40GB,A100-80GB,H100-80GB --out p.jsonl");
    slm_err err;
    slm_hw_catalog cat;
    const char *hw_path = po.hardware ? po.hardware : slm_hw_default_path();
    if (!hw_path) slm_die(SLM_EXIT_USAGE, "no data/hardware.json here: give --hardware FILE");
    if (slm_hw_load(hw_path, &cat, &err)) slm_die(SLM_EXIT_USAGE, "%s", err.msg);
    if (po.grid) {
        if (!rc.out) slm_die(SLM_EXIT_USAGE, "--grid writes one record per point: give --out FILE");
        int code = predict_grid(&cat, &po, rc.out, bo.prices);
        slm_hw_free(&cat);
        return code;
    }
    rc.world_size = po.world_size ? po.world_size : 1;
    if (resolve(&rc, &t, &bo, &err)) slm_die(SLM_EXIT_USAGE, "%s", err.msg);
    slm_predictor pr[MAX_DEVICES];
    int n_dev = make_predictors(&cat, po.devices ? po.devices : "cpu", &po, pr);
    for (int k = 0; k < n_dev; k++) {
        if (bo.prices) pr[k].prices_path = bo.prices;
        slm_record rec;
        slm_prediction p;
        if (slm_predict_record(&pr[k], &rc, &rec, &p, &err)) slm_die(SLM_EXIT_USAGE, "%s", err.msg);
        if (bo.seen_price) {
            rec.price_per_device_hour = bo.price;
            snprintf(rec.price_source, sizeof rec.price_source, "--price %g", bo.price);
        }
        print_summary(&rec, &p);
        if (rc.out) {
            if (slm_record_append(rc.out, &rec, &err)) slm_die(SLM_EXIT_FAIL, "%s", err.msg);
            printf("  record        appended to %s\n", rc.out);
        }
    }
    slm_hw_free(&cat);
    return SLM_EXIT_OK;
}
