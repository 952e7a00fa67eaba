// prices.h — the price of a device-hour, from data/prices.json (or the
// user's file): each device's price is the mean of its sources' on-demand
// prices per unit. A CPU rank is priced by the vCPUs it has: its machine's
// vCPUs divided by the ranks sharing the machine.
#pragma once
#include "core/err.h"

typedef struct {
    double usd_per_device_hour;
    char source[256];  // for the record's price_source: the file, the entry, the sources, the date
} slm_price;

// The default prices file: data/prices.json under the working directory, or
// beside the binary's build directory (BIN/../data/prices.json); NULL if neither exists.
const char *slm_prices_default_path(void);
// Prices `device` ("A100-40GB", "cpu", …) from the file at path. An entry in
// vCPU-hours is multiplied by vcpus_per_rank. -1 with err naming the file and
// what is wrong (unreadable, not the format, unknown device: the known ones listed).
int slm_price_lookup(const char *path, const char *device, double vcpus_per_rank, slm_price *out, slm_err *err);
// The same from the file's text (NUL-terminated; path for messages).
int slm_price_lookup_text(const char *text, const char *path, const char *device, double vcpus_per_rank, slm_price *out,
                          slm_err *err);
