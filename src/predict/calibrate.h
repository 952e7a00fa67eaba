// calibrate.h — fitting a device's efficiencies (hardware.h: slm_efficiency)
// to its measured records, and the calibration file that keeps the fits.
// The fit is Levenberg–Marquardt on the log of the step time (a 10% miss
// weighs the same on a 0.1 s step as on a 10 s one), over the efficiencies
// in an unbounded form (logit of the shares, log of gemm_m0 and launch_s),
// with a weak pull towards the hardware file's defaults so that a parameter
// the records cannot see (e_link without multi-rank records, e_flash without
// flash runs) stays where the datasheet put it.
//
// The file ($SLM_CACHE_DIR/calibration.json, else $XDG_CACHE_HOME/slm, else
// ~/.cache/slm; or the user's) holds one entry per device:
//   {"calibrations":[{"device":"cpu","efficiency":{"e_gemm":…,…},"records":12,
//     "rms_error":0.06,"date":"…","inputs":"out/demo/results.jsonl"}]}
#pragma once
#include <stddef.h>

#include "core/record.h"
#include "measure/hardware.h"

typedef struct {
    char device[32];  // the hardware entry's name
    slm_efficiency eff;
    int n_records;
    double rms_error;  // root mean square of log(predicted / measured step time)
    char date[32];
    char inputs[512];  // the results files fitted
} slm_calibration;

void slm_calibration_default_path(char *out, size_t len);
// 1 with *c filled when path (NULL: the default) holds the device; 0 when the
// device is not calibrated (no entry of it, or no default file); -1 with err
// naming the file when a file given as path does not exist, when the file
// cannot be read or is not a calibration file, or when the device's entry has
// an efficiency missing or outside slm_efficiency_range.
int slm_calibration_lookup(const char *path, const char *device, slm_calibration *c, slm_err *err);
// Adds or replaces the device's entry, keeping the others; atomic write. An
// efficiency outside slm_efficiency_range is -1 with err, nothing written.
int slm_calibration_store(const char *path, const slm_calibration *c, slm_err *err);

// The records of recs that calibrate hw: measured, ok, with a step time, on a
// device string hw matches; of a configuration measured more than once
// (`slm sweep --rounds`), its median record (slm_results_median_per_config),
// so that a run slowed by another process does not pull the fit. Fills idx
// (n entries at most) and repeats (NULL: not wanted) as that function does;
// returns the count.
int slm_calibration_select(const slm_hw_catalog *cat, const slm_hw *hw, const slm_record *recs, int n, int *idx,
                           int *repeats);
// Fits eff (in: the starting point and the prior, out: the fit) to the
// records; *rms_error as in slm_calibration. A record more than 3 robust
// standard deviations (from the median residual; and 25%) off the first fit
// is an outlier (a step slowed by another process):
// it is moved to the end of recs, counted in *n_outliers, and the fit redone
// without it. -1 with err when fewer than 2 records.
int slm_calibrate_fit(const slm_hw *hw, const slm_record **recs, int n, slm_efficiency *eff, double *rms_error,
                      int *n_outliers, slm_err *err);
// log(predicted / measured step time) for one record with efficiencies eff.
double slm_calibration_residual(const slm_hw *hw, const slm_efficiency *eff, const slm_record *rec);
