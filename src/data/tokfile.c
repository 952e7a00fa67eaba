// tokfile.c — reading (mmap, validated at open) and writing (atomic) token
// files; the format is in tokfile.h.
#include "data/tokfile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/atomic_file.h"
#include "data/le.h"

enum { HEADER_BYTES = 32, VERSION = 1 };
static const char MAGIC[8] = {'S', 'L', 'M', 'T', 'O', 'K', 'S', '1'};

// Checks the header against the file's size; 0 or -1 with err filled.
static int check_header(const unsigned char *h, uint64_t file_bytes, const char *path, slm_err *err) {
    uint32_t version = slm_rd_le32(h + 8), width = slm_rd_le32(h + 12);
    uint64_t count = slm_rd_le64(h + 16), body_bytes = file_bytes - HEADER_BYTES;
    if (memcmp(h, MAGIC, 8))
        return slm_fail(err, "%s: not a slm token file (magic is not \"SLMTOKS1\"; make one with slm tokenize)", path);
    if (version != VERSION)
        return slm_fail(err, "%s: token file version %u is not supported (expected %d)", path, version, VERSION);
    if (width != 2 && width != 4)
        return slm_fail(err, "%s: corrupt token file: token width %u, expected 2 or 4", path, width);
    if (count > body_bytes / width)
        return slm_fail(err, "%s: truncated token file: the header says %llu tokens, the file holds %llu", path,
                        (unsigned long long)count, (unsigned long long)(body_bytes / width));
    if (body_bytes != count * width)
        return slm_fail(err, "%s: corrupt token file: %llu bytes follow the %llu tokens the header announces", path,
                        (unsigned long long)(body_bytes - count * width), (unsigned long long)count);
    return 0;
}

static int too_short(uint64_t file_bytes, const char *name, slm_err *err) {
    return slm_fail(err, "%s: not a slm token file (%llu bytes, shorter than the %d-byte header)", name,
                    (unsigned long long)file_bytes, HEADER_BYTES);
}

// The first token not below tf->vocab, or tf->count when all are.
static uint64_t first_out_of_vocab(const slm_tokfile *tf) {
    if (!tf->vocab) return tf->count;
    for (uint64_t i = 0; i < tf->count; i++)
        if (slm_tokfile_get(tf, i) >= tf->vocab) return i;
    return tf->count;
}

int slm_tokfile_open_memory(slm_tokfile *tf, const void *bytes, size_t n, const char *name, slm_err *err) {
    memset(tf, 0, sizeof *tf);
    if (n < HEADER_BYTES) return too_short(n, name, err);
    const unsigned char *h = bytes;
    if (check_header(h, n, name, err)) return -1;
    tf->width = (int)slm_rd_le32(h + 12);
    tf->count = slm_rd_le64(h + 16);
    tf->vocab = slm_rd_le32(h + 24);
    tf->data = h + HEADER_BYTES;
    uint64_t bad = first_out_of_vocab(tf);
    if (bad < tf->count) {
        uint32_t token = slm_tokfile_get(tf, bad), vocab = tf->vocab;
        memset(tf, 0, sizeof *tf);
        return slm_fail(err, "%s: corrupt token file: token %llu is %u, not below the vocabulary %u in the header",
                        name, (unsigned long long)bad, token, vocab);
    }
    return 0;
}

int slm_tokfile_open(slm_tokfile *tf, const char *path, slm_err *err) {
    memset(tf, 0, sizeof *tf);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return slm_fail(err, "cannot open token file %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st)) {
        int e = errno;
        close(fd);
        return slm_fail(err, "cannot stat token file %s: %s", path, strerror(e));
    }
    if (st.st_size < HEADER_BYTES) {
        close(fd);
        return too_short((uint64_t)st.st_size, path, err);
    }
    size_t bytes = (size_t)st.st_size;
    void *map = mmap(NULL, bytes, PROT_READ, MAP_PRIVATE, fd, 0);
    int map_errno = errno;
    close(fd);
    if (map == MAP_FAILED) return slm_fail(err, "cannot map token file %s: %s", path, strerror(map_errno));
    if (slm_tokfile_open_memory(tf, map, bytes, path, err)) {
        munmap(map, bytes);
        return -1;
    }
    tf->map = map;
    tf->map_bytes = bytes;
    return 0;
}

uint32_t slm_tokfile_get(const slm_tokfile *tf, uint64_t i) {
    const unsigned char *p = tf->data + i * (uint64_t)tf->width;
    return tf->width == 2 ? (uint32_t)p[0] | (uint32_t)p[1] << 8 : slm_rd_le32(p);
}

void slm_tokfile_close(slm_tokfile *tf) {
    if (tf->map) munmap(tf->map, tf->map_bytes);
    memset(tf, 0, sizeof *tf);
}

int slm_tokfile_write(const char *path, const uint32_t *tokens, uint64_t n, uint32_t vocab, slm_err *err) {
    const int width = vocab && vocab <= 65536 ? 2 : 4;
    for (uint64_t i = 0; vocab && i < n; i++)
        if (tokens[i] >= vocab)
            return slm_fail(err, "cannot write token file %s: token %llu is %u, not below the vocabulary %u", path,
                            (unsigned long long)i, tokens[i], vocab);
    slm_atomic_file af;
    if (slm_atomic_open(&af, path, "token file", err)) return -1;
    unsigned char h[HEADER_BYTES] = {0};
    memcpy(h, MAGIC, 8);
    slm_wr_le32(h + 8, VERSION);
    slm_wr_le32(h + 12, (uint32_t)width);
    slm_wr_le64(h + 16, n);
    slm_wr_le32(h + 24, vocab);
    int bad = fwrite(h, 1, HEADER_BYTES, af.f) != HEADER_BYTES;
    enum { CHUNK_TOKENS = 4096 };
    unsigned char buf[CHUNK_TOKENS * 4];
    for (uint64_t i = 0; i < n && !bad; i += CHUNK_TOKENS) {
        size_t m = n - i < CHUNK_TOKENS ? (size_t)(n - i) : CHUNK_TOKENS;
        for (size_t j = 0; j < m; j++)
            for (int b = 0; b < width; b++) buf[j * width + b] = (unsigned char)(tokens[i + j] >> (8 * b));
        bad = fwrite(buf, (size_t)width, m, af.f) != m;
    }
    return slm_atomic_commit(&af, bad, err);
}
