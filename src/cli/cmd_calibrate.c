// cmd_calibrate.c — `slm calibrate RESULTS.jsonl…`: fits each device's
// efficiencies in the performance model to its measured records (least
// squares on log step time, src/predict/calibrate.h) and stores the fit in
// the calibration file that `slm predict` and `slm advise` read.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "cli/flags.h"
#include "core/err.h"
#include "measure/results.h"
#include "predict/calibrate.h"

enum { MAX_FILES = 64 };

static double rms(const slm_hw *hw, const slm_efficiency *eff, const slm_record *const *recs, int n) {
    double ss = 0;
    for (int i = 0; i < n; i++) {
        double r = slm_calibration_residual(hw, eff, recs[i]);
        ss += r * r;
    }
    return sqrt(ss / n);
}

// The hardware catalog (--hardware, else data/hardware.json) and its --device type, NULL for every one; returns
// the catalog's path.
static const char *load_hardware(const char *hardware, const char *device, slm_hw_catalog *cat, const slm_hw **only) {
    slm_err err;
    const char *hw_path = hardware ? hardware : slm_hw_default_path();
    if (!hw_path) slm_die(SLM_EXIT_USAGE, "no data/hardware.json here: give --hardware FILE");
    if (slm_hw_load(hw_path, cat, &err)) slm_die(SLM_EXIT_USAGE, "%s", err.msg);
    *only = NULL;
    if (device && !(*only = slm_hw_find(cat, device)))
        slm_die(SLM_EXIT_USAGE, "--device %s is not in %s", device, hw_path);
    return hw_path;
}

// The records of the results files into res; their names, space-separated, appended to inputs.
static void read_results(const char *const *files, int n_files, slm_results *res, char *inputs, size_t cap) {
    slm_err err;
    for (int i = 0; i < n_files; i++) {
        if (slm_results_read(files[i], 0, res, &err)) slm_die(SLM_EXIT_FAIL, "%s", err.msg);
        snprintf(inputs + strlen(inputs), cap - strlen(inputs), "%s%s", i ? " " : "", files[i]);
    }
}

// The fit of one device in two lines: its configurations, those set aside, the error with the datasheet's
// efficiencies and calibrated, then the efficiencies.
static void print_fit(const slm_hw *hw, int n, const int *repeats, int outliers, double before, slm_calibration *cal) {
    int n_recs = 0;
    for (int i = 0; i < n; i++) n_recs += repeats[i];
    char repeated[96] = "";
    if (n_recs > n) snprintf(repeated, sizeof repeated, " (from %d records: each one's median)", n_recs);
    printf(
        "%s: %d measured configurations%s, %d set aside (more than 3 robust standard deviations off the fit); rms "
        "error of log step time %.1f%% with the datasheet efficiencies, %.1f%% calibrated\n ",
        hw->name, n, repeated, outliers, 100 * before, 100 * cal->rms_error);
    for (int i = 0; i < SLM_EFF_N; i++) printf(" %s %.4g", slm_efficiency_names[i], *slm_efficiency_at(&cal->eff, i));
    printf("\n");
}

// Fits the device's efficiencies to its measured records (idx, repeats and sel have room for every record) and
// stores the fit in out; returns 1 when stored, 0 when the device has no records or the fit fails (said so).
static int calibrate_device(const slm_hw_catalog *cat, const slm_hw *hw, const slm_results *res, int *idx, int *repeats,
                            const slm_record **sel, const char *inputs, const char *out) {
    int n = slm_calibration_select(cat, hw, res->recs, res->n, idx, repeats);
    if (!n) return 0;
    for (int i = 0; i < n; i++) sel[i] = &res->recs[idx[i]];
    slm_calibration cal = {0};
    snprintf(cal.device, sizeof cal.device, "%s", hw->name);
    cal.eff = hw->eff;
    double before = rms(hw, &hw->eff, sel, n);
    int outliers;
    slm_err err;
    if (slm_calibrate_fit(hw, sel, n, &cal.eff, &cal.rms_error, &outliers, &err)) {
        printf("%s: not calibrated: %s\n", hw->name, err.msg);
        return 0;
    }
    cal.n_records = n - outliers;
    time_t now = time(NULL);
    strftime(cal.date, sizeof cal.date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    snprintf(cal.inputs, sizeof cal.inputs, "%s", inputs);
    if (slm_calibration_store(out, &cal, &err)) slm_die(SLM_EXIT_FAIL, "%s", err.msg);
    print_fit(hw, n, repeats, outliers, before, &cal);
    return 1;
}

int slm_cmd_calibrate(int argc, char **argv) {
    const char *files[MAX_FILES];
    int n_files = 0;
    while (argc > 1 && strncmp(argv[1], "--", 2)) {
        if (n_files == MAX_FILES) slm_die(SLM_EXIT_USAGE, "at most %d results files", MAX_FILES);
        files[n_files++] = argv[1];
        argv[1] = argv[0];
        argc--, argv++;
    }
    const char *device = NULL, *hardware = NULL, *out = NULL;
    slm_flag flags[] = {
        {"--device", FLAG_STR, &device, "fit only this device type of the hardware file [every one with records]"},
        {"--hardware", FLAG_STR, &hardware, "hardware catalog [data/hardware.json]"},
        {"--out", FLAG_STR, &out, "calibration file to write [the cache's calibration.json]"},
    };
    slm_flags_parse(
        flags, sizeof flags / sizeof flags[0], argc, argv, "slm calibrate RESULTS.jsonl... [flags]",
        "Fits the performance model's efficiencies of each device type (GEMM efficiency and its shape\n"
        "constant, memory-bandwidth efficiency, per-kernel cost, FlashAttention and link efficiency, a CPU\n"
        "rank's share of its cores beside other ranks) to the measured records of that device in the\n"
        "results files, by least squares on log step time, and stores them; slm predict then says\n"
        "\"calibrated (N configurations, rms error X%)\".\n"
        "example: slm calibrate out/demo/results.jsonl bench/results/*.jsonl");
    if (!n_files) slm_die(SLM_EXIT_USAGE, "no results file given (slm calibrate RESULTS.jsonl...)");
    slm_hw_catalog cat;
    const slm_hw *only;
    const char *hw_path = load_hardware(hardware, device, &cat, &only);
    slm_results res = {0};
    char inputs[512] = "";
    read_results(files, n_files, &res, inputs, sizeof inputs);
    int *idx = slm_xcalloc((size_t)res.n + 1, sizeof(int)), *repeats = slm_xcalloc((size_t)res.n + 1, sizeof(int));
    const slm_record **sel = slm_xcalloc((size_t)res.n + 1, sizeof(slm_record *));
    int fitted = 0;
    for (int h = 0; h < cat.n; h++) {
        const slm_hw *hw = &cat.hw[h];
        if (only && hw != only) continue;
        fitted += calibrate_device(&cat, hw, &res, idx, repeats, sel, inputs, out);
    }
    char path[4096];
    if (!out) slm_calibration_default_path(path, sizeof path);
    if (fitted) printf("stored in %s\n", out ? out : path);
    free(idx);
    free(repeats);
    free(sel);
    slm_results_free(&res);
    slm_hw_free(&cat);
    if (!fitted) slm_die(SLM_EXIT_FAIL, "no device calibrated: no measured ok records of a device in %s", hw_path);
    return SLM_EXIT_OK;
}
