// fuzz_prices.c — the prices reader (measure/prices.c) on any text: every
// device the file names is looked up (a CPU rank of 2 vCPUs), and a device
// it does not name; a price it returns must be a positive finite number of
// dollars, a refusal must say why.
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>

#include "fuzz.h"
#include "measure/prices.h"

enum { MAX_DEVICES = 8 };

static void lookup(const char *text, const char *device) {
    slm_price p;
    slm_err err;
    fuzz_err_clear(&err);
    if (slm_price_lookup_text(text, "fuzz.prices.json", device, 2.0, &p, &err)) {
        fuzz_check_refusal(&err, "the prices reader");
        return;
    }
    if (!(p.usd_per_device_hour > 0) || !isfinite(p.usd_per_device_hour) || !p.source[0])
        fuzz_fail("device '%s' is priced %g per hour (source '%s')", device, p.usd_per_device_hour, p.source);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fuzz_text(data, size);
    cJSON *root = cJSON_Parse(text);
    const cJSON *dev;
    int n = 0;
    cJSON_ArrayForEach(dev, cJSON_GetObjectItemCaseSensitive(root, "devices")) {
        if (dev->string && n++ < MAX_DEVICES) lookup(text, dev->string);
    }
    lookup(text, "no-such-device");
    cJSON_Delete(root);
    free(text);
    return 0;
}
