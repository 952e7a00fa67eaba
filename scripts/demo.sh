#!/bin/sh
# make demo: a quick training-cost study on this CPU, then its report.
# slm sweep runs every point of data/grids/cpu-quick.json (tiny and small x
# vanilla/flash x single, DDP, FSDP at 2 ranks x micro batch 2/4/8, under a
# memory cap) and cpu-seq.json (sequence length), each point its own process;
# slm report draws the study's figures and writes the findings. Run it again
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
echo "== report"
$slm report "$dir/results.jsonl" --out "$dir/report"
echo "== the report is at $dir/report/report.html (and report.md, figures/, tables/); the demo took $(($(date +%s) - start)) s"
