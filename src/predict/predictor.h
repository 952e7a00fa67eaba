// predictor.h — one configuration predicted into a result record of the
// measured runs' schema ("source":"predicted"), for `slm predict`, `slm
// advise`, calibration and the CPU validation. The device's efficiencies are
// the calibrated ones when a calibration of it exists, else the hardware
// file's defaults; the record's prediction_basis says which.
#pragma once
#include "core/record.h"
#include "measure/hardware.h"
#include "predict/calibrate.h"
#include "predict/perf.h"

typedef struct {
    const slm_hw *hw;
    slm_efficiency eff;
    char basis[160];                       // "calibrated (N configurations, rms error X%, DATE)" or "uncalibrated: …"
    int nodes;                             // 0: as few as devices_per_node allows
    int devices_per_node;                  // 0: the hardware file's
    const slm_interconnect *interconnect;  // between nodes; NULL: the device's own
    const char *prices_path;               // NULL: no price (tokens per dollar null)
} slm_predictor;

// Sets p's device and efficiencies: from the calibration file (NULL: the
// default one) when it holds the device, else the hardware file's. -1 with
// err when the calibration file cannot be used (slm_calibration_lookup).
int slm_predictor_init(slm_predictor *p, const slm_hw *hw, const char *calibration_path, slm_err *err);
// The backend a device runs (cuda on a GPU, cpu on a CPU) and the dtype it
// computes in there: that backend's default (bf16 on a GPU, fp32 on a CPU).
slm_backend_kind slm_predictor_backend(const slm_hw *hw);
slm_dtype slm_predictor_dtype(const slm_hw *hw);
// Predicts rc (its world size, micro and global batch, strategy, attention)
// into rec and pred. -1 with err when the configuration cannot be placed on
// the device (world size over the nodes, no peak for the dtype, no price).
int slm_predict_record(const slm_predictor *p, const slm_run_config *rc, slm_record *rec, slm_prediction *pred,
                       slm_err *err);
// The device string a prediction records: the entry's name for a GPU; for a
// CPU the backend's form, "<match> (<threads per rank> threads)".
void slm_predictor_device_name(const slm_hw *hw, int ranks_per_node, char *out, size_t len);
