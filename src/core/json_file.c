#include "core/json_file.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/atomic_file.h"

char *slm_read_text_file(const char *path, const char *what, long max_bytes, slm_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        slm_fail(err, "cannot open %s %s", what, path);
        return NULL;
    }
    long n = fseek(f, 0, SEEK_END) ? -1 : ftell(f);
    if (n < 0 || n > max_bytes || fseek(f, 0, SEEK_SET)) {
        fclose(f);
        slm_fail(err, "%s: not a %s (larger than %ld bytes, or not a regular file)", path, what, max_bytes);
        return NULL;
    }
    char *text = slm_xmalloc((size_t)n + 1);
    size_t got = fread(text, 1, (size_t)n, f);
    fclose(f);
    if (got != (size_t)n) {
        free(text);
        slm_fail(err, "cannot read %s %s", what, path);
        return NULL;
    }
    text[n] = 0;
    return text;
}

static int line_of(const char *text, const char *at) {
    int line = 1;
    for (const char *p = text; p < at && *p; p++) line += *p == '\n';
    return line;
}

cJSON *slm_json_parse_text(const char *text, const char *path, slm_err *err) {
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (root) return root;
    const char *at = end && *end ? end : text + strlen(text);
    char near[24];
    int k = 0;
    for (const char *p = at; *p && *p != '\n' && k < 20; p++) near[k++] = *p;
    near[k] = 0;
    if (near[0])
        slm_fail(err, "%s:%d: not valid JSON near '%s'", path, line_of(text, at), slm_quote(near).text);
    else
        slm_fail(err, "%s:%d: not valid JSON (it ends too soon)", path, line_of(text, at));
    return NULL;
}

cJSON *slm_json_read_file(const char *path, const char *what, slm_err *err) {
    char *text = slm_read_text_file(path, what, SLM_JSON_MAX_BYTES, err);
    if (!text) return NULL;
    cJSON *root = slm_json_parse_text(text, path, err);
    free(text);
    return root;
}

int slm_json_key_line(const char *text, const char *key) {
    size_t len = strlen(key);
    for (const char *p = strchr(text, '"'); p; p = strchr(p + 1, '"')) {
        if (strncmp(p + 1, key, len) || p[len + 1] != '"') continue;
        const char *q = p + len + 2;
        while (isspace((unsigned char)*q)) q++;
        if (*q == ':') return line_of(text, p);
    }
    return 0;
}

int slm_json_write_file(const char *path, const char *what, const cJSON *root, slm_err *err) {
    char *text = cJSON_Print(root);
    if (!text) slm_die(SLM_EXIT_FAIL, "out of host memory printing the %s %s", what, path);
    slm_atomic_file af;
    if (slm_atomic_open(&af, path, what, err)) {
        free(text);
        return -1;
    }
    int failed = fputs(text, af.f) < 0 || fputc('\n', af.f) == EOF;
    free(text);
    return slm_atomic_commit(&af, failed, err);
}
