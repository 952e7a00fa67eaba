#include "core/data_path.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char *slm_data_path(const char *name, char *out, size_t len) {
    int n = snprintf(out, len, "data/%s", name);
    if (n > 0 && (size_t)n < len && access(out, R_OK) == 0) return out;
    size_t tail = strlen("/../data/") + strlen(name) + 1;  // what follows the binary's directory
    if (len <= tail) return NULL;
    ssize_t got = readlink("/proc/self/exe", out, len - tail);
    if (got <= 0) return NULL;
    out[got] = 0;
    char *slash = strrchr(out, '/');
    if (!slash) return NULL;
    snprintf(slash, len - (size_t)(slash - out), "/../data/%s", name);
    return access(out, R_OK) == 0 ? out : NULL;
}
