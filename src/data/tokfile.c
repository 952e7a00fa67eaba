// tokfile.c — reading (mmap) and writing token files (tokfile.h).
#include "data/tokfile.h"

#include "core/atomic_file.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum { HEADER_BYTES = 32, VERSION = 1 };
static const char MAGIC[8] = {'S', 'L', 'M', 'T', 'O', 'K', 'S', '1'};

static uint32_t rd32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const unsigned char *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

int slm_tokfile_open(slm_tokfile *tf, const char *path, slm_err *err) {
    memset(tf, 0, sizeof *tf);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return slm_fail(err, "cannot open token file %s", path);
    struct stat st;
    if (fstat(fd, &st) || st.st_size < HEADER_BYTES) {
        close(fd);
        return slm_fail(err, "%s: not a slm token file (shorter than the %d-byte header)", path, HEADER_BYTES);
    }
    size_t bytes = (size_t)st.st_size;
    void *map = mmap(NULL, bytes, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return slm_fail(err, "%s: cannot map the token file", path);
    const unsigned char *h = map;
    int rc = 0;
    uint32_t version = rd32(h + 8), width = rd32(h + 12);
    uint64_t count = rd64(h + 16);
    uint32_t vocab = rd32(h + 24);
    if (memcmp(h, MAGIC, 8))
        rc = slm_fail(err, "%s: not a slm token file (bad magic; make one with slm tokenize)", path);
    else if (version != VERSION)
        rc = slm_fail(err, "%s: token file version %u is not supported (expected %d)", path, version, VERSION);
    else if (width != 2 && width != 4)
        rc = slm_fail(err, "%s: corrupt token file (token width %u, expected 2 or 4)", path, width);
    else if (count > (bytes - HEADER_BYTES) / width || bytes != HEADER_BYTES + count * width)
        rc = slm_fail(err, "%s: truncated token file: the header says %llu tokens, the file holds %llu", path,
                      (unsigned long long)count, (unsigned long long)((bytes - HEADER_BYTES) / width));
    if (rc) {
        munmap(map, bytes);
        return rc;
    }
    tf->width = (int)width;
    tf->count = count;
    tf->vocab = vocab;
    tf->data = h + HEADER_BYTES;
    tf->map = map;
    tf->map_bytes = bytes;
    if (vocab)
        for (uint64_t i = 0; i < count; i++) {
            uint32_t t = slm_tokfile_get(tf, i);
            if (t >= vocab) {
                slm_tokfile_close(tf);
                return slm_fail(err, "%s: corrupt token file: token %llu is %u, not below the vocabulary %u", path,
                                (unsigned long long)i, t, vocab);
            }
        }
    return 0;
}

uint32_t slm_tokfile_get(const slm_tokfile *tf, uint64_t i) {
    const unsigned char *p = tf->data + i * (uint64_t)tf->width;
    return tf->width == 2 ? (uint32_t)p[0] | (uint32_t)p[1] << 8 : rd32(p);
}

void slm_tokfile_close(slm_tokfile *tf) {
    if (tf->map) munmap(tf->map, tf->map_bytes);
    memset(tf, 0, sizeof *tf);
}

static void wr32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

int slm_tokfile_write(const char *path, const uint32_t *tokens, uint64_t n, uint32_t vocab, slm_err *err) {
    const int width = vocab && vocab <= 65536 ? 2 : 4;
    slm_atomic_file af;
    if (slm_atomic_open(&af, path, "token file", err)) return -1;
    FILE *f = af.f;
    unsigned char h[HEADER_BYTES] = {0};
    memcpy(h, MAGIC, 8);
    wr32(h + 8, VERSION);
    wr32(h + 12, (uint32_t)width);
    wr32(h + 16, (uint32_t)n);
    wr32(h + 20, (uint32_t)(n >> 32));
    wr32(h + 24, vocab);
    int bad = fwrite(h, 1, HEADER_BYTES, f) != HEADER_BYTES;
    enum { CHUNK = 1 << 16 };
    unsigned char buf[CHUNK * 4];
    for (uint64_t i = 0; i < n && !bad; i += CHUNK) {
        uint64_t m = n - i < CHUNK ? n - i : CHUNK;
        for (uint64_t j = 0; j < m; j++) {
            uint32_t t = tokens[i + j];
            for (int b = 0; b < width; b++) buf[j * width + b] = (unsigned char)(t >> (8 * b));
        }
        bad = fwrite(buf, (size_t)width, m, f) != m;
    }
    return slm_atomic_commit(&af, bad, err);
}
