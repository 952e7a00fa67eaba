// hardware.c — reads data/hardware.json (format in docs/predict.md) with cJSON.
#include "measure/hardware.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/data_path.h"
#include "core/json_file.h"

const char *const slm_efficiency_names[SLM_EFF_N] = {"e_gemm",  "gemm_m0", "e_bw",   "launch_s",
                                                     "e_flash", "e_link",  "e_share"};

double *slm_efficiency_at(slm_efficiency *e, int i) {
    double *f[SLM_EFF_N] = {&e->e_gemm, &e->gemm_m0, &e->e_bw, &e->launch_s, &e->e_flash, &e->e_link, &e->e_share};
    return f[i];
}

void slm_efficiency_range(int i, double *lo, double *hi) {
    static const double ceiling[SLM_EFF_N] = {1, 1e6, 4, 1, 1, 1, 1};
    *lo = 1e-9;
    *hi = ceiling[i];
}

const char *slm_hw_default_path(void) {
    static char path[4096];
    return slm_data_path("hardware.json", path, sizeof path);
}

typedef struct {
    const cJSON *o;
    const char *path, *device;
    slm_err *err;
    int failed;
} reader;

static int bad(reader *rd, const char *key, const char *expected) {
    if (!rd->failed)
        slm_fail(rd->err, "%s: device '%s': field \"%s\" %s", rd->path, slm_quote(rd->device).text, key, expected);
    rd->failed = 1;
    return -1;
}

// A number in [lo, hi].
static double number(reader *rd, const cJSON *o, const char *key, double lo, double hi) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    char expected[96];
    snprintf(expected, sizeof expected, "must be a number in [%g, %g]", lo, hi);
    if (!cJSON_IsNumber(it) || !(it->valuedouble >= lo && it->valuedouble <= hi)) return bad(rd, key, expected);
    return it->valuedouble;
}

static void text(reader *rd, const char *key, char *out, size_t cap) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(rd->o, key);
    if (!cJSON_IsString(it) || !it->valuestring[0] || strlen(it->valuestring) >= cap) {
        bad(rd, key, "must be a non-empty string");
        return;
    }
    snprintf(out, cap, "%s", it->valuestring);
}

static void read_device(reader *rd, slm_hw *hw) {
    text(rd, "name", hw->name, sizeof hw->name);
    rd->device = hw->name[0] ? hw->name : "?";
    const cJSON *match = cJSON_GetObjectItemCaseSensitive(rd->o, "match");
    if (!cJSON_IsArray(match) || cJSON_GetArraySize(match) < 1 || cJSON_GetArraySize(match) > SLM_HW_MAX_MATCH) {
        bad(rd, "match", "must be a list of 1 to 4 words found in the device's name");
        return;
    }
    const cJSON *w;
    cJSON_ArrayForEach(w, match) {
        if (!cJSON_IsString(w) || !w->valuestring[0] || strlen(w->valuestring) >= sizeof hw->match[0]) {
            bad(rd, "match", "must hold non-empty strings shorter than 32 bytes");
            return;
        }
        snprintf(hw->match[hw->n_match++], sizeof hw->match[0], "%s", w->valuestring);
    }
    text(rd, "price", hw->price, sizeof hw->price);
    hw->is_cpu = cJSON_HasObjectItem(rd->o, "cores");
    hw->cores = hw->is_cpu ? (int)number(rd, rd->o, "cores", 1, 1e6) : 1;
    hw->peak_bf16_flops_per_s = number(rd, rd->o, "peak_bf16_flops_per_s", 0, 1e18);
    hw->peak_fp32_flops_per_s = number(rd, rd->o, "peak_fp32_flops_per_s", 1e6, 1e18);
    hw->mem_bytes = number(rd, rd->o, "mem_bytes", 1e6, 1e15);
    hw->mem_bw_bytes_per_s = number(rd, rd->o, "mem_bw_bytes_per_s", 1e6, 1e15);
    hw->intra_bw_bytes_per_s = number(rd, rd->o, "intra_bw_bytes_per_s", 1e3, 1e15);
    hw->intra_latency_s = number(rd, rd->o, "intra_latency_s", 0, 1);
    hw->inter_bw_bytes_per_s = number(rd, rd->o, "inter_bw_bytes_per_s", 1e3, 1e15);
    hw->inter_latency_s = number(rd, rd->o, "inter_latency_s", 0, 1);
    hw->devices_per_node = (int)number(rd, rd->o, "devices_per_node", 1, 1e6);
    const cJSON *eff = cJSON_GetObjectItemCaseSensitive(rd->o, "efficiency");
    if (!cJSON_IsObject(eff)) {
        bad(rd, "efficiency", "must be an object {e_gemm, gemm_m0, e_bw, launch_s, e_flash, e_link, e_share}");
        return;
    }
    for (int i = 0; i < SLM_EFF_N; i++) {
        double lo, hi;
        slm_efficiency_range(i, &lo, &hi);
        *slm_efficiency_at(&hw->eff, i) = number(rd, eff, slm_efficiency_names[i], lo, hi);
    }
    text(rd, "source", hw->source, sizeof hw->source);
}

