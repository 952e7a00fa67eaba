// byte_level.c — the byte-level alphabet of byte_level.h, in closed form.
#include "data/byte_level.h"

#include "data/utf8.h"

static int printable(uint32_t b) {
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

// The others in order: 0x00–0x20 (33 bytes), 0x7F–0xA0 (34), 0xAD (1).
uint32_t slm_byte_level_char(unsigned char b) {
    if (printable(b)) return b;
    if (b <= 0x20) return 0x100u + b;
    if (b <= 0xA0) return 0x100u + 33 + (b - 0x7Fu);
    return 0x100u + 67;  // 0xAD
}

int slm_byte_level_byte(uint32_t cp) {
    if (printable(cp)) return (int)cp;
    if (cp >= 0x100 && cp < 0x100 + 33) return (int)(cp - 0x100);
    if (cp >= 0x100 + 33 && cp < 0x100 + 67) return (int)(cp - 0x100 - 33 + 0x7F);
    if (cp == 0x100 + 67) return 0xAD;
    return -1;
}

size_t slm_byte_level_map(const unsigned char *s, size_t n, unsigned char *out) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += slm_utf8_put(out + k, slm_byte_level_char(s[i]));
    return k;
}

long slm_byte_level_unmap(const unsigned char *s, size_t n, unsigned char *out) {
    long k = 0;
    for (size_t i = 0; i < n;) {
        int valid;
        slm_utf8_seq_len(s, n, i, &valid);
        if (!valid) return -1;
        int b = slm_byte_level_byte(slm_utf8_next(s, &i));
        if (b < 0) return -1;
        out[k++] = (unsigned char)b;
    }
    return k;
}
