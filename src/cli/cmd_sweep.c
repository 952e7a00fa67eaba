// cmd_sweep.c — `slm sweep GRID.json`: every point of a grid (grid.h) runs as
// its own `slm bench` process (under `mpirun -np W` for W ranks) with a
// timeout, so an OOM or a crash is a data point. Each point's record goes to
// a file of its own first, then is appended to the results file in one
// write: a point is in the results once or not at all. Points whose config
// hash is already there are skipped, so a sweep killed at any moment and
// started again repeats nothing and loses only the point it was running; a
// record file that survived it is appended then, unless the results file holds
// its line already (killed between the append and the file's removal).
// --rounds N measures every point N times, a round through the whole grid
// at a time: a slow spell of a shared machine (minutes, up to 2x on the
// build machine) then falls on one measurement of many points rather than
// on every measurement of one; readers take the median of a configuration's
// records (slm_calibration_select).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/bench_flags.h"
#include "cli/commands.h"
#include "cli/grid.h"
#include "core/clock.h"
#include "core/jsonl.h"
#include "core/progress.h"
#include "core/record.h"
#include "measure/process.h"
#include "measure/results.h"

enum { MAX_ARGS = 2 * SLM_GRID_MAX_DIMS + 4, MAX_MPIRUN_ARGS = 16, MAX_LOG_DIR = 4200 };

typedef struct {
    char hash[17];
    char desc[256];  // the values of the dimensions that vary
    int world_size;
    int n_args;
    char *args[MAX_ARGS];  // bench's flags and values (the grid's strings, and the global batch)
    char global_batch[16];
    slm_run_config rc;  // resolved as the bench will resolve it
    char error[512];    // the configuration cannot run: recorded without a process
    int state;          // PENDING, DONE, SKIP, REPEAT
    int have;           // its records already in the results file
} point;

enum { PENDING, DONE, SKIP, REPEAT };

// The grid's line for an error about one of its flags (the message names the flag).
static int line_of_error(const slm_grid *g, const char *msg) {
    for (int d = 0; d < g->n_dims; d++)
        if (g->dims[d].flag[0] && strstr(msg, g->dims[d].flag)) return g->dims[d].line;
    return 0;
}

// Builds point i: its bench arguments, its configuration as bench resolves it, its hash.
static void make_point(const slm_grid *g, int64_t i, point *p) {
    int choice[SLM_GRID_MAX_DIMS];
    slm_grid_point(g, i, choice);
    memset(p, 0, sizeof *p);
    p->world_size = 1;
    p->args[p->n_args++] = "bench";
    for (int d = 0; d < g->n_dims; d++) {
        const slm_grid_dim *dim = &g->dims[d];
        char *v = dim->values[choice[d]];
        if (dim->n > 1)
            snprintf(p->desc + strlen(p->desc), sizeof p->desc - strlen(p->desc), "%s%s=%s", p->desc[0] ? " " : "",
                     dim->key, v ? (v[0] ? v : "true") : "null");
        if (!dim->flag[0]) {
            p->world_size = atoi(v);
        } else if (v) {
            p->args[p->n_args++] = (char *)dim->flag;
            if (dim->kind != FLAG_BOOL) p->args[p->n_args++] = v;
        }
    }
    if (!p->desc[0]) snprintf(p->desc, sizeof p->desc, "the grid's only point");

    slm_bench_options opt;
    slm_run_flag_text text;
    slm_flag flags[SLM_BENCH_FLAGS_MAX];
    slm_run_config_defaults(&p->rc);
    int n = slm_bench_flags(flags, &p->rc, &text, &opt);
    p->rc.world_size = p->world_size;
    slm_flags_parse(flags, n, p->n_args, p->args, "slm bench", "");
    slm_err err;
    if (slm_bench_resolve(&p->rc, &text, &opt, &err)) {
        int line = line_of_error(g, err.msg);
        slm_die(SLM_EXIT_USAGE, "%s:%d: %s (point %s)", g->path, line, err.msg, p->desc);
    }
    if (!slm_grid_dim_of(g, "global_batch")) {  // no accumulation: micro batch x ranks
        if (slm_global_batch_of(p->rc.micro_batch, p->world_size, &p->rc.global_batch, &err))
            slm_die(SLM_EXIT_USAGE, "%s:%d: %s (point %s)", g->path, line_of_error(g, err.msg), err.msg, p->desc);
        snprintf(p->global_batch, sizeof p->global_batch, "%d", p->rc.global_batch);
        p->args[p->n_args++] = "--global-batch";
        p->args[p->n_args++] = p->global_batch;
    }
    if ((p->rc.strategy == SLM_STRATEGY_SINGLE) != (p->world_size == 1)) p->state = SKIP;
    if (slm_run_flags_validate(&p->rc, &err)) snprintf(p->error, sizeof p->error, "%s", err.msg);
    slm_config_hash(&p->rc, p->hash);
}

