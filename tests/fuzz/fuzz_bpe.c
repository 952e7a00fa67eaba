// fuzz_bpe.c — the tokenizer reader (data/bpe.c) on any bytes; a tokenizer
// it accepts must encode and decode: any text, the input's own bytes
// included, round-trips exactly, and every id of the vocabulary has bytes.
#include <stdlib.h>
#include <string.h>

#include "data/bpe.h"
#include "fuzz.h"

static void round_trip(const slm_bpe *t, const unsigned char *text, size_t n) {
    size_t n_tokens, n_bytes;
    uint32_t *ids = slm_bpe_encode(t, text, n, &n_tokens);
    if (n_tokens > n) fuzz_fail("%zu bytes encode to %zu tokens", n, n_tokens);
    unsigned char *back = slm_bpe_decode(t, ids, n_tokens, &n_bytes);
    if (n_bytes != n || (n && memcmp(back, text, n))) fuzz_fail("%zu bytes decode back to %zu other bytes", n, n_bytes);
    free(back);
    free(ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    slm_bpe *t = NULL;
    slm_err err;
    fuzz_err_clear(&err);
    if (slm_bpe_load_memory(&t, data, size, "fuzz.bpe", &err)) {
        fuzz_check_refusal(&err, "the tokenizer reader");
        return 0;
    }
    for (int id = 0; id < slm_bpe_vocab_size(t); id++) {
        size_t len;
        if (!slm_bpe_token_bytes(t, (uint32_t)id, &len) || !len) fuzz_fail("token %d has no bytes", id);
    }
    static const char sample[] = "Hello, world! It's 2024: tokens\tand  spaces\n\xc3\xa9t\xc3\xa9 1234567 ...";
    round_trip(t, (const unsigned char *)sample, sizeof sample - 1);
    round_trip(t, data, size);
    slm_bpe_free(t);
    return 0;
}
