#include "cli/grid.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_file.h"

static char *dup_text(const char *s) {
    char *d = slm_xmalloc(strlen(s) + 1);
    strcpy(d, s);
    return d;
}

// One value as command-line text, checked against the flag's kind and as
// the flag parser checks it.
static int value_text(const cJSON *v, slm_grid_dim *d, int i, const char *where, slm_err *err) {
    char buf[64];
    d->values[i] = NULL;
    if (cJSON_IsNull(v) && (d->kind == FLAG_BYTES || d->kind == FLAG_STR)) return 0;  // flag left out
    switch (d->kind) {
        case FLAG_INT:
        case FLAG_I64:
            if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || fabs(v->valuedouble) > 9e15 ||
                (d->kind == FLAG_INT && fabs(v->valuedouble) > 2147483647.0))
                return slm_fail(err, "%s: \"%s\" must be an integer", where, d->key);
            snprintf(buf, sizeof buf, "%.0f", v->valuedouble);
            break;
        case FLAG_FLOAT:
            if (!cJSON_IsNumber(v)) return slm_fail(err, "%s: \"%s\" must be a number", where, d->key);
            snprintf(buf, sizeof buf, "%.9g", v->valuedouble);
            break;
        case FLAG_BYTES: {
            char *end = NULL;
            if (cJSON_IsString(v)) strtod(v->valuestring, &end);
            if (cJSON_IsNumber(v) && v->valuedouble >= 0)
                snprintf(buf, sizeof buf, "%.0f", v->valuedouble);
            else if (cJSON_IsString(v) && end != v->valuestring && strlen(v->valuestring) < sizeof buf &&
                     strspn(end, "KkMmGgBb") == strlen(end) && strlen(end) <= 2)
                snprintf(buf, sizeof buf, "%s", v->valuestring);
            else
                return slm_fail(err, "%s: \"%s\" must be bytes: a number, a string like \"2G\", or null", where,
                                d->key);
            break;
        }
        case FLAG_STR:
            if (!cJSON_IsString(v) || !v->valuestring[0])
                return slm_fail(err, "%s: \"%s\" must be a non-empty string (or null)", where, d->key);
            if (slm_has_control(v->valuestring))  // it would reach bench's messages and the terminal
                return slm_fail(err, "%s: \"%s\" is \"%s\": expected text without control characters", where, d->key,
                                slm_quote(v->valuestring).text);
            d->values[i] = dup_text(v->valuestring);
            return 0;
        case FLAG_BOOL:
            if (!cJSON_IsBool(v)) return slm_fail(err, "%s: \"%s\" must be true or false", where, d->key);
            if (cJSON_IsTrue(v)) d->values[i] = dup_text("");
            return 0;
    }
    slm_err why;  // what the bench's flag parser would refuse
    if (slm_flag_value(d->kind, d->flag[0] ? d->flag : d->key, buf, NULL, &why))
        return slm_fail(err, "%s: %s", where, why.msg);
    d->values[i] = dup_text(buf);
    return 0;
}

static int load_dim(const cJSON *item, const char *text, const slm_flag *flags, int n_flags, slm_grid *g,
                    slm_err *err) {
    char where[1100];
    slm_grid_dim *d = &g->dims[g->n_dims];
    memset(d, 0, sizeof *d);
    snprintf(d->key, sizeof d->key, "%s", item->string);
    d->line = slm_json_key_line(text, item->string);
    snprintf(where, sizeof where, "%s:%d", g->path, d->line);
    if (strlen(item->string) >= sizeof d->key)
        return slm_fail(err, "%s: unknown key \"%s\"", where, slm_quote(item->string).text);
    if (!strcmp(d->key, "world_size")) {
        d->kind = FLAG_INT;
    } else {
        snprintf(d->flag, sizeof d->flag, "--%s", item->string);
        for (char *p = d->flag; *p; p++)
            if (*p == '_') *p = '-';
        const slm_flag *f = NULL;
        for (int i = 0; i < n_flags && !f; i++)
            if (!strcmp(flags[i].name, d->flag)) f = &flags[i];
        if (!f || !strcmp(d->flag, "--out"))
            return slm_fail(err,
                            "%s: unknown key \"%s\" (expected a flag of slm bench with underscores, "
                            "world_size or timeout_s; the sweep sets --out)",
                            where, slm_quote(d->key).text);
        d->kind = f->kind;
    }
    int is_list = cJSON_IsArray(item);
    d->n = is_list ? cJSON_GetArraySize(item) : 1;
    if (d->n < 1) return slm_fail(err, "%s: \"%s\" lists no values", where, d->key);
    d->values = slm_xcalloc((size_t)d->n, sizeof(char *));
    g->n_dims++;
    for (int i = 0; i < d->n; i++) {
        const cJSON *v = is_list ? cJSON_GetArrayItem(item, i) : item;
        if (value_text(v, d, i, where, err)) return -1;
        if (!strcmp(d->key, "world_size") && atoi(d->values[i]) < 1)
            return slm_fail(err, "%s: world_size must be at least 1 (got %s)", where, d->values[i]);
    }
    return 0;
}