typedef struct {
    char hash[17];
    int ok;  // status ok: an oom or an error is not measured again in a later round
} done_record;

static int cmp_done(const void *a, const void *b) {
    return strcmp(((const done_record *)a)->hash, ((const done_record *)b)->hash);
}

// The records already in the results file, sorted by hash. A torn last line
// (a write cut short) is cut off when `repair` (a sweep that appends), else skipped (--dry-run).
static done_record *done_records(const char *path, int repair, int *n) {
    slm_results res = {0};
    slm_err err;
    if (slm_results_read(path, SLM_RESULTS_MISSING_OK | (repair ? SLM_RESULTS_REPAIR : 0), &res, &err))
        slm_die(SLM_EXIT_FAIL, "%s", err.msg);
    done_record *d = slm_xcalloc((size_t)res.n + 1, sizeof *d);
    for (int i = 0; i < res.n; i++) {
        snprintf(d[i].hash, sizeof d[i].hash, "%s", res.recs[i].config_hash);
        d[i].ok = !strcmp(res.recs[i].status, "ok");
    }
    *n = res.n;
    slm_results_free(&res);
    qsort(d, (size_t)*n, sizeof *d, cmp_done);
    return d;
}

// How many of the point's measurements are done: its records, or every round when one did not end ok.
static int count_done(const done_record *d, int n, const char *hash, int rounds) {
    done_record key;
    snprintf(key.hash, sizeof key.hash, "%s", hash);
    const done_record *at = bsearch(&key, d, (size_t)n, sizeof *d, cmp_done);
    if (!at) return 0;
    const done_record *lo = at, *hi = at;
    while (lo > d && !strcmp(lo[-1].hash, hash)) lo--;
    while (hi + 1 < d + n && !strcmp(hi[1].hash, hash)) hi++;
    for (const done_record *x = lo; x <= hi; x++)
        if (!x->ok) return rounds;
    return (int)(hi - lo) + 1;
}

// The point's record from its own file: 1 when the bench wrote one for this
// point; 0 when none; -1 when the record is not this point's (why says how).
static int take_record(const char *path, const char *hash, char **line_out, char *why, size_t cap_why) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char *line = NULL;
    size_t cap = 0;
    slm_record rec;
    slm_err err;
    int ret = getline(&line, &cap, f) > 0 ? 1 : 0;
    fclose(f);
    if (ret && slm_record_parse(line, &rec, &err)) {
        snprintf(why, cap_why, "the bench's record is damaged: %s", err.msg);
        ret = -1;
    } else if (ret && strcmp(rec.config_hash, hash)) {
        snprintf(why, cap_why, "the bench recorded config hash %s (world size %d), not the point's %s",
                 slm_quote(rec.config_hash).text, rec.run.world_size, hash);
        ret = -1;
    }
    if (ret == 1)
        *line_out = line;
    else
        free(line);
    return ret;
}

// The record a killed sweep left in the point's record file (1, into *line),
// unless the results file holds it already: the sweep was killed after its
// append and before the file's removal, and the round it measured is counted.
static int surviving_record(const char *rec_path, const point *p, const char *out, char **line) {
    char why[4800];
    if (take_record(rec_path, p->hash, line, why, sizeof why) != 1) return 0;
    slm_err err;
    int held = slm_results_holds(out, *line, &err);
    if (held < 0) slm_die(SLM_EXIT_FAIL, "%s", err.msg);
    if (held) {
        free(*line);
        *line = NULL;
    }
    return !held;
}

