// test_predict_hw.c — the hardware catalog: data/hardware.json loads with the
// datasheet figures, backend device strings match their entries, and a bad
// file is refused with an error naming the field.
#include <stdio.h>
#include <string.h>

#include "measure/hardware.h"
#include "testutil.h"

static void expect_refused(const char *name, const char *json, const char *field) {
    t_write_file(name, json, strlen(json));
    slm_hw_catalog cat;
    slm_err err = {{0}};
    int rc = slm_hw_load(t_tmp_path(name), &cat, &err);
    t_check(rc == -1 && strstr(err.msg, field) != NULL, "%s refused naming %s: %s", name, field, err.msg);
}

int main(void) {
    slm_hw_catalog cat;
    slm_err err;
    int rc = slm_hw_load(t_source_path("data/hardware.json"), &cat, &err);
    t_check(rc == 0 && cat.n >= 5, "data/hardware.json loads (%d devices)%s%s", cat.n, rc ? ": " : "",
            rc ? err.msg : "");
    if (rc) return t_finish("test_predict_hw");
    const slm_hw *a40 = slm_hw_find(&cat, "A100-40GB"), *a80 = slm_hw_find(&cat, "a100-80gb"),
                 *h100 = slm_hw_find(&cat, "H100-80GB"), *h200 = slm_hw_find(&cat, "H200");
    t_check(a40 && a40->peak_bf16_flops_per_s == 312e12 && a40->peak_fp32_flops_per_s == 19.5e12 &&
                a40->mem_bytes == 40e9 && a40->mem_bw_bytes_per_s == 1555e9,
            "A100-40GB: 312 TFLOP/s bf16, 19.5 fp32, 40 GB at 1555 GB/s");
    t_check(a80 && a80->mem_bw_bytes_per_s == 2039e9 && a80->mem_bytes == 80e9, "A100-80GB: 80 GB at 2039 GB/s");
    t_check(h100 && h100->peak_bf16_flops_per_s == 989.4e12 && h100->peak_fp32_flops_per_s == 66.9e12 &&
                h100->mem_bw_bytes_per_s == 3350e9 && h100->intra_bw_bytes_per_s == 450e9,
            "H100-80GB: 989.4 TFLOP/s bf16, 66.9 fp32, 3.35 TB/s, NVLink 450 GB/s each way");
    t_check(h200 && h200->mem_bytes == 141e9 && h200->mem_bw_bytes_per_s == 4800e9, "H200: 141 GB at 4.8 TB/s");
    t_check(slm_hw_peak(h100, SLM_BF16) == 989.4e12 && slm_hw_peak(h100, SLM_F32) == 66.9e12, "peak by dtype");
    static const struct {
        const char *device, *entry;
    } names[] = {{"NVIDIA H100 80GB HBM3", "H100-80GB"},
                 {"NVIDIA A100-SXM4-40GB", "A100-40GB"},
                 {"NVIDIA A100-SXM4-80GB", "A100-80GB"},
                 {"NVIDIA A100 80GB PCIe", "A100-80GB"},
                 {"NVIDIA H200", "H200"},
                 {"AMD EPYC (2 threads)", "cpu"},
                 {"NVIDIA GeForce RTX 4090", NULL}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const slm_hw *hw = slm_hw_match(&cat, names[i].device);
        const char *got = hw ? hw->name : NULL;
        t_check(names[i].entry ? got && !strcmp(got, names[i].entry) : got == NULL, "'%s' matches %s", names[i].device,
                got ? got : "nothing");
    }
    for (int i = 0; i < cat.n; i++)
        t_check(cat.hw[i].source[0] && cat.hw[i].eff.e_gemm > 0 && cat.hw[i].eff.e_gemm <= 1,
                "%s has a source and efficiencies in (0, 1]", cat.hw[i].name);
    slm_hw_free(&cat);

    const char *good_tail =
        "\"price\":\"x\",\"peak_bf16_flops_per_s\":1e12,\"peak_fp32_flops_per_s\":1e12,"
        "\"mem_bytes\":1e9,\"mem_bw_bytes_per_s\":1e9,\"intra_bw_bytes_per_s\":1e9,"
        "\"intra_latency_s\":1e-6,\"inter_bw_bytes_per_s\":1e9,\"inter_latency_s\":1e-6,"
        "\"devices_per_node\":8,\"source\":\"s\",";
    char json[1024];
    snprintf(json, sizeof json,
             "{\"devices\":[{\"name\":\"X\",\"match\":[\"X\"],%s\"efficiency\":{\"e_gemm\":2,\"gemm_m0\":1,"
             "\"e_bw\":1,\"launch_s\":1e-6,\"e_flash\":1,\"e_link\":1,\"e_share\":1}}]}",
             good_tail);
    expect_refused("eff.json", json, "\"e_gemm\"");
    snprintf(json, sizeof json, "{\"devices\":[{\"name\":\"X\",%s\"efficiency\":{}}]}", good_tail);
    expect_refused("match.json", json, "\"match\"");
    expect_refused("nodevices.json", "{\"devices\":{}}", "\"devices\"");
    expect_refused("notjson.json", "{\"devices\":[", "not valid JSON");
    return t_finish("test_predict_hw");
}
