// path.c — path.h over stat(2).
#include "core/path.h"

#include <string.h>
#include <sys/stat.h>

int slm_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int slm_path_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

int slm_ends_with(const char *s, const char *suffix) {
    const size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}
