// hf_normalizer.c — tokenizer.json's normalizer: none or NFC (hf_normalizer.h).
#include "data/hf_normalizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "data/hf_json.h"

// The normalizer node, or an item of a Sequence: 0 with *nfc set, or -1.
static int read_node(const cJSON *node, const char *where, const char *path, int *nfc, slm_err *err) {
    const slm_hfj at = {path, where, err};
    const char *type;
    if (slm_hfj_type(&at, node, &type)) return -1;
    if (!strcmp(type, "NFC")) return (*nfc = 1, 0);
    if (strcmp(type, "Sequence"))
        return slm_fail(err, "%s: %s: the normalizer %.40s is not supported (only NFC, or none)", path, where, type);
    const cJSON *list = slm_hfj_get(node, "normalizers");
    if (!cJSON_IsArray(list)) return slm_fail(err, "%s: %s.normalizers must be a list", path, where);
    int i = 0;
    for (const cJSON *item = list->child; item; item = item->next, i++) {
        char inner[160];
        snprintf(inner, sizeof inner, "%s.normalizers[%d]", where, i);
        if (read_node(item, inner, path, nfc, err)) return -1;
    }
    return 0;
}

int slm_hf_normalizer_parse(const cJSON *node, const char *path, int *nfc, slm_err *err) {
    *nfc = 0;
    return node ? read_node(node, "normalizer", path, nfc, err) : 0;
}

unsigned char *slm_hf_nfc(const unsigned char *s, size_t n, size_t *out_n) {
    utf8proc_uint8_t *out = NULL;
    utf8proc_ssize_t m = utf8proc_map(s, (utf8proc_ssize_t)n, &out, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    if (m == UTF8PROC_ERROR_NOMEM) slm_die(SLM_EXIT_FAIL, "out of host memory normalizing %zu bytes of text", n);
    SLM_ASSERT(m >= 0, "utf8proc cannot normalize valid UTF-8: %s", utf8proc_errmsg(m));
    *out_n = (size_t)m;
    return out;
}