int slm_grid_load(const char *path, const slm_flag *flags, int n_flags, slm_grid *g, slm_err *err) {
    memset(g, 0, sizeof *g);
    char *text = slm_read_text_file(path, "grid file", 1 << 20, err);
    if (!text) return -1;
    int ret = slm_grid_parse(text, path, flags, n_flags, g, err);
    free(text);
    return ret;
}

int slm_grid_parse(const char *text, const char *path, const slm_flag *flags, int n_flags, slm_grid *g, slm_err *err) {
    memset(g, 0, sizeof *g);
    snprintf(g->path, sizeof g->path, "%s", path);
    cJSON *root = slm_json_parse_text(text, path, err);
    int ret = -1;
    if (!root) goto done;
    if (!cJSON_IsObject(root)) {
        slm_fail(err, "%s:1: a grid is a JSON object of dimensions (\"micro_batch\": [4, 8], …)", path);
        goto done;
    }
    g->n_points = 1;
    const cJSON *item;
    cJSON_ArrayForEach(item, root) {
        if (!strcmp(item->string, "about") && cJSON_IsString(item)) continue;  // a grid's description
        if (!strcmp(item->string, "timeout_s")) {
            if (g->timeout_s > 0) {  // set already: a key given twice is refused, as a dimension's is
                slm_fail(err, "%s: \"timeout_s\" is given twice", path);
                goto done;
            }
            if (!cJSON_IsNumber(item) || !(item->valuedouble > 0)) {
                slm_fail(err, "%s:%d: timeout_s must be a positive number of seconds", path,
                         slm_json_key_line(text, "timeout_s"));
                goto done;
            }
            g->timeout_s = item->valuedouble;
            continue;
        }
        for (int i = 0; i < g->n_dims; i++)
            if (!strcmp(g->dims[i].key, item->string)) {
                slm_fail(err, "%s: \"%s\" is given twice", path, slm_quote(item->string).text);
                goto done;
            }
        if (g->n_dims == SLM_GRID_MAX_DIMS) {
            slm_fail(err, "%s: more than %d keys", path, SLM_GRID_MAX_DIMS);
            goto done;
        }
        if (load_dim(item, text, flags, n_flags, g, err)) goto done;
        g->n_points *= g->dims[g->n_dims - 1].n;
        if (g->n_points > 100000) {
            slm_fail(err, "%s: more than 100000 points", path);
            goto done;
        }
    }
    ret = 0;
done:
    cJSON_Delete(root);
    if (ret) slm_grid_free(g);
    return ret;
}

void slm_grid_point(const slm_grid *g, int64_t i, int *choice) {
    for (int d = g->n_dims - 1; d >= 0; d--) {
        choice[d] = (int)(i % g->dims[d].n);
        i /= g->dims[d].n;
    }
}

const slm_grid_dim *slm_grid_dim_of(const slm_grid *g, const char *key) {
    for (int d = 0; d < g->n_dims; d++)
        if (!strcmp(g->dims[d].key, key)) return &g->dims[d];
    return NULL;
}

void slm_grid_free(slm_grid *g) {
    for (int d = 0; d < g->n_dims; d++) {
        for (int i = 0; i < g->dims[d].n; i++) free(g->dims[d].values[i]);
        free(g->dims[d].values);
    }
    g->n_dims = 0;
}
