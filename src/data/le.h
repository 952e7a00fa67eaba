// le.h — little-endian reads and writes of the integers in slm.c's data files
// (token files, tokenizers), so a file means the same on any host.
#pragma once
#include <stdint.h>

static inline uint32_t slm_rd_le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t slm_rd_le64(const unsigned char *p) {
    return (uint64_t)slm_rd_le32(p) | (uint64_t)slm_rd_le32(p + 4) << 32;
}

static inline void slm_wr_le32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static inline void slm_wr_le64(unsigned char *p, uint64_t v) {
    slm_wr_le32(p, (uint32_t)v);
    slm_wr_le32(p + 4, (uint32_t)(v >> 32));
}
