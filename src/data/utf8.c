// utf8.c — UTF-8 lengths, repair, decoding and encoding, and White_Space (utf8.h).
#include "data/utf8.h"

#include <string.h>

#include "core/err.h"

// The range of the second byte of a sequence led by b (Unicode 15, table 3-7);
// every later byte is 80..BF. Returns the sequence's length, 0 for a byte that
// cannot lead one.
static size_t lead(unsigned char b, unsigned char *lo, unsigned char *hi) {
    *lo = 0x80, *hi = 0xBF;
    if (b < 0x80) return 1;
    if (b < 0xC2) return 0;
    if (b < 0xE0) return 2;
    if (b < 0xF0) {
        if (b == 0xE0) *lo = 0xA0;
        if (b == 0xED) *hi = 0x9F;  // no surrogates
        return 3;
    }
    if (b > 0xF4) return 0;
    if (b == 0xF0) *lo = 0x90;
    if (b == 0xF4) *hi = 0x8F;  // nothing past U+10FFFF
    return 4;
}

size_t slm_utf8_seq_len(const unsigned char *s, size_t n, size_t i, int *valid) {
    unsigned char lo, hi;
    size_t want = lead(s[i], &lo, &hi), k = 1;
    *valid = 0;
    if (!want) return 1;
    for (; k < want; k++) {
        if (i + k >= n || s[i + k] < lo || s[i + k] > hi) return k;
        lo = 0x80, hi = 0xBF;
    }
    *valid = 1;
    return want;
}

unsigned char *slm_utf8_repair(const unsigned char *s, size_t n, size_t *out_n, size_t *n_replaced) {
    size_t i = 0, len = 0;
    int valid = 1;
    while (i < n && (len = slm_utf8_seq_len(s, n, i, &valid), valid)) i += len;
    *n_replaced = 0;
    if (i == n) return NULL;
    unsigned char *out = slm_xmalloc(3 * n), *p = out;  // each bad byte becomes at most 3
    memcpy(p, s, i);
    p += i;
    for (; i < n; i += len) {
        len = slm_utf8_seq_len(s, n, i, &valid);
        if (valid) {
            memcpy(p, s + i, len);
            p += len;
        } else {
            p += slm_utf8_put(p, 0xFFFD);
            ++*n_replaced;
        }
    }
    *out_n = (size_t)(p - out);
    return out;
}

uint32_t slm_utf8_next(const unsigned char *s, size_t *i) {
    const unsigned char *p = s + *i;
    if (p[0] < 0x80) return (*i += 1, p[0]);
    if (p[0] < 0xE0) return (*i += 2, (uint32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F));
    if (p[0] < 0xF0) return (*i += 3, (uint32_t)(p[0] & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F));
    *i += 4;
    return (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 | (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
}

size_t slm_utf8_put(unsigned char *out, uint32_t cp) {
    if (cp < 0x80) return (out[0] = (unsigned char)cp, 1);
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | cp >> 6);
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | cp >> 12);
        out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | cp >> 18);
    out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

int slm_utf8_is_white_space(uint32_t cp) {
    // PropList.txt, White_Space (unchanged since Unicode 6.3)
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
           cp == 0x3000;
}
