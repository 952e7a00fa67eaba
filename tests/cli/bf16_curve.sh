#!/bin/sh
# label: slow
# `tiny`'s 200-step loss curve on real text in bf16 against fp32's
# (tests/bf16_curve_lib.sh: 200 steps of 8 sequences of 64 tokens, lr 3e-3,
# validation every 50 steps on 4 batches). Tolerance: the validation loss at
# every evaluation within 5% of fp32's. Why: the two runs start from the same
# weights on the same batches, but bf16's roundings (2^-8 of every activation
# and of the compute copy of the weights) change each step's gradient a
# little, and at this learning rate the trajectories part: after ~50 steps the
# curves are two samples of the same training, not one curve rounded. How far
# two samples lie apart was measured on the build machine: bf16 against fp32
# with the default seed 2.96% at step 150 (bf16 behind), with seed 7 0.53%,
# and bf16 through the emulated GEMMs (other summation order, same roundings)
# 1.38%; 5% covers that spread, and is a fifth of the curve's fall (6.27 to
# 4.88, 1.39 nats): a bf16 path that learned markedly worse, or not at all
# (28% off at step 200), fails. The training loss of single steps is printed,
# not checked: one step's loss on one batch moves by several percent from one
# sample of the training to another (a spike at step 89: 6.9%). 376 s on the
# build machine's 2 vCPUs, busy with other jobs (load average 7 to 9): slow.
slm=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir"
. tests/cli_lib.sh
. tests/bf16_curve_lib.sh
start=$(date +%s)
curves 200 8 50
check $? "tiny trained 200 steps in fp32 and in bf16 ($(grep -o 'bf16: [^)]*' "$dir/bf16.out" | head -n 1)) in $(($(date +%s) - start)) s"
set -- $(max_rel val_loss)
awk -v m="$1" 'BEGIN { exit !(m <= 0.05) }' && [ "$(values val_loss "$dir/bf16.jsonl" | wc -l)" -eq 5 ]
check $? "the validation loss at steps 0, 50, ..., 200 within 5% of fp32's: largest difference $1 (step $2); at step 200 fp32 $(values val_loss "$dir/fp32.jsonl" | tail -n 1 | cut -d' ' -f2), bf16 $(values val_loss "$dir/bf16.jsonl" | tail -n 1 | cut -d' ' -f2)"
set -- $(max_rel loss)
echo "     (the training loss of single steps, not checked: largest difference $1, at step $2)"
finish bf16_curve
