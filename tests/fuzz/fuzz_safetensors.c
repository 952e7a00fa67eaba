// fuzz_safetensors.c — a libFuzzer target of the safetensors reader: any bytes
// into slm_st_parse (model/safetensors.h), then every tensor it accepts
// widened to fp32, so a read outside the buffer is a crash under ASan. Built
// only with -DSLM_FUZZ=ON and clang (CMakeLists.txt), from the reader's own
// sources; tests/test_safetensors.c runs random damages of a good file in
// every build. To run it (a corpus of the fixtures' files, one name each):
//   cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DSLM_FUZZ=ON
//   cmake --build build-fuzz --target fuzz_safetensors
//   mkdir -p /tmp/st-corpus; i=0
//   for f in tests/data/hf/*/*.safetensors; do i=$((i+1)); cp "$f" /tmp/st-corpus/$i; done
//   build-fuzz/fuzz_safetensors -max_total_time=300 /tmp/st-corpus
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
