// record.h — the result record (docs/formats.md), one JSON object per line, the same
// schema for measured and predicted runs. A figure not known is NaN here and
// null in the file, never a made-up number.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "core/mem_cat.h"
#include "core/run_config.h"

enum { SLM_RECORD_SCHEMA = 1 };

typedef struct {
    const char *source;  // "measured" or "predicted"
    char basis[160];     // predicted: what the efficiencies came from ("calibrated (N records, …)"); "" when measured
    const char *status;  // "ok", "oom", "error"
    char message[512];
    slm_run_config run;  // model shape, batch, attention, strategy, world size, dtype, mem limit
    int nodes;
    char device[128];
    double step_time_s, step_time_p10_s, step_time_p90_s;
    double tokens_per_s, peak_flops_per_device;
    char peak_flops_source[320];  // "slm peak: <what was measured>, <date>"; "" when no peak is cached
    size_t peak_mem_bytes, mem_bytes[SLM_MEM_NCAT];  // split at the peak
    double comm_time_frac;
    double price_per_device_hour;
    char price_source[256];
    long long train_tokens;  // 0: not a loss run
    double final_loss, val_loss;
    double target_loss;       // --target-loss, NaN if none
    long long target_tokens;  // tokens trained when the validation loss first reached it; 0: not reached
    char config_hash[17];     // "" : computed from run at write time; kept when read back
    char git_commit[64], date[32], host[128], versions[128];  // provenance: "" = this build, now, here
} slm_record;

// Figures derived from the measured ones, computed in one place for the
// writer and for readers (report); NaN where an input is unknown.
typedef struct {
    double tokens_per_s_per_device, flops_per_token, mfu;
    double tokens_per_dollar, dollars_per_billion_tokens;
    double dollars_spent;  // train_tokens at the measured throughput
    double loss_per_dollar, dollars_to_target_loss;
} slm_record_derived;

// Config fields from rc, provenance filled at write time, every figure NaN.
void slm_record_init(slm_record *r, const slm_run_config *rc, const char *source);
// FNV-1a 64 of every config field that changes the result, as 16 hex digits.
// The backend and the dtype enter by their names ("cpu", "fp32"), as records write them.
void slm_config_hash(const slm_run_config *rc, char out[17]);
// The same hash with the backend and the dtype left out, for finding one
// configuration's records whatever device kind ran them.
void slm_config_hash_any_device(const slm_run_config *rc, char out[17]);
void slm_record_derive(const slm_record *r, slm_record_derived *d);
// Appends the record as one line, whole or not at all (slm_jsonl_append).
int slm_record_append(const char *path, const slm_record *r, slm_err *err);
// Reads one line back (record_read.c): every field of the schema must be
// present (null where unknown) with the right type; -1 with err naming the
// field otherwise. Derived figures are recomputed by slm_record_derive.
int slm_record_parse(const char *line, slm_record *r, slm_err *err);
