// checkpoint_leftovers.c — removing what unfinished saves of a checkpoint
// left (checkpoint_leftovers.h).
#include "train/checkpoint_leftovers.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "train/checkpoint_manifest.h"

// Whether s is the tail ".tmp.<pid>" slm_atomic_open gives a temporary (the
// pid in decimal, no leading zero, within pid_t) of a process that is gone.
static int dead_tmp_tail(const char *s) {
    static const char TMP[] = ".tmp.";
    if (strncmp(s, TMP, sizeof TMP - 1)) return 0;
    s += sizeof TMP - 1;
    size_t n = strlen(s);
    if (n == 0 || n > 10 || s[0] == '0' || strspn(s, "0123456789") != n) return 0;
    long long pid = strtoll(s, NULL, 10);
    return pid <= INT_MAX && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

// The length of the shard name of `base` that `name` begins with, exactly as
// slm_ckpt_shard_name writes it (rank below a count of 2 or more); 0 when none.
static size_t shard_prefix(const char *base, const char *name) {
    size_t nb = strlen(base);
    unsigned long long step, id;
    int r, W, n = 0;
    if (strncmp(name, base, nb) || sscanf(name + nb, ".step%llu.%8llx.rank%d-of-%d%n", &step, &id, &r, &W, &n) != 4 ||
        r < 0 || W < 2 || r >= W)
        return 0;
    char again[4096];
    slm_ckpt_shard_name(again, sizeof again, base, step, id, r, W);
    size_t len = strlen(again);
    return len == nb + (size_t)n && !strncmp(again, name, len) ? len : 0;
}

static int named_by(const cJSON *shards, const char *name) {
    const cJSON *s;
    cJSON_ArrayForEach(s, shards) if (cJSON_IsString(s) && !strcmp(s->valuestring, name)) return 1;
    return 0;
}

// Whether the file `name` beside the checkpoint `base` is a leftover of an
// unfinished save. judge_shards: whether shards can be judged at all; named:
// the shards the manifest names (NULL: none).
static int is_leftover(const char *base, const char *name, int judge_shards, const cJSON *named) {
    size_t nb = strlen(base), shard = shard_prefix(base, name);
    if (!strncmp(name, base, nb) && dead_tmp_tail(name + nb)) return 1;
    if (!shard) return 0;
    if (name[shard]) return dead_tmp_tail(name + shard);
    return judge_shards && !named_by(named, name);
}

static int holds_json(const char *path) {
    FILE *f = fopen(path, "rb");
    int first = f ? fgetc(f) : EOF;
    if (f) fclose(f);
    return first == '{';
}

void slm_ckpt_remove_leftovers(const char *path, FILE *say) {
    char dir[4096], file[8192];
    slm_ckpt_dir_of(dir, sizeof dir, path);
    const char *base = path + strlen(dir);
    if (!*base) return;  // a directory: no checkpoint's name
    cJSON *root;
    const cJSON *named = slm_ckpt_manifest_shards(&root, path);
    const int judge_shards = named || !holds_json(path);
    DIR *d = opendir(dir[0] ? dir : ".");
    for (struct dirent *e; d && (e = readdir(d));) {
        struct stat st;
        snprintf(file, sizeof file, "%s%s", dir, e->d_name);
        if (!is_leftover(base, e->d_name, judge_shards, named) || lstat(file, &st) || !S_ISREG(st.st_mode)) continue;
        if (unlink(file))
            fprintf(say, "cannot remove %s, left by a save of %s that did not finish: %s\n", file, path,
                    strerror(errno));
        else
            fprintf(say, "removed %s (%lld bytes), left by a save of %s that did not finish\n", file,
                    (long long)st.st_size, path);
    }
    if (d) closedir(d);
    cJSON_Delete(root);
}
