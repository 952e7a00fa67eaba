// fuzz_tokfile.c — the token file reader (data/tokfile.c) on any bytes: it
// must refuse with a message or accept a file whose every token it can
// return and is below the header's vocabulary.
#include "data/tokfile.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    slm_tokfile tf;
    slm_err err;
    fuzz_err_clear(&err);
    if (slm_tokfile_open_memory(&tf, data, size, "fuzz.tok", &err)) {
        fuzz_check_refusal(&err, "the token file reader");
        return 0;
    }
    if (32 + tf.count * (uint64_t)tf.width != size)
        fuzz_fail("accepted %llu tokens in %zu bytes", (unsigned long long)tf.count, size);
    for (uint64_t i = 0; i < tf.count; i++) {
        uint32_t t = slm_tokfile_get(&tf, i);
        if (tf.vocab && t >= tf.vocab)
            fuzz_fail("token %llu is %u, not below the vocabulary %u", (unsigned long long)i, t, tf.vocab);
    }
    slm_tokfile_close(&tf);
    return 0;
}
