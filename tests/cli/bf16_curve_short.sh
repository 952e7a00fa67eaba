#!/bin/sh
# The first 20 steps of `tiny` on real text in bf16 against fp32
# (tests/bf16_curve_lib.sh: 4 sequences of 64 tokens, lr 3e-3, validation
# every 10 steps on 4 batches); bf16_curve.sh runs 200 steps (slow).
# Tolerance: every step's training loss and every validation loss within
# 2^-7 (0.78%) of fp32's. Why: over the first steps the runs are one curve,
# rounded: bf16 activations carry 2^-8 relative error, a few roundings in a
# chain per layer, and the loss, a log-sum-exp minus one logit, moves by far
# less (test_cuda_model bounds CUDA's bf16 against the CPU's fp32 the same
# way). Measured on the build machine (AMD EPYC with AVX512-BF16, oneDNN
# brg:avx512_core_bf16): training loss 1.74e-4 (step 11), validation loss
# 1.46e-5 (step 20); 24 s on 2 busy vCPUs.
slm=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir"
. tests/cli_lib.sh
. tests/bf16_curve_lib.sh
start=$(date +%s)
curves 20 4 10
check $? "tiny trained 20 steps in fp32 and in bf16 ($(grep -o 'bf16: [^)]*' "$dir/bf16.out" | head -n 1)) in $(($(date +%s) - start)) s"
for f in loss val_loss; do
    set -- $(max_rel $f)
    awk -v m="$1" 'BEGIN { exit !(m <= 1 / 128) }'
    check $? "every $f of bf16 within 2^-7 of fp32's: largest difference $1 (step $2)"
done
finish bf16_curve_short
