// record.h — the result record (DESIGN.md), one JSON object per line, the same
// schema for measured and predicted runs. A figure not known is NaN here and
// null in the file, never a made-up number.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "core/run_config.h"

enum { SLM_RECORD_SCHEMA = 1 };

typedef struct {
    const char *source;  // "measured" or "predicted"
    const char *status;  // "ok", "oom", "error"
    char message[512];
    slm_run_config run;  // model shape, batch, attention, strategy, world size, dtype, mem limit
    int nodes;
    char device[128];
    double step_time_s, step_time_p10_s, step_time_p90_s;
    double tokens_per_s, peak_flops_per_device;
    size_t peak_mem_bytes, mem_bytes[SLM_MEM_NCAT];  // split at the peak
    double comm_time_frac;
    double price_per_device_hour;
    const char *price_source;
    long long train_tokens;  // 0: not a loss run
    double final_loss, val_loss;
} slm_record;

// Config fields from rc, provenance filled at write time, every figure NaN.
void slm_record_init(slm_record *r, const slm_run_config *rc, const char *source);
// FNV-1a 64 of every config field that changes the result, as 16 hex digits.
void slm_config_hash(const slm_run_config *rc, char out[17]);
// Appends one line with a single write (O_APPEND), so concurrent writers do not interleave.
int slm_record_append(const char *path, const slm_record *r, slm_err *err);
