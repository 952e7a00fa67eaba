// test_peak.c — the GEMM peak and its cache (core/peak.h): the backend's
// measurement is a positive rate; an entry stored under (device, dtype) is
// found again only under that key; storing again replaces it and keeps the
// others; a missing, empty or damaged cache file means "not measured"; the
// cache directory ($SLM_CACHE_DIR) is made when it does not exist.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "core/peak.h"
#include "testutil.h"

static slm_peak make_peak(double flops, const char *method) {
    slm_peak p = {flops, "", "2026-01-01T00:00:00Z"};
    snprintf(p.method, sizeof p.method, "%s", method);
    return p;
}

int main(void) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/cache/nested", t_tmpdir());
    setenv("SLM_CACHE_DIR", dir, 1);
    char path[4096];
    slm_peak_cache_path(path, sizeof path);
    t_check(strstr(path, dir) == path && strstr(path, "peak.json"), "SLM_CACHE_DIR chooses the cache file: %s", path);

    slm_backend *be = slm_backend_cpu();
    double rate = be->gemm_flops_per_s(64, 2);
    t_check(isfinite(rate) && rate > 0, "%s measures a 64^3 SGEMM at %.2f GFLOP/s (positive)", be->gemm_library(),
            rate / 1e9);
    slm_backend_destroy(be);

    slm_peak got;
    t_check(slm_peak_lookup("cpu A (2 threads)", "fp32", &got) != 0, "no cache file: no peak");

    slm_err err;
    slm_peak a = make_peak(1.5e11, "sgemm n=4096"), b = make_peak(7.0e10, "sgemm n=2048");
    int stored = slm_peak_store("cpu A (2 threads)", "fp32", &a, &err) == 0 &&
                 slm_peak_store("cpu A (1 threads)", "fp32", &b, &err) == 0;
    t_check(stored, "two peaks stored, the missing directory made");
    t_check(slm_peak_lookup("cpu A (2 threads)", "fp32", &got) == 0 && got.flops_per_s == a.flops_per_s &&
                !strcmp(got.method, a.method) && !strcmp(got.date, a.date),
            "the 2-thread peak is found with its method and date");
    t_check(slm_peak_lookup("cpu A (1 threads)", "fp32", &got) == 0 && got.flops_per_s == b.flops_per_s,
            "the 1-thread peak is kept apart from the 2-thread one");
    t_check(slm_peak_lookup("cpu A (2 threads)", "bf16", &got) != 0, "another dtype: no peak");
    t_check(slm_peak_lookup("cpu B (2 threads)", "fp32", &got) != 0, "another CPU: no peak");

    slm_peak a2 = make_peak(1.6e11, "sgemm n=4096, again");
    t_check(slm_peak_store("cpu A (2 threads)", "fp32", &a2, &err) == 0 &&
                slm_peak_lookup("cpu A (2 threads)", "fp32", &got) == 0 && got.flops_per_s == a2.flops_per_s &&
                slm_peak_lookup("cpu A (1 threads)", "fp32", &got) == 0 && got.flops_per_s == b.flops_per_s,
            "storing again replaces that entry and keeps the others");
    char line[512];
    slm_peak_describe(&a2, line, sizeof line);
    t_check(!strcmp(line, "slm peak: sgemm n=4096, again, 2026-01-01T00:00:00Z"), "described as \"%s\"", line);

    static const char *const damaged[] = {"", "{not json", "{\"peaks\": 3}",
                                          "{\"peaks\": [{\"device\": \"cpu A (2 threads)\", \"dtype\": \"fp32\", "
                                          "\"flops_per_s\": -1}]}"};
    for (size_t i = 0; i < sizeof damaged / sizeof damaged[0]; i++) {
        FILE *f = fopen(path, "w");
        fputs(damaged[i], f);
        fclose(f);
        t_check(slm_peak_lookup("cpu A (2 threads)", "fp32", &got) != 0, "cache file '%.40s': no peak", damaged[i]);
    }
    t_check(slm_peak_store("cpu A (2 threads)", "fp32", &a, &err) == 0 &&
                slm_peak_lookup("cpu A (2 threads)", "fp32", &got) == 0 && got.flops_per_s == a.flops_per_s,
            "a damaged cache file is replaced by the next store");
    return t_finish("test_peak");
}
