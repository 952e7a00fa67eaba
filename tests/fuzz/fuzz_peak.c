// fuzz_peak.c — the peak cache reader (core/peak.c) on any bytes, as the
// cache file in SLM_CACHE_DIR (the reader takes no path). A peak it finds
// must be a positive finite FLOP/s; a peak stored over the file must then
// be found, and one found before must still be.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/peak.h"
#include "fuzz.h"

static const char *const devices[] = {"AMD EPYC (2 threads)", "NVIDIA H100 80GB HBM3"};
static const char *const dtypes[] = {"fp32", "bf16"};

static int lookup(int d, int t, slm_peak *p) {
    if (slm_peak_lookup(devices[d], dtypes[t], p)) return -1;
    if (!(p->flops_per_s > 0) || !isfinite(p->flops_per_s))
        fuzz_fail("the peak of '%s' %s is %g FLOP/s", devices[d], dtypes[t], p->flops_per_s);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[4096];
    fuzz_path(path, sizeof path, "peak.json");
    setenv("SLM_CACHE_DIR", fuzz_dir(), 1);
    fuzz_write_file(path, data, size);
    slm_peak before, after, stored = {1.5e11, "fuzz", "2024-01-01T00:00:00Z"};
    int had = lookup(0, 0, &before) == 0;
    lookup(1, 1, &after);
    slm_err err;
    fuzz_err_clear(&err);
    if (slm_peak_store(devices[1], dtypes[1], &stored, &err)) {
        fuzz_check_refusal(&err, "the peak cache writer");
        return 0;
    }
    if (lookup(1, 1, &after) || after.flops_per_s != stored.flops_per_s) fuzz_fail("the peak stored is not found");
    if (had && (lookup(0, 0, &after) || !fuzz_same_number(after.flops_per_s, before.flops_per_s) ||
                strcmp(after.method, before.method)))
        fuzz_fail("storing another entry lost the peak of '%s' %s", devices[0], dtypes[0]);
    return 0;
}
