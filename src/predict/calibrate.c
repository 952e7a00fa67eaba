// calibrate.c — Levenberg–Marquardt fit of a device's efficiencies to its
// measured step times, and the calibration file (calibrate.h).
#include "predict/calibrate.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/json_file.h"
#include "core/peak.h"
#include "measure/results.h"
#include "predict/predictor.h"

// ---- the file ------------------------------------------------------------------

void slm_calibration_default_path(char *out, size_t len) {
    char peak[4000];
    slm_peak_cache_path(peak, sizeof peak);  // the same directory as the peak cache
    char *slash = strrchr(peak, '/');
    if (slash) *slash = 0;
    size_t n = strlen(slash ? peak : ".");
    if (n + 18 > len) n = len > 18 ? len - 18 : 0;
    snprintf(out, len, "%.*s/calibration.json", (int)n, slash ? peak : ".");
}

// The file's JSON; NULL with err set when it cannot be read or is not a
// calibration file, and *missing set when it does not exist.
static cJSON *read_file(const char *path, slm_err *err, int *missing) {
    struct stat st;
    *missing = stat(path, &st) && errno == ENOENT;
    cJSON *root = slm_json_read_file(path, "calibration file", err);
    if (root && !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "calibrations"))) {
        slm_fail(err, "%s: expected a list \"calibrations\" (slm calibrate writes it)", path);
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

// Efficiency i of a calibration entry of device into *out; -1 with err naming the field, its value and the range.
static int read_efficiency(const cJSON *eff, int i, const char *path, const char *device, double *out, slm_err *err) {
    const char *name = slm_efficiency_names[i];
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(eff, name);
    double lo, hi;
    slm_efficiency_range(i, &lo, &hi);
    if (!cJSON_IsNumber(v))
        return slm_fail(err, "%s: device '%s': efficiency \"%s\" is missing or not a number (expected one in [%g, %g])",
                        path, device, name, lo, hi);
    if (!(v->valuedouble >= lo && v->valuedouble <= hi))
        return slm_fail(err, "%s: device '%s': efficiency \"%s\" is %g (expected a number in [%g, %g])", path, device,
                        name, v->valuedouble, lo, hi);
    *out = v->valuedouble;
    return 0;
}

int slm_calibration_lookup(const char *path, const char *device, slm_calibration *c, slm_err *err) {
    char def[4096];
    const int named = path != NULL;
    if (!named) slm_calibration_default_path(def, sizeof def), path = def;
    int missing;
    cJSON *root = read_file(path, err, &missing);
    if (!root) return missing && !named ? 0 : -1;
    int found = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, "calibrations")) {
        const cJSON *dev = cJSON_GetObjectItemCaseSensitive(e, "device");
        if (!cJSON_IsString(dev) || strcmp(dev->valuestring, device)) continue;
        memset(c, 0, sizeof *c);
        snprintf(c->device, sizeof c->device, "%s", device);
        const cJSON *eff = cJSON_GetObjectItemCaseSensitive(e, "efficiency");
        found = 1;
        for (int i = 0; i < SLM_EFF_N && found == 1; i++)
            if (read_efficiency(eff, i, path, device, slm_efficiency_at(&c->eff, i), err)) found = -1;
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "records");
        const cJSON *rms = cJSON_GetObjectItemCaseSensitive(e, "rms_error");
        const cJSON *date = cJSON_GetObjectItemCaseSensitive(e, "date");
        const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(e, "inputs");
        if (found == 1 && ((n && !cJSON_IsNumber(n)) || (rms && !cJSON_IsNumber(rms) && !cJSON_IsNull(rms))))
            found = slm_fail(err, "%s: device '%s': \"records\" must be a number and \"rms_error\" a number or null",
                             path, device);
        c->n_records = cJSON_IsNumber(n) ? n->valueint : 0;
        c->rms_error = cJSON_IsNumber(rms) ? rms->valuedouble : NAN;
        if (cJSON_IsString(date)) snprintf(c->date, sizeof c->date, "%s", date->valuestring);
        if (cJSON_IsString(inputs)) snprintf(c->inputs, sizeof c->inputs, "%s", inputs->valuestring);
        break;
    }
    cJSON_Delete(root);
    return found;
}

