// prices.c — reads prices.json (format in docs/formats.md) with cJSON.
#include "measure/prices.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/data_path.h"
#include "core/json_file.h"

const char *slm_prices_default_path(void) {
    static char path[4096];
    return slm_data_path("prices.json", path, sizeof path);
}

// No offer costs more per hour: a larger figure (1e999 reads as inf) is not a price.
#define MAX_USD_PER_HOUR 1e6

int slm_price_lookup(const char *path, const char *device, double vcpus_per_rank, slm_price *out, slm_err *err) {
    char *text = slm_read_text_file(path, "prices file", SLM_JSON_MAX_BYTES, err);
    if (!text) return -1;
    int ret = slm_price_lookup_text(text, path, device, vcpus_per_rank, out, err);
    free(text);
    return ret;
}

int slm_price_lookup_text(const char *text, const char *path, const char *device, double vcpus_per_rank, slm_price *out,
                          slm_err *err) {
    cJSON *root = slm_json_parse_text(text, path, err);
    if (!root) return -1;
    const cJSON *devices = cJSON_GetObjectItemCaseSensitive(root, "devices");
    const cJSON *entry = cJSON_GetObjectItemCaseSensitive(devices, device);
    int ret = -1;
    if (!cJSON_IsObject(devices)) {
        slm_fail(err, "%s: expected an object \"devices\" of price entries", path);
        goto done;
    }
    if (!cJSON_IsObject(entry)) {
        char known[256] = "";
        const cJSON *it;
        cJSON_ArrayForEach(it, devices)
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", known[0] ? ", " : "", it->string);
        slm_fail(err, "%s has no price for device '%s' (it has %s; or give --price)", path, slm_quote(device).text,
                 slm_quote(known).text);
        goto done;
    }
    const cJSON *unit = cJSON_GetObjectItemCaseSensitive(entry, "unit");
    const cJSON *date = cJSON_GetObjectItemCaseSensitive(entry, "date");
    const cJSON *sources = cJSON_GetObjectItemCaseSensitive(entry, "sources");
    int per_vcpu = cJSON_IsString(unit) && !strcmp(unit->valuestring, "vCPU-hour");
    if (!cJSON_IsString(unit) || (!per_vcpu && strcmp(unit->valuestring, "device-hour")) || !cJSON_IsString(date) ||
        !cJSON_IsArray(sources) || cJSON_GetArraySize(sources) < 1) {
        slm_fail(err, "%s: entry '%s' needs \"unit\" (device-hour or vCPU-hour), \"date\" and a list \"sources\"", path,
                 slm_quote(device).text);
        goto done;
    }
    double sum = 0;
    int n = 0;
    char names[160] = "";
    const cJSON *s;
    cJSON_ArrayForEach(s, sources) {
        const cJSON *provider = cJSON_GetObjectItemCaseSensitive(s, "provider");
        const cJSON *usd = cJSON_GetObjectItemCaseSensitive(s, "usd_per_hour");
        const cJSON *units = cJSON_GetObjectItemCaseSensitive(s, "units");
        if (!cJSON_IsString(provider) || !cJSON_IsNumber(usd) || !cJSON_IsNumber(units) || !(usd->valuedouble > 0) ||
            !(usd->valuedouble <= MAX_USD_PER_HOUR) || !(units->valuedouble >= 1)) {
            slm_fail(err, "%s: source %d of '%s' needs \"provider\", \"usd_per_hour\" in (0, %g] and \"units\" >= 1",
                     path, n + 1, slm_quote(device).text, MAX_USD_PER_HOUR);
            goto done;
        }
        sum += usd->valuedouble / units->valuedouble;
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", n ? ", " : "", provider->valuestring);
        n++;
    }
    double per_unit = sum / n;
    out->usd_per_device_hour = per_vcpu ? per_unit * vcpus_per_rank : per_unit;
    if (per_vcpu)
        snprintf(out->source, sizeof out->source, "%s '%s': $%.4f per vCPU-hour x %g vCPUs per rank (mean of %s; %s)",
                 path, device, per_unit, vcpus_per_rank, names, date->valuestring);
    else
        snprintf(out->source, sizeof out->source, "%s '%s': mean of %s (%s)", path, device, names, date->valuestring);
    ret = 0;
done:
    cJSON_Delete(root);
    return ret;
}