// The last line of the log that starts with "slm: " (the bench's one-line error), or "".
static void last_error_line(const char *log_path, char *out, size_t cap) {
    FILE *f = fopen(log_path, "r");
    out[0] = 0;
    if (!f) return;
    char line[600];
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "slm: ", 5)) {
            line[strcspn(line, "\n")] = 0;
            snprintf(out, cap, "%s", line + 5);
        }
    fclose(f);
}

static void append_error(const char *out, const point *p, const char *message) {
    slm_record rec;
    slm_record_init(&rec, &p->rc, "measured");
    rec.status = "error";
    snprintf(rec.message, sizeof rec.message, "%.*s", (int)sizeof rec.message - 1, message);
    slm_err err;
    if (slm_record_append(out, &rec, &err)) slm_die(SLM_EXIT_FAIL, "%s", err.msg);
}

// The bench's command line for the point (under mpirun for more than one rank), writing its record to rec_path;
// np holds the rank count.
static void bench_argv(const point *p, const char *self, char *const *mpirun_args, char *rec_path, char *np,
                       size_t np_cap, char **argv) {
    int n = 0;
    if (p->world_size > 1) {
        snprintf(np, np_cap, "%d", p->world_size);
        argv[n++] = "mpirun";
        argv[n++] = "-np";
        argv[n++] = np;
        argv[n++] = "--oversubscribe";
        if (getuid() == 0) argv[n++] = "--allow-run-as-root";
        for (int i = 0; mpirun_args[i]; i++) argv[n++] = mpirun_args[i];
    }
    argv[n++] = (char *)self;
    for (int i = 0; i < p->n_args; i++) argv[n++] = p->args[i];
    argv[n++] = "--out";
    argv[n++] = rec_path;
    argv[n] = NULL;
}

// Runs the point's bench with its output in log_path, ranks splitting the cores, ended past timeout_s.
static void run_bench(const point *p, const char *self, char *const *mpirun_args, char *rec_path, const char *log_path,
                      double timeout_s, slm_proc_outcome *o) {
    char np[16], threads[24];
    char *argv[MAX_ARGS + MAX_MPIRUN_ARGS + 12];
    bench_argv(p, self, mpirun_args, rec_path, np, sizeof np, argv);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    snprintf(threads, sizeof threads, "%ld", cores / p->world_size > 0 ? cores / p->world_size : 1);
    int share_cores = p->world_size > 1 && !getenv("OMP_NUM_THREADS");  // ranks split the cores
    slm_err err;
    if (slm_process_run(argv, share_cores ? "OMP_NUM_THREADS" : NULL, threads, log_path, timeout_s, o, &err))
        slm_die(SLM_EXIT_FAIL, "%s", err.msg);
}

// Why a bench that ran wrote no record: its timeout, its signal, its last error line or its exit code.
static void no_record_reason(const slm_proc_outcome *o, const char *log_path, double timeout_s, char *why, size_t cap) {
    char last[600];
    last_error_line(log_path, last, sizeof last);
    if (o->timed_out)
        snprintf(why, cap, "timed out after %.0f s (sweep --timeout)", timeout_s);
    else if (o->signal)
        snprintf(why, cap, "ended by signal %d (%s) without a record; log %s", o->signal, strsignal(o->signal),
                 log_path);
    else if (last[0])
        snprintf(why, cap, "%s", last);
    else
        snprintf(why, cap, "exited with code %d without a record; log %s", o->exit_code, log_path);
}

