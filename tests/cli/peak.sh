#!/bin/sh
# `slm peak` and MFU: a measured peak is cached under SLM_CACHE_DIR for this
# CPU and thread count, `--show` finds it and another thread count does not;
# a training run's record then carries that peak, where it came from, and an
# MFU; without a cached peak both are null (never guessed); a slower
# measurement keeps the cached peak unless --replace; bf16 runs where the CPU
# has bf16 instructions (its own peak, its own MFU), is refused with the
# reason in one line elsewhere, and runs anywhere under --allow-emulated-bf16.
slm=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir"
. tests/cli_lib.sh
export SLM_CACHE_DIR="$dir/cache"

train() { OMP_NUM_THREADS=2 "$slm" train --model tiny --seq-len 32 --micro-batch 2 --global-batch 2 --steps 2 \
    --warmup-steps 1 --out "$dir/$1" >"$dir/$1.out" 2>&1; }
field() { sed -n "s/.*\"$1\":\\([^,]*\\),.*/\\1/p" "$dir/$2"; }

train none.jsonl
check $? "train runs with no peak cached"
[ "$(field mfu none.jsonl)" = null ] && [ "$(field peak_flops_per_device none.jsonl)" = null ] &&
    grep -q "MFU           unknown" "$dir/none.jsonl.out"
check $? "without a peak, mfu and peak_flops_per_device are null and the summary says MFU is unknown"

OMP_NUM_THREADS=2 "$slm" peak --size 64 --reps 2 >"$dir/peak.out" 2>&1
check $? "peak --size 64 --reps 2 runs: $(grep 'peak:' "$dir/peak.out")"
grep -q '"device"' "$SLM_CACHE_DIR/peak.json" && grep -q '"flops_per_s"' "$SLM_CACHE_DIR/peak.json"
check $? "the peak is cached in \$SLM_CACHE_DIR/peak.json"
OMP_NUM_THREADS=2 "$slm" peak --show >"$dir/show.out" 2>&1
check $? "peak --show finds it: $(cat "$dir/show.out")"
OMP_NUM_THREADS=1 "$slm" peak --show >"$dir/show1.out" 2>&1
[ $? -eq 1 ] && grep -q "no fp32 peak of .*(1 threads)" "$dir/show1.out"
check $? "another thread count has no peak: $(cat "$dir/show1.out")"

train with.jsonl
mfu=$(field mfu with.jsonl)
peak=$(field peak_flops_per_device with.jsonl)
awk -v m="$mfu" -v p="$peak" 'BEGIN { exit !(m > 0 && p > 0) }' && grep -q '"peak_flops_source":"slm peak: ' "$dir/with.jsonl" &&
    grep -q "MFU .* measured by .slm peak." "$dir/with.jsonl.out"
check $? "with a peak, the record has peak_flops_per_device $peak, its source and mfu $mfu"

sed 's/"flops_per_s":[^,]*,/"flops_per_s": 1e15,/' "$SLM_CACHE_DIR/peak.json" >"$dir/high.json" &&
    mv "$dir/high.json" "$SLM_CACHE_DIR/peak.json"
OMP_NUM_THREADS=2 "$slm" peak --size 64 --reps 1 >"$dir/keep.out" 2>&1
grep -q "kept the cached 1000000.0 GFLOP/s" "$dir/keep.out" && grep -q '"flops_per_s":.*1e+*15' "$SLM_CACHE_DIR/peak.json"
check $? "a slower measurement keeps the cached peak: $(tail -n 1 "$dir/keep.out" | cut -c1-60)"
OMP_NUM_THREADS=2 "$slm" peak --size 64 --reps 1 --replace >"$dir/replace.out" 2>&1
! grep -q '"flops_per_s":.*1e+*15' "$SLM_CACHE_DIR/peak.json"
check $? "--replace stores the slower measurement"

sed 's/"flops_per_s":[^,]*,/"flops_per_s": 1e6,/' "$SLM_CACHE_DIR/peak.json" >"$dir/low.json" &&
    mv "$dir/low.json" "$SLM_CACHE_DIR/peak.json"
OMP_NUM_THREADS=2 "$slm" bench --model tiny --seq-len 32 --micro-batch 1 --global-batch 1 --warmup-steps 1 \
    --min-steps 2 --min-time 0 >"$dir/low.out" 2>&1 &&
    grep -q "warning .*MFU above 100%: the reference peak (0.0 GFLOP/s, slm peak: .*slm peak$" "$dir/low.out"
check $? "a cached peak below the run's FLOP rate (MFU > 100%) is called out: $(grep -o 'warning.*' "$dir/low.out" | cut -c1-90)"

# bf16: runs where the CPU has bf16 instructions; elsewhere refused in one
# line naming them, and run anyway under --allow-emulated-bf16.
if grep -q -E 'avx512_bf16|amx_bf16' /proc/cpuinfo; then native=1; else native=0; fi
"$slm" peak --dtype bf16 --size 256 --reps 2 >"$dir/bf16.out" 2>&1
rc=$?
if [ $native -eq 1 ]; then
    [ $rc -eq 0 ] && grep -q "^bf16 peak: .*oneDNN" "$dir/bf16.out"
    check $? "peak --dtype bf16 measures the bf16 GEMMs on this bf16 CPU (exit $rc): $(tail -n 1 "$dir/bf16.out")"
    OMP_NUM_THREADS=2 "$slm" train --model tiny --seq-len 32 --micro-batch 2 --global-batch 2 --steps 2 \
        --warmup-steps 1 --dtype bf16 --out "$dir/tbf16.jsonl" >"$dir/tbf16.out" 2>&1
    rc=$?
    [ $rc -eq 0 ] && grep -q '"dtype":"bf16"' "$dir/tbf16.jsonl" && grep -q '"mfu":[0-9]' "$dir/tbf16.jsonl" &&
        grep -q '"device":"[^"]*bf16: oneDNN [a-z]*:' "$dir/tbf16.jsonl"
    check $? "train --dtype bf16 runs, its record names the GEMMs and has an MFU against the bf16 peak (exit $rc)"
else
    [ $rc -eq 2 ] && [ "$(wc -l <"$dir/bf16.out")" -eq 1 ] && grep -q "AVX512-BF16" "$dir/bf16.out"
    check $? "peak --dtype bf16 is refused in one line on a CPU without bf16 (exit $rc): $(cat "$dir/bf16.out")"
    "$slm" train --model tiny --dtype bf16 >"$dir/tbf16.out" 2>&1
    rc=$?
    [ $rc -eq 2 ] && grep -q "AVX512-BF16" "$dir/tbf16.out"
    check $? "train --dtype bf16 is refused (exit $rc): $(cat "$dir/tbf16.out")"
fi
OMP_NUM_THREADS=2 "$slm" train --model tiny --seq-len 32 --micro-batch 2 --global-batch 2 --steps 2 \
    --warmup-steps 1 --dtype bf16 --allow-emulated-bf16 --out "$dir/ebf16.jsonl" >"$dir/ebf16.out" 2>&1 &&
    grep -q '"dtype":"bf16"' "$dir/ebf16.jsonl"
check $? "train --dtype bf16 --allow-emulated-bf16 runs on any CPU: $(grep -o '"device":"[^"]*"' "$dir/ebf16.jsonl")"
"$slm" peak --help >"$dir/help" 2>&1 && grep -q "SLM_CACHE_DIR" "$dir/help"
check $? "peak --help answers and names SLM_CACHE_DIR"
finish peak