int slm_calibration_store(const char *path, const slm_calibration *c, slm_err *err) {
    for (int i = 0; i < SLM_EFF_N; i++) {  // what lookup would refuse is not written
        double lo, hi, v = *slm_efficiency_at((slm_efficiency *)&c->eff, i);
        slm_efficiency_range(i, &lo, &hi);
        if (!(v >= lo && v <= hi))
            return slm_fail(err, "the fit of %s gave efficiency \"%s\" = %g, outside [%g, %g]: not stored", c->device,
                            slm_efficiency_names[i], v, lo, hi);
    }
    char def[4096];
    if (!path) {
        slm_calibration_default_path(def, sizeof def);
        path = def;
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", def);
        *strrchr(dir, '/') = 0;
        if (mkdir(dir, 0755) && errno != EEXIST)
            return slm_fail(err, "cannot make %s (set SLM_CACHE_DIR to a writable directory, or give --out)", dir);
    }
    int missing;
    slm_err read_err;
    cJSON *root = read_file(path, &read_err, &missing);
    if (!root && !missing) return slm_fail(err, "%s", read_err.msg);
    if (!root) {
        root = cJSON_CreateObject();
        cJSON_AddItemToObject(root, "calibrations", cJSON_CreateArray());
    }
    cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "calibrations");
    for (int i = cJSON_GetArraySize(list) - 1; i >= 0; i--) {
        const cJSON *dev = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(list, i), "device");
        if (cJSON_IsString(dev) && !strcmp(dev->valuestring, c->device)) cJSON_DeleteItemFromArray(list, i);
    }
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "device", c->device);
    cJSON *eff = cJSON_AddObjectToObject(e, "efficiency");
    for (int i = 0; i < SLM_EFF_N; i++)
        cJSON_AddNumberToObject(eff, slm_efficiency_names[i], *slm_efficiency_at((slm_efficiency *)&c->eff, i));
    cJSON_AddNumberToObject(e, "records", c->n_records);
    cJSON_AddNumberToObject(e, "rms_error", c->rms_error);
    cJSON_AddStringToObject(e, "date", c->date);
    cJSON_AddStringToObject(e, "inputs", c->inputs);
    cJSON_AddItemToArray(list, e);
    int ret = slm_json_write_file(path, "calibration file", root, err);
    cJSON_Delete(root);
    return ret;
}

// ---- the fit ---------------------------------------------------------------------

int slm_calibration_select(const slm_hw_catalog *cat, const slm_hw *hw, const slm_record *recs, int n, int *idx,
                           int *repeats) {
    int *all = slm_xcalloc((size_t)n + 1, sizeof(int)), n_all = 0;
    for (int i = 0; i < n; i++) {
        const slm_record *r = &recs[i];
        if (strcmp(r->source, "measured") || strcmp(r->status, "ok") || !(r->step_time_s > 0)) continue;
        if (slm_hw_match(cat, r->device) == hw) all[n_all++] = i;
    }
    int k = slm_results_median_per_config(recs, all, n_all, idx, repeats);
    free(all);
    return k;
}

double slm_calibration_residual(const slm_hw *hw, const slm_efficiency *eff, const slm_record *rec) {
    slm_perf_device d;
    slm_err err;
    if (slm_perf_device_init(&d, hw, eff, &rec->run, rec->run.dtype, rec->nodes, &err)) return NAN;
    slm_prediction p;
    slm_predict(&rec->run, &d, &p);
    return log(p.step_s / rec->step_time_s);
}

// Unbounded coordinates: logit of the shares (of their ceiling), log of gemm_m0 and launch_s. e_bw may pass
// 1 (up to 4): a working set that stays in cache streams faster than the memory bandwidth of the datasheet.
// A share of exactly 1 (e_share on a GPU) starts just below it.
static int is_share(int i) { return i != 1 && i != 3; }
static double ceiling(int i) {
    double lo, hi;
    slm_efficiency_range(i, &lo, &hi);
    return hi;
}
static double to_x(double v, int i) {
    if (!is_share(i)) return log(v);
    double u = fmin(v / ceiling(i), 1 - 1e-9);
    return log(u / (1 - u));
}
static double from_x(double x, int i) { return is_share(i) ? ceiling(i) / (1 + exp(-x)) : exp(x); }

enum { PRIOR_ROWS = SLM_EFF_N };
static const double prior_weight = 0.03;  // a weak pull: 1 unit of x costs as much as a 3% miss

// Residuals at x: one per record, then the prior's.
static void residuals(const slm_hw *hw, const slm_record *const *recs, int n, const double *x, const double *x0,
                      double *r) {
    slm_efficiency eff;
    for (int i = 0; i < SLM_EFF_N; i++) *slm_efficiency_at(&eff, i) = from_x(x[i], i);
    for (int k = 0; k < n; k++) r[k] = slm_calibration_residual(hw, &eff, recs[k]);
    for (int i = 0; i < SLM_EFF_N; i++) r[n + i] = prior_weight * (x[i] - x0[i]);
}

static double sumsq(const double *r, int m) {
    double s = 0;
    for (int i = 0; i < m; i++) s += r[i] * r[i];
    return isfinite(s) ? s : INFINITY;
}

