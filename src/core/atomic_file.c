#include "core/atomic_file.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int slm_atomic_open(slm_atomic_file *af, const char *path, const char *what, slm_err *err) {
    snprintf(af->tmp, sizeof af->tmp, "%s.tmp.%ld", path, (long)getpid());
    af->path = path;
    af->what = what;
    af->f = fopen(af->tmp, "wb");
    if (!af->f) return slm_fail(err, "cannot write %s %s (does the directory exist, is it writable?)", what, af->tmp);
    return 0;
}

int slm_atomic_commit(slm_atomic_file *af, int failed, slm_err *err) {
    failed = failed || fflush(af->f) || fsync(fileno(af->f));
    if (fclose(af->f) || failed) {
        remove(af->tmp);
        return slm_fail(err, "writing %s %s failed (disk full?)", af->what, af->tmp);
    }
    if (rename(af->tmp, af->path)) {
        remove(af->tmp);
        return slm_fail(err, "cannot rename %s to %s", af->tmp, af->path);
    }
    // the rename itself reaches the disk with the directory
    char dir[4096];
    const char *slash = strrchr(af->path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - af->path) + 1 : 1, slash ? af->path : ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    return 0;
}