// Runs one point; appends its record (the bench's, or an error record); returns the status written.
static const char *run_point(const point *p, const char *out, const char *logs, const char *self, double timeout_s,
                             char *const *mpirun_args, char *detail, size_t cap) {
    char rec_path[MAX_LOG_DIR + 32], log_path[MAX_LOG_DIR + 32];  // in the log directory: the hash, an extension
    snprintf(rec_path, sizeof rec_path, "%s/%s.record", logs, p->hash);
    snprintf(log_path, sizeof log_path, "%s/%s.log", logs, p->hash);
    char *line = NULL;
    slm_err err;
    detail[0] = 0;
    if (p->error[0]) {
        append_error(out, p, p->error);
        snprintf(detail, cap, "%s", p->error);
        return "error";
    }
    char why[4800];
    if (!surviving_record(rec_path, p, out, &line)) {
        remove(rec_path);
        slm_proc_outcome o;
        run_bench(p, self, mpirun_args, rec_path, log_path, timeout_s, &o);
        int got = take_record(rec_path, p->hash, &line, why, sizeof why);
        if (got != 1) {
            if (got == 0) no_record_reason(&o, log_path, timeout_s, why, sizeof why);
            append_error(out, p, why);
            remove(rec_path);
            snprintf(detail, cap, "%.*s", (int)cap - 1, why);
            return "error";
        }
    }
    if (slm_jsonl_append(out, line, "the result record", &err)) slm_die(SLM_EXIT_FAIL, "%s", err.msg);
    remove(rec_path);
    slm_record rec;
    slm_record_parse(line, &rec, &err);
    free(line);
    if (!strcmp(rec.status, "ok"))
        snprintf(detail, cap, "%.0f tokens/s, step %.3g s", rec.tokens_per_s, rec.step_time_s);
    else
        snprintf(detail, cap, "%s", rec.message);
    return rec.status;
}

typedef struct {
    const char *grid_path, *out, *logs, *mpirun_text;
    float timeout_s;
    int dry_run, seen_timeout, rounds;
} sweep_options;

// The grid file and the flags into o, checked.
static void parse_options(int argc, char **argv, sweep_options *o) {
    *o = (sweep_options){.grid_path = argc > 1 && strncmp(argv[1], "--", 2) ? argv[1] : NULL,
                         .out = "results.jsonl",
                         .mpirun_text = "",
                         .rounds = 1};
    slm_flag flags[] = {
        {"--out", FLAG_STR, &o->out, "results file (JSON Lines), appended to [results.jsonl]"},
        {"--timeout", FLAG_FLOAT, &o->timeout_s, "seconds a point may take [the grid's timeout_s, else 1800]",
         &o->seen_timeout},
        {"--log-dir", FLAG_STR, &o->logs, "each point's output and record while it runs [OUT.logs]"},
        {"--mpirun-args", FLAG_STR, &o->mpirun_text, "more arguments for mpirun, e.g. \"--hostfile hosts\" [none]"},
        {"--rounds", FLAG_INT, &o->rounds,
         "measure every point this many times, one round through the grid at a time; records already in --out "
         "count [1]"},
        {"--dry-run", FLAG_BOOL, &o->dry_run, "list the points and what is done, run nothing"},
    };
    if (o->grid_path) argc--, argv++;
    slm_flags_parse(
        flags, sizeof flags / sizeof flags[0], argc, argv, "slm sweep GRID.json [flags]",
        "Runs every point of a grid as its own `slm bench` process (`mpirun -np W` for world_size W)\n"
        "with a timeout; an OOM or a crash is recorded as a point with status oom or error. Records\n"
        "are appended to --out keyed by config hash: run it again and points already there are skipped.\n"
        "A grid is a JSON object of bench flags with underscores; a list is a dimension, a single value\n"
        "is fixed: {\"model\": [\"tiny\", \"small\"], \"attention\": [\"vanilla\", \"flash\"], \"micro_batch\":\n"
        "[4, 8], \"strategy\": [\"single\", \"ddp\"], \"world_size\": [1, 2], \"min_time\": 2, \"timeout_s\": 600}\n"
        "Without global_batch a point uses micro_batch x world_size. strategy single runs only at\n"
        "world_size 1 and the others only above it; other pairs are skipped. On a shared machine,\n"
        "--rounds 3 measures each point three times in three passes over the grid (compare medians).\n"
        "examples: slm sweep data/grids/cpu-quick.json --out out/results.jsonl --dry-run\n"
        "          slm sweep data/grids/cpu-predict-validation.json --rounds 3 --out val.jsonl");
    if (!o->grid_path) slm_die(SLM_EXIT_USAGE, "sweep needs a grid file: slm sweep GRID.json [flags]");
    if (o->seen_timeout && !(o->timeout_s > 0))
        slm_die(SLM_EXIT_USAGE, "--timeout must be positive (got %g)", o->timeout_s);
    if (o->rounds < 1 || o->rounds > 1000) slm_die(SLM_EXIT_USAGE, "--rounds must be 1 to 1000 (got %d)", o->rounds);
}

