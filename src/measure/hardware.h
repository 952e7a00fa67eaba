// hardware.h — the hardware catalog (data/hardware.json, or the user's file):
// per device type its peak FLOP/s per dtype, memory size and bandwidth, the
// links inside a node (NVLink) and between nodes (InfiniBand), devices per
// node, the prices-file entry it is priced by, and the default efficiencies
// of the performance model. Every figure carries its source in the file.
// The one decision to know: a device string as a backend reports it ("NVIDIA
// H100 80GB HBM3", "AMD EPYC (2 threads)") is matched to an entry by the
// entry's `match` words, all of which must appear in it (case-insensitive);
// the first entry that matches wins.
#pragma once
#include "core/dtype.h"
#include "core/err.h"

enum { SLM_HW_MAX_MATCH = 4 };

// The performance model's efficiencies (perf.h says where each one enters).
typedef struct {
    double e_gemm;    // GEMM efficiency at large shapes, of the dtype's peak
    double gemm_m0;   // GEMM efficiency e_gemm·m/(m + gemm_m0) on the smallest dimension m
    double e_bw;      // share of the memory bandwidth a memory-bound kernel reaches
    double launch_s;  // fixed cost per kernel (launch, OpenMP fork/join)
    double e_flash;   // FlashAttention's efficiency on its FLOPs, of the peak
    double e_link;    // share of a link's bandwidth a collective reaches
    double e_share;   // a CPU: the share of its cores' peak and bandwidth a rank keeps beside other ranks (1 on GPUs)
} slm_efficiency;

enum { SLM_EFF_N = 7 };  // fields of slm_efficiency, in order (calibration's parameter vector)
extern const char *const slm_efficiency_names[SLM_EFF_N];
double *slm_efficiency_at(slm_efficiency *e, int i);
// The values efficiency i may take, in the hardware file and in a calibration:
// [1e-9, hi], hi 1 for the shares, 4 for e_bw (a working set that stays in
// cache streams past the datasheet's bandwidth), 1e6 for gemm_m0 and 1 s for
// launch_s; the fit (calibrate.c) keeps the shares and e_bw within theirs.
void slm_efficiency_range(int i, double *lo, double *hi);

typedef struct {
    char name[32];                     // "H100-80GB", "cpu"
    char match[SLM_HW_MAX_MATCH][32];  // words that identify a device string
    int n_match;
    char price[32];  // entry of the prices file
    int is_cpu;      // a CPU: w ranks share `cores` cores
    int cores;
    double peak_bf16_flops_per_s, peak_fp32_flops_per_s;  // dense, per device (0: not supported)
    double mem_bytes, mem_bw_bytes_per_s;
    double intra_bw_bytes_per_s, intra_latency_s;  // inside a node, per device, one direction
    double inter_bw_bytes_per_s, inter_latency_s;  // between nodes, per device
    int devices_per_node;
    slm_efficiency eff;  // defaults (datasheet / published figures) until calibrated
    char source[768];
} slm_hw;

// A link between nodes (`slm predict --interconnect NAME`), per device.
typedef struct {
    char name[32];  // "ib-ndr", "ib-hdr", "ethernet-100g"
    double bw_bytes_per_s, latency_s;
    char source[256];
} slm_interconnect;

typedef struct {
    char path[1024];
    slm_hw *hw;
    int n;
    slm_interconnect *links;
    int n_links;
} slm_hw_catalog;

// data/hardware.json under the working directory, else beside the binary's
// build directory; NULL when neither exists.
const char *slm_hw_default_path(void);
// Reads and checks the catalog: -1 with err "PATH: device 'X': field \"f\" …"
// naming the first bad or missing field.
int slm_hw_load(const char *path, slm_hw_catalog *cat, slm_err *err);
// The same from the file's text (NUL-terminated; path for messages).
int slm_hw_parse(const char *json, const char *path, slm_hw_catalog *cat, slm_err *err);
void slm_hw_free(slm_hw_catalog *cat);
// The entry named `name` (case-insensitive), or NULL.
const slm_hw *slm_hw_find(const slm_hw_catalog *cat, const char *name);
// The entry whose match words all appear in device_name, or NULL.
const slm_hw *slm_hw_match(const slm_hw_catalog *cat, const char *device_name);
// The interconnect named `name`; NULL with err (naming the catalog's links) when there is none.
const slm_interconnect *slm_hw_interconnect(const slm_hw_catalog *cat, const char *name, slm_err *err);
// The dense peak FLOP/s of one device for dtype SLM_BF16 or SLM_F32 (0: none).
double slm_hw_peak(const slm_hw *hw, slm_dtype dtype);
// "A100-40GB, H100-80GB, …": the names, for messages.
void slm_hw_names(const slm_hw_catalog *cat, char *out, size_t len);
