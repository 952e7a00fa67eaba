// memory.c — the memory tracker, common to every backend.
// Every device allocation goes through slm_alloc with a category; the tracker
// keeps current and peak bytes per category and the split at the total peak.
// An allocation that would pass --mem-limit fails like a real OOM (NULL, with
// the bytes asked recorded), so a sweep can record the OOM frontier.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "core/err.h"

struct slm_live_alloc {
    void *p;
    size_t bytes;
    slm_mem_cat cat;
};

void slm_attention_sizes(slm_attention kind, int B, int T, int H, int hd, size_t elem_bytes, size_t *saved_bytes,
                         size_t *scratch_bytes) {
    const size_t bh = (size_t)B * H, f = sizeof(float);
    if (kind == SLM_ATTN_VANILLA) {
        *saved_bytes = bh * T * T * elem_bytes;
        *scratch_bytes = bh * T * T * elem_bytes;
    } else {
        *saved_bytes = bh * T * f;
        *scratch_bytes = elem_bytes == f ? 0 : f * (bh * T * hd + bh * T);
    }
}

// The bytes an allocation may not pass: --mem-limit or the device's memory,
// whichever is smaller (0 = no cap); *by_limit says which one it is.
static size_t mem_cap(const slm_mem_tracker *t, int *by_limit) {
    *by_limit = t->limit && (!t->capacity || t->limit < t->capacity);
    return *by_limit ? t->limit : t->capacity;
}

void *slm_alloc(slm_backend *be, size_t bytes, slm_mem_cat cat) {
    slm_mem_tracker *t = &be->mem;
    if (bytes == 0) bytes = 1;
    int by_limit;
    size_t cap = mem_cap(t, &by_limit);
    if (cap && t->cur_total + bytes > cap) {
        t->oom_request = bytes;
        t->oom_cat = cat;
        return NULL;
    }
    void *p = be->raw_alloc(bytes);
    if (!p) {
        t->oom_request = bytes;
        t->oom_cat = cat;
        return NULL;
    }
    if (t->n_live == t->cap_live) {
        t->cap_live = t->cap_live ? 2 * t->cap_live : 64;
        struct slm_live_alloc *grown = realloc(t->live, (size_t)t->cap_live * sizeof *grown);
        if (!grown) slm_die(SLM_EXIT_FAIL, "out of host memory in the memory tracker");
        t->live = grown;
    }
    t->live[t->n_live++] = (struct slm_live_alloc){p, bytes, cat};
    t->cur[cat] += bytes;
    t->cur_total += bytes;
    if (t->cur[cat] > t->peak[cat]) t->peak[cat] = t->cur[cat];
    if (t->cur_total > t->peak_total) {
        t->peak_total = t->cur_total;
        memcpy(t->at_peak, t->cur, sizeof t->at_peak);
    }
    return p;
}

void slm_free(slm_backend *be, void *p) {
    if (!p) return;
    slm_mem_tracker *t = &be->mem;
    for (int i = t->n_live - 1; i >= 0; i--) {
        if (t->live[i].p != p) continue;
        t->cur[t->live[i].cat] -= t->live[i].bytes;
        t->cur_total -= t->live[i].bytes;
        t->live[i] = t->live[--t->n_live];
        be->raw_free(p);
        return;
    }
    SLM_ASSERT(0, "slm_free of a pointer the tracker does not know");
}

void slm_mem_reset_peak(slm_backend *be) {
    slm_mem_tracker *t = &be->mem;
    memcpy(t->peak, t->cur, sizeof t->peak);
    memcpy(t->at_peak, t->cur, sizeof t->at_peak);
    t->peak_total = t->cur_total;
}

void slm_mem_free_all(slm_backend *be) {
    slm_mem_tracker *t = &be->mem;
    for (int i = 0; i < t->n_live; i++) be->raw_free(t->live[i].p);
    free(t->live);
    t->live = NULL;
    t->n_live = t->cap_live = 0;
    memset(t->cur, 0, sizeof t->cur);
    t->cur_total = 0;
}

static const char *human(char *buf, size_t len, size_t bytes) {
    if (bytes >= ((size_t)1 << 30))
        snprintf(buf, len, "%.2f GiB", bytes / (1024.0 * 1024 * 1024));
    else
        snprintf(buf, len, "%.1f MiB", bytes / (1024.0 * 1024));
    return buf;
}

int slm_mem_oom(const slm_backend *be, slm_err *err, const char *what) {
    const slm_mem_tracker *t = &be->mem;
    int by_limit;
    size_t cap = mem_cap(t, &by_limit);
    char ask[32], used[32], max[32];
    human(ask, sizeof ask, t->oom_request);
    human(used, sizeof used, t->cur_total);
    if (!cap)
        return slm_fail(err, "out of memory for %s: the device refused %s (%s) with %s in use", what, ask,
                        slm_mem_cat_names[t->oom_cat], used);
    return slm_fail(err, "out of memory for %s: %s (%s) asked with %s in use, past the %s of %s", what, ask,
                    slm_mem_cat_names[t->oom_cat], used, human(max, sizeof max, cap),
                    by_limit ? "--mem-limit" : "device memory");
}