// The grid file, its keys bench's flags.
static void load_grid(const char *grid_path, slm_grid *g) {
    slm_run_config rc0;
    slm_run_config_defaults(&rc0);
    slm_bench_options opt0;
    slm_run_flag_text text0;
    slm_flag bench_flags[SLM_BENCH_FLAGS_MAX];
    int n_bench = slm_bench_flags(bench_flags, &rc0, &text0, &opt0);
    slm_err err;
    if (slm_grid_load(grid_path, bench_flags, n_bench, g, &err)) slm_die(SLM_EXIT_USAGE, "%s", err.msg);
}

// The words of --mpirun-args (split in copy), NULL-terminated in args.
static void split_mpirun_args(const char *mpirun_text, char *copy, size_t cap, char **args) {
    int n_mpirun = 0;
    snprintf(copy, cap, "%s", mpirun_text);
    for (char *tok = strtok(copy, " "); tok; tok = strtok(NULL, " ")) {
        if (n_mpirun == MAX_MPIRUN_ARGS) slm_die(SLM_EXIT_USAGE, "--mpirun-args: more than %d words", MAX_MPIRUN_ARGS);
        args[n_mpirun++] = tok;
    }
    args[n_mpirun] = NULL;
}

typedef struct {
    int n_to_run;                  // runs still to do, over every round
    int n_done, n_skip, n_repeat;  // points
} plan_counts;

// Every point of the grid and its state against the records already in out: skipped, repeating an earlier
// point's configuration, done for every round, or pending with the rounds still to run. `repair`: as done_records.
static point *plan_points(const slm_grid *g, const char *out, int rounds, int repair, plan_counts *c) {
    point *pts = slm_xcalloc((size_t)g->n_points, sizeof *pts);
    int n_done_records;
    done_record *done = done_records(out, repair, &n_done_records);
    *c = (plan_counts){0};
    for (int64_t i = 0; i < g->n_points; i++) {
        point *p = &pts[i];
        make_point(g, i, p);
        if (p->state == SKIP) {
            c->n_skip++;
            continue;
        }
        for (int64_t j = 0; j < i && p->state == PENDING; j++)
            if (pts[j].state != SKIP && !strcmp(pts[j].hash, p->hash)) p->state = REPEAT;
        if (p->state == REPEAT) {
            c->n_repeat++;
            continue;
        }
        p->have = count_done(done, n_done_records, p->hash, rounds);
        if (p->have >= rounds) {
            p->state = DONE;
            c->n_done++;
        } else {
            c->n_to_run += rounds - p->have;
        }
    }
    free(done);
    return pts;
}

static void print_plan(const char *grid_path, int64_t n_points, int rounds, const plan_counts *c, const char *out) {
    printf("sweep %s: %lld points", grid_path, (long long)n_points);
    if (rounds > 1) printf(" x %d rounds", rounds);
    printf(": %d to run, %d already in %s", c->n_to_run, c->n_done, out);
    if (c->n_skip) printf(", %d skipped (strategy single needs world_size 1, the others more)", c->n_skip);
    if (c->n_repeat) printf(", %d repeating a configuration (same config hash, run once)", c->n_repeat);
    printf("\n");
}

// --dry-run: a line per point, its hash, its state (its rounds done with --rounds) and what it is.
static void list_points(const point *pts, int64_t n_points, int rounds) {
    static const char *const state_names[] = {"to run", "done", "skip", "repeat"};
    for (int64_t i = 0; i < n_points; i++) {
        const point *p = &pts[i];
        char state[32];
        if (rounds > 1 && (p->state == PENDING || p->state == DONE))
            snprintf(state, sizeof state, "%d/%d", p->have < rounds ? p->have : rounds, rounds);
        else
            snprintf(state, sizeof state, "%s", state_names[p->state]);
        printf("%5lld  %s  %-6s  %s%s%s\n", (long long)i + 1, p->hash, state, p->desc,
               p->error[0] && p->state == PENDING ? "  -> error: " : "", p->state == PENDING ? p->error : "");
    }
}

