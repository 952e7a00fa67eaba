// fuzz_hardware.c — the hardware catalog reader (measure/hardware.c) on any
// text. Of a catalog it accepts, every entry must be found by its name and
// have a positive fp32 peak; device strings as backends report them are
// matched, and the interconnects looked up, as `slm predict` does.
#include <stdlib.h>

#include "fuzz.h"
#include "measure/hardware.h"

static const char *const device_strings[] = {"NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-40GB", "AMD EPYC (2 threads)",
                                             ""};

static void use(const slm_hw_catalog *cat) {
    for (int i = 0; i < cat->n; i++) {
        const slm_hw *hw = &cat->hw[i];
        if (slm_hw_find(cat, hw->name) != hw) fuzz_fail("entry '%s' is not found by its name", hw->name);
        if (!(slm_hw_peak(hw, SLM_F32) > 0)) fuzz_fail("entry '%s' has no fp32 peak", hw->name);
    }
    for (size_t i = 0; i < sizeof device_strings / sizeof device_strings[0]; i++) slm_hw_match(cat, device_strings[i]);
    char names[1024];
    slm_hw_names(cat, names, sizeof names);
    slm_err err;
    for (int i = 0; i < cat->n_links; i++)
        if (slm_hw_interconnect(cat, cat->links[i].name, &err) != &cat->links[i])
            fuzz_fail("interconnect '%s' is not found by its name", cat->links[i].name);
    fuzz_err_clear(&err);
    if (!slm_hw_interconnect(cat, "no-such-link", &err)) fuzz_check_refusal(&err, "the interconnect lookup");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fuzz_text(data, size);
    slm_hw_catalog cat;
    slm_err err;
    fuzz_err_clear(&err);
    if (slm_hw_parse(text, "fuzz.hardware.json", &cat, &err)) {
        fuzz_check_refusal(&err, "the hardware reader");
    } else {
        use(&cat);
        slm_hw_free(&cat);
    }
    free(text);
    return 0;
}
