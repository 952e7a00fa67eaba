// fuzz_safetensors.c — a libFuzzer target of the safetensors reader: any bytes
// into slm_st_parse (model/safetensors.h), then every tensor it accepts
// widened to fp32, so a read outside the buffer is a crash under ASan. Its
// seed corpus (tests/fuzz/corpus/safetensors) is a shard and the bf16 file of
// the Hugging Face fixtures; tests/test_safetensors.c also runs random
// damages of a good file in every build. Run as the others (docs/fuzzing.md).
#include <stdint.h>
#include <stdlib.h>

#include "model/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    slm_st_file f;
    slm_err err;
    if (slm_st_parse(&f, data, size, "fuzz", &err)) return 0;
    for (int i = 0; i < f.n; i++) {
        float *out = malloc(slm_st_numel(&f.t[i]) * sizeof(float) + 1);
        if (out) slm_st_to_f32(&f.t[i], out);
        free(out);
    }
    slm_st_close(&f);
    return 0;
}