// On a terminal, the progress bar: the runs done of n_to_run, the point now running, the time spent and to go.
static void show_progress(slm_progress *prog, int ran, int n_to_run, const char *desc, double t_begin) {
    char eta[32], elapsed[32], bar[21];
    double spent = slm_now_s() - t_begin;
    slm_format_duration(elapsed, sizeof elapsed, spent);
    slm_format_duration(eta, sizeof eta, ran ? spent / ran * (n_to_run - ran) : 0);
    for (int b = 0; b < 20; b++) bar[b] = b < 20 * ran / n_to_run ? '#' : '.';
    bar[20] = 0;
    if (prog->tty)
        slm_progress_update(prog, 1, "[%s] %d/%d | now: %s | elapsed %s | eta %s", bar, ran, n_to_run, desc, elapsed,
                            ran ? eta : "?");
}

// Runs the pending points, a round through the grid at a time, each run's result a line; then the totals.
static void run_points(point *pts, int64_t n_points, const sweep_options *o, double timeout, char *const *mpirun_args,
                       int n_to_run) {
    const char *out = o->out, *logs = o->logs;
    int rounds = o->rounds;
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) slm_die(SLM_EXIT_FAIL, "cannot find the slm binary (/proc/self/exe)");
    self[len] = 0;
    char logs_default[MAX_LOG_DIR];
    snprintf(logs_default, sizeof logs_default, "%s.logs", out);
    if (!logs) logs = logs_default;
    if (mkdir(logs, 0755) && access(logs, W_OK)) slm_die(SLM_EXIT_FAIL, "cannot make the log directory %s", logs);
    slm_process_forward_signals();
    slm_progress prog;
    slm_progress_init(&prog, 1);
    int ran = 0, counts[3] = {0};
    double t_begin = slm_now_s();
    for (int r = 1; r <= rounds; r++)
        for (int64_t i = 0; i < n_points; i++) {
            point *p = &pts[i];
            if (p->state != PENDING || p->have >= r) continue;
            char detail[600];
            show_progress(&prog, ran, n_to_run, p->desc, t_begin);
            double t0 = slm_now_s();
            const char *status = run_point(p, out, logs, self, timeout, mpirun_args, detail, sizeof detail);
            ran++;
            if (strcmp(status, "ok")) {  // an oom or an error is not measured again
                n_to_run -= rounds - r;
                p->have = rounds;
            }
            counts[!strcmp(status, "ok") ? 0 : !strcmp(status, "oom") ? 1 : 2]++;
            if (prog.tty) printf("\r\033[K");  // the result line replaces the bar
            prog.dirty = 0;
            char round[32] = "";
            if (rounds > 1) snprintf(round, sizeof round, "round %d: ", r);
            printf("[%d/%d] %s%s: %s, %s (%.1f s)\n", ran, n_to_run, round, p->desc, status, detail, slm_now_s() - t0);
            fflush(stdout);
        }
    char total[32];
    slm_format_duration(total, sizeof total, slm_now_s() - t_begin);
    printf("sweep done in %s: %d ok, %d oom, %d error; records in %s\n", total, counts[0], counts[1], counts[2], out);
}

int slm_cmd_sweep(int argc, char **argv) {
    sweep_options o;
    parse_options(argc, argv, &o);
    slm_grid g;
    load_grid(o.grid_path, &g);
    double timeout = o.seen_timeout ? o.timeout_s : g.timeout_s > 0 ? g.timeout_s : 1800;
    char mpirun_copy[1024], *mpirun_args[MAX_MPIRUN_ARGS + 1];
    split_mpirun_args(o.mpirun_text, mpirun_copy, sizeof mpirun_copy, mpirun_args);

    plan_counts c;
    point *pts = plan_points(&g, o.out, o.rounds, !o.dry_run, &c);
    print_plan(o.grid_path, g.n_points, o.rounds, &c, o.out);
    if (o.dry_run)
        list_points(pts, g.n_points, o.rounds);
    else if (c.n_to_run)
        run_points(pts, g.n_points, &o, timeout, mpirun_args, c.n_to_run);
    else
        printf("nothing to run: every point is in %s\n", o.out);
    free(pts);
    slm_grid_free(&g);
    return SLM_EXIT_OK;
}
