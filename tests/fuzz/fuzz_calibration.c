// fuzz_calibration.c — the calibration file reader (predict/calibrate.c) on
// any bytes, through a file (the reader takes a path). A device it finds is
// stored back (replacing its entry, keeping the others) and must then be
// found again with the same efficiencies (as far as cJSON keeps them); a
// file it refuses, to read or to update, it must refuse with a message.
#include <string.h>

#include "fuzz.h"
#include "predict/calibrate.h"

static const char *const devices[] = {"cpu", "H100-80GB", "A100-40GB"};

static void round_trip(const char *path, const slm_calibration *c) {
    slm_err err;
    slm_calibration again;
    fuzz_err_clear(&err);
    if (slm_calibration_store(path, c, &err)) {
        fuzz_check_refusal(&err, "the calibration writer");
        return;
    }
    if (slm_calibration_lookup(path, c->device, &again, &err) != 1)
        fuzz_fail("device '%s' is not found after it was stored: %s", c->device, err.msg);
    for (int i = 0; i < SLM_EFF_N; i++) {
        double was = *slm_efficiency_at((slm_efficiency *)&c->eff, i), now = *slm_efficiency_at(&again.eff, i);
        if (!fuzz_same_number(was, now))
            fuzz_fail("device '%s': %s was %.17g, reads back %.17g", c->device, slm_efficiency_names[i], was, now);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[4096];
    fuzz_path(path, sizeof path, "calibration.json");
    for (size_t i = 0; i < sizeof devices / sizeof devices[0]; i++) {
        fuzz_write_file(path, data, size);
        slm_calibration c;
        slm_err err;
        fuzz_err_clear(&err);
        if (slm_calibration_lookup(path, devices[i], &c, &err) == 1) round_trip(path, &c);
    }
    return 0;
}
