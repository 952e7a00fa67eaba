#include "core/jsonl.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int slm_jsonl_torn(const char *line, size_t len) {
    if (len && line[len - 1] == '\n') return 0;
    char *text = slm_xmalloc(len + 1);
    memcpy(text, line, len);
    text[len] = 0;
    cJSON *v = cJSON_Parse(text);
    free(text);
    cJSON_Delete(v);
    return v == NULL;
}

void slm_jsonl_say_torn(const char *path, long long at, size_t len, const char *done) {
    slm_warn("%s: torn last line at byte %lld (%zu bytes without a newline, not valid JSON: a write cut short); %s",
             path, at, len, done);
}

int slm_jsonl_cut(const char *path, long long at, size_t len, slm_err *err) {
    if (truncate(path, (off_t)at))
        return slm_fail(err, "%s ends in a torn line at byte %lld that cannot be removed: %s", path, at,
                        strerror(errno));
    slm_jsonl_say_torn(path, at, len, "removed it");
    return 0;
}

// Where the last line of a file of `size` bytes begins: after its last newline.
static off_t last_line_at(int fd, off_t size) {
    char buf[4096];
    for (off_t end = size; end > 0;) {
        off_t begin = end > (off_t)sizeof buf ? end - (off_t)sizeof buf : 0;
        ssize_t n = pread(fd, buf, (size_t)(end - begin), begin);
        if (n != end - begin) return 0;
        for (ssize_t i = n - 1; i >= 0; i--)
            if (buf[i] == '\n') return begin + i + 1;
        end = begin;
    }
    return 0;
}

// Makes a regular file end at the end of a line before an append: a torn
// final line is cut off; *lead is 1 when the final line is whole but lacks its
// newline (the append then starts with one).
static int end_at_line(int fd, const char *path, int *lead, slm_err *err) {
    struct stat st;
    *lead = 0;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size == 0) return 0;
    const off_t at = last_line_at(fd, st.st_size);
    const size_t len = (size_t)(st.st_size - at);
    if (len == 0) return 0;  // it ends in a newline
    char *tail = slm_xmalloc(len);
    int got = pread(fd, tail, len, at) == (ssize_t)len;
    int torn = got && slm_jsonl_torn(tail, len), whole = got && tail[len - 1] == '\n';
    free(tail);
    if (!got) return slm_fail(err, "cannot read the end of %s: %s", path, strerror(errno));
    *lead = !whole && !torn;
    return torn ? slm_jsonl_cut(path, (long long)at, len, err) : 0;
}

// Truncates fd back to before the `put` bytes just appended (when nothing was appended after them); 0 when the
// file is as it was.
static int undo(int fd, ssize_t put) {
    struct stat st;
    if (put <= 0) return 0;
    off_t end = lseek(fd, 0, SEEK_CUR);  // O_APPEND: just past the bytes this write put
    if (end < put || fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size != end) return -1;
    return ftruncate(fd, end - put) ? -1 : 0;
}

int slm_jsonl_append(const char *path, const char *line, const char *what, slm_err *err) {
    size_t len = strlen(line);
    while (len && line[len - 1] == '\n') len--;
    int fd = open(path, O_RDWR | O_CREAT | O_APPEND, 0644), lead;
    if (fd < 0) return slm_fail(err, "cannot append %s to %s: %s", what, path, strerror(errno));
    if (end_at_line(fd, path, &lead, err)) {
        close(fd);
        return -1;
    }
    char *buf = slm_xmalloc(len + 2);  // a newline first when the file's last line lacks one
    buf[0] = '\n';
    memcpy(buf + 1, line, len);
    buf[len + 1] = '\n';
    const size_t n = len + 1 + (size_t)lead;
    ssize_t put = write(fd, buf + 1 - lead, n);
    int e = put < 0 ? errno : 0;
    if (put == (ssize_t)n && fsync(fd) && errno != EINVAL) e = errno;  // EINVAL: a pipe or a device, nothing to sync
    free(buf);
    int failed = put != (ssize_t)n || e, undone = failed && undo(fd, put) == 0;
    if (close(fd) && !failed) return slm_fail(err, "cannot append %s to %s: %s", what, path, strerror(errno));
    if (!failed) return 0;
    char why[96];
    if (e)
        snprintf(why, sizeof why, "%s", strerror(e));
    else
        snprintf(why, sizeof why, "%zd of %zu bytes written (disk full?)", put, n);
    return slm_fail(err, "cannot append %s to %s: %s; %s", what, path, why,
                    undone ? "the file is left as it was" : "it may end in a torn line, which readers skip");
}
