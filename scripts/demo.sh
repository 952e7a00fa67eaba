#!/bin/sh
# make demo: a quick training-cost study on this CPU, then its report.
# slm sweep runs every point of data/grids/cpu-quick.json (tiny and small x
# vanilla/flash x single, DDP, FSDP at 2 ranks x micro batch 2/4/8, under a
# memory cap) and cpu-seq.json (sequence length), each point its own process;
# then slm calibrate fits the performance model to this CPU's records and slm
# predict gives the study's GPU grid (A100-40GB, A100-80GB, H100-80GB; 1 to 64
# GPUs, 8 per node) without a GPU; slm report draws the measured and the
# predicted study side by side (predicted series dashed) and writes the
# findings, and slm advise --table the best configuration per model, device
# type and count by tokens per dollar. Run it again
# and recorded points are skipped (a killed demo goes on where it stopped);
# rm -rf out/demo to measure afresh.
set -e
slm=build/slm
dir=out/demo
mkdir -p "$dir"
start=$(date +%s)
ranks_threads=$(($(nproc) / 2 > 0 ? $(nproc) / 2 : 1))
echo "== this CPU's GEMM peak (slm peak, cached), the reference of MFU: one process, and each of 2 ranks"
$slm peak --show >/dev/null 2>&1 || $slm peak
OMP_NUM_THREADS=$ranks_threads $slm peak --show >/dev/null 2>&1 || OMP_NUM_THREADS=$ranks_threads $slm peak
echo "== study: data/grids/cpu-quick.json, then data/grids/cpu-seq.json, into $dir/results.jsonl"
$slm sweep data/grids/cpu-quick.json --out "$dir/results.jsonl"
$slm sweep data/grids/cpu-seq.json --out "$dir/results.jsonl"
echo "== the performance model: calibrated on this CPU's records; the study's GPU grid predicted into $dir/predicted.jsonl"
$slm calibrate "$dir/results.jsonl" --out "$dir/calibration.json"
rm -f "$dir/predicted.jsonl"
$slm predict --grid data/grids/gpu-study.json --device A100-40GB,A100-80GB,H100-80GB \
    --calibration "$dir/calibration.json" --out "$dir/predicted.jsonl"
$slm advise --table --calibration "$dir/calibration.json" >"$dir/predicted-table.md"
echo "   best configuration per model, device type and count by tokens/\$: $dir/predicted-table.md"
echo "== report: the measured CPU study and the predicted GPU study"
$slm report "$dir/results.jsonl" "$dir/predicted.jsonl" --out "$dir/report"
echo "== the report is at $dir/report/report.html (and report.md, figures/, tables/); the demo took $(($(date +%s) - start)) s"