// Solves A·d = b (P×P, Gaussian elimination with partial pivoting); 0 when singular.
static int solve(double A[SLM_EFF_N][SLM_EFF_N], double *b, double *d) {
    enum { P = SLM_EFF_N };
    for (int c = 0; c < P; c++) {
        int piv = c;
        for (int r = c + 1; r < P; r++)
            if (fabs(A[r][c]) > fabs(A[piv][c])) piv = r;
        if (fabs(A[piv][c]) < 1e-300) return 0;
        for (int k = 0; k < P; k++) {
            double t = A[c][k];
            A[c][k] = A[piv][k];
            A[piv][k] = t;
        }
        double t = b[c];
        b[c] = b[piv];
        b[piv] = t;
        for (int r = c + 1; r < P; r++) {
            double f = A[r][c] / A[c][c];
            for (int k = c; k < P; k++) A[r][k] -= f * A[c][k];
            b[r] -= f * b[c];
        }
    }
    for (int c = P - 1; c >= 0; c--) {
        double s = b[c];
        for (int k = c + 1; k < P; k++) s -= A[c][k] * d[k];
        d[c] = s / A[c][c];
    }
    return 1;
}

static int fit(const slm_hw *hw, const slm_record *const *recs, int n, slm_efficiency *eff, double *rms_error,
               slm_err *err) {
    enum { P = SLM_EFF_N };
    if (n < 2) return slm_fail(err, "%d measured records of %s: a fit needs at least 2", n, hw->name);
    const int m = n + PRIOR_ROWS;
    double x[P], x0[P];
    for (int i = 0; i < P; i++) x[i] = x0[i] = to_x(*slm_efficiency_at(eff, i), i);
    double *r = slm_xcalloc((size_t)m * (P + 2), sizeof(double)), *J = r + m, *rt = J + (size_t)m * P;
    residuals(hw, recs, n, x, x0, r);
    double cost = sumsq(r, m), lambda = 1e-3;
    if (!isfinite(cost)) {
        free(r);
        return slm_fail(err, "a record of %s cannot be predicted (its world size does not fit its nodes)", hw->name);
    }
    for (int it = 0; it < 200 && lambda < 1e12; it++) {
        for (int j = 0; j < P; j++) {  // forward-difference Jacobian
            double xj = x[j], h = 1e-5 * fmax(1, fabs(xj));
            x[j] = xj + h;
            residuals(hw, recs, n, x, x0, rt);
            x[j] = xj;
            for (int k = 0; k < m; k++) J[(size_t)k * P + j] = (rt[k] - r[k]) / h;
        }
        double A[P][P] = {{0}}, g[P] = {0};
        for (int k = 0; k < m; k++)
            for (int a = 0; a < P; a++) {
                g[a] -= J[(size_t)k * P + a] * r[k];
                for (int b = 0; b < P; b++) A[a][b] += J[(size_t)k * P + a] * J[(size_t)k * P + b];
            }
        int improved = 0;
        while (!improved && lambda < 1e12) {
            double Al[P][P], gl[P], d[P], xn[P];
            memcpy(Al, A, sizeof A);
            memcpy(gl, g, sizeof g);
            for (int a = 0; a < P; a++) Al[a][a] += lambda * (A[a][a] + 1e-12);
            if (!solve(Al, gl, d)) {
                lambda *= 10;
                continue;
            }
            for (int a = 0; a < P; a++) xn[a] = x[a] + d[a];
            residuals(hw, recs, n, xn, x0, rt);
            double c = sumsq(rt, m);
            if (c < cost) {
                improved = 1;
                double gain = cost - c;
                memcpy(x, xn, sizeof x);
                memcpy(r, rt, (size_t)m * sizeof(double));
                cost = c;
                lambda = fmax(lambda / 10, 1e-9);
                if (gain < 1e-12 * (1 + cost)) it = 1 << 20;  // converged
            } else {
                lambda *= 10;
            }
        }
    }
    double ss = 0;
    for (int k = 0; k < n; k++) ss += r[k] * r[k];
    *rms_error = sqrt(ss / n);
    for (int i = 0; i < P; i++) *slm_efficiency_at(eff, i) = from_x(x[i], i);
    free(r);
    return 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int slm_calibrate_fit(const slm_hw *hw, const slm_record **recs, int n, slm_efficiency *eff, double *rms_error,
                      int *n_outliers, slm_err *err) {
    slm_efficiency start = *eff;
    if (fit(hw, recs, n, eff, rms_error, err)) return -1;
    // A record far off the fit (a step slowed by another process) is set aside, and the fit redone from the
    // start: far = 3 robust standard deviations (1.4826 x the median absolute residual), and at least 25%.
    double *abs_r = slm_xcalloc((size_t)n, sizeof(double));
    for (int i = 0; i < n; i++) abs_r[i] = fabs(slm_calibration_residual(hw, eff, recs[i]));
    qsort(abs_r, (size_t)n, sizeof(double), cmp_double);
    const double limit = fmax(3 * 1.4826 * abs_r[n / 2], 0.25);
    free(abs_r);
    int kept = 0;
    for (int i = 0; i < n; i++) {
        if (fabs(slm_calibration_residual(hw, eff, recs[i])) <= limit) {
            const slm_record *r = recs[kept];
            recs[kept++] = recs[i];
            recs[i] = r;
        }
    }
    *n_outliers = n - kept;
    if (!*n_outliers) return 0;
    *eff = start;
    return fit(hw, recs, kept, eff, rms_error, err);
}
