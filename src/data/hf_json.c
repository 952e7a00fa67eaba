// hf_json.c — typed tokenizer.json fields with one-line errors (hf_json.h).
#include "data/hf_json.h"

#include <math.h>

const cJSON *slm_hfj_get(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return v && !cJSON_IsNull(v) ? v : NULL;
}

int slm_hfj_string(const slm_hfj *at, const cJSON *obj, const char *key, int required, const char **out) {
    const cJSON *v = slm_hfj_get(obj, key);
    *out = NULL;
    if (!v && !required) return 0;
    if (!v) return slm_fail(at->err, "%s: %s.%s is missing", at->path, at->where, key);
    if (!cJSON_IsString(v)) return slm_fail(at->err, "%s: %s.%s must be a string", at->path, at->where, key);
    *out = v->valuestring;
    return 0;
}

int slm_hfj_bool(const slm_hfj *at, const cJSON *obj, const char *key, int dflt, int *out) {
    const cJSON *v = slm_hfj_get(obj, key);
    if (!v && dflt < 0) return slm_fail(at->err, "%s: %s.%s is missing", at->path, at->where, key);
    if (v && !cJSON_IsBool(v)) return slm_fail(at->err, "%s: %s.%s must be true or false", at->path, at->where, key);
    *out = v ? cJSON_IsTrue(v) : dflt;
    return 0;
}

int slm_hfj_index(const slm_hfj *at, const cJSON *value, const char *what, double limit, unsigned *out) {
    double d = cJSON_IsNumber(value) ? value->valuedouble : -1;
    if (!(d >= 0 && d < limit && d == floor(d)))
        return slm_fail(at->err, "%s: %s must be a whole number from 0 to %.0f", at->path, what, limit - 1);
    *out = (unsigned)d;
    return 0;
}

int slm_hfj_type(const slm_hfj *at, const cJSON *obj, const char **type) {
    if (!cJSON_IsObject(obj)) return slm_fail(at->err, "%s: %s must be an object", at->path, at->where);
    return slm_hfj_string(at, obj, "type", 1, type);
}