// The "interconnects" list into cat->links; a name is listed once (slm_hw_interconnect finds the first).
static void read_links(reader *rd, const cJSON *links, slm_hw_catalog *cat) {
    cat->links = slm_xcalloc((size_t)cJSON_GetArraySize(links) + 1, sizeof(slm_interconnect));
    const cJSON *d;
    cJSON_ArrayForEach(d, links) {
        slm_interconnect *ic = &cat->links[cat->n_links];
        rd->o = d;
        rd->device = "interconnect";
        text(rd, "name", ic->name, sizeof ic->name);
        ic->bw_bytes_per_s = number(rd, d, "bw_bytes_per_s", 1e3, 1e15);
        ic->latency_s = number(rd, d, "latency_s", 0, 1);
        text(rd, "source", ic->source, sizeof ic->source);
        for (int i = 0; i < cat->n_links && !rd->failed; i++)
            if (!strcasecmp(cat->links[i].name, ic->name)) {
                slm_fail(rd->err, "%s: interconnect '%s' is listed twice", rd->path, ic->name);
                rd->failed = 1;
            }
        if (rd->failed) return;
        cat->n_links++;
    }
}

int slm_hw_load(const char *path, slm_hw_catalog *cat, slm_err *err) {
    memset(cat, 0, sizeof *cat);
    char *text = slm_read_text_file(path, "hardware file", SLM_JSON_MAX_BYTES, err);
    if (!text) return -1;
    int ret = slm_hw_parse(text, path, cat, err);
    free(text);
    return ret;
}

int slm_hw_parse(const char *json, const char *path, slm_hw_catalog *cat, slm_err *err) {
    memset(cat, 0, sizeof *cat);
    snprintf(cat->path, sizeof cat->path, "%s", path);
    cJSON *root = slm_json_parse_text(json, path, err);
    if (!root) return -1;
    const cJSON *devices = cJSON_GetObjectItemCaseSensitive(root, "devices");
    if (!cJSON_IsArray(devices) || cJSON_GetArraySize(devices) < 1) {
        cJSON_Delete(root);
        return slm_fail(err, "%s: expected a list \"devices\" of device entries", path);
    }
    cat->hw = slm_xcalloc((size_t)cJSON_GetArraySize(devices), sizeof(slm_hw));
    reader rd = {.path = path, .err = err};
    const cJSON *d;
    cJSON_ArrayForEach(d, devices) {
        rd.o = d;
        rd.device = "?";
        if (!cJSON_IsObject(d)) {
            slm_fail(err, "%s: entry %d of \"devices\" is not an object", path, cat->n + 1);
            rd.failed = 1;
            break;
        }
        read_device(&rd, &cat->hw[cat->n]);
        if (rd.failed) break;
        if (slm_hw_find(cat, cat->hw[cat->n].name)) {
            slm_fail(err, "%s: device '%s' is listed twice", path, slm_quote(cat->hw[cat->n].name).text);
            rd.failed = 1;
            break;
        }
        cat->n++;
    }
    const cJSON *links = cJSON_GetObjectItemCaseSensitive(root, "interconnects");
    if (!rd.failed && links) read_links(&rd, links, cat);
    cJSON_Delete(root);
    if (rd.failed) slm_hw_free(cat);
    return rd.failed ? -1 : 0;
}

void slm_hw_free(slm_hw_catalog *cat) {
    free(cat->hw);
    free(cat->links);
    memset(cat, 0, sizeof *cat);
}

const slm_hw *slm_hw_find(const slm_hw_catalog *cat, const char *name) {
    for (int i = 0; i < cat->n; i++)
        if (!strcasecmp(cat->hw[i].name, name)) return &cat->hw[i];
    return NULL;
}

static int contains_nocase(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (!strncasecmp(hay, needle, n)) return 1;
    return 0;
}

const slm_hw *slm_hw_match(const slm_hw_catalog *cat, const char *device_name) {
    for (int i = 0; i < cat->n; i++) {
        int all = 1;
        for (int j = 0; j < cat->hw[i].n_match && all; j++) all = contains_nocase(device_name, cat->hw[i].match[j]);
        if (all) return &cat->hw[i];
    }
    return NULL;
}

const slm_interconnect *slm_hw_interconnect(const slm_hw_catalog *cat, const char *name, slm_err *err) {
    char names[512] = "";
    for (int i = 0; i < cat->n_links; i++) {
        if (!strcasecmp(cat->links[i].name, name)) return &cat->links[i];
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "", cat->links[i].name);
    }
    slm_fail(err, "--interconnect %s is not in %s (expected %s)", name, cat->path, names);
    return NULL;
}

double slm_hw_peak(const slm_hw *hw, slm_dtype dtype) {
    return dtype == SLM_BF16 ? hw->peak_bf16_flops_per_s : hw->peak_fp32_flops_per_s;
}

void slm_hw_names(const slm_hw_catalog *cat, char *out, size_t len) {
    out[0] = 0;
    for (int i = 0; i < cat->n; i++)
        snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? ", " : "", slm_quote(cat->hw[i].name).text);
}
