#!/bin/sh
# Checkpoint resume is bitwise exact, in fp32 and in bf16 (bf16 activations
# and compute copy, fp32 master and AdamW state; SLM_ALLOW_EMULATED_BF16=1 so
# that it runs on a CPU without bf16 instructions too): a run stopped after S
# of 16 steps (--run-steps, which checkpoints) and resumed must log the same
# losses, gradient norms, learning rates and validation losses, to the last bit
# (%.9g round-trips a float), as the same run made in one go, and end with a
# checkpoint of the same bytes (parameters, AdamW moments, step, data
# position). fp32 stops at step 7, bf16 at 8 (half). Real token data, gradient
# accumulation 2, fixed thread count (CTest sets OMP_NUM_THREADS=2).
# A run that logged steps past the checkpoint it is resumed from (killed after
# a save, or resumed from an older checkpoint) has those lines cut off its
# --log-file, said so, and the log again holds each step once.
slm=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir"
. tests/cli_lib.sh
set -e
sh scripts/corpus.sh "$dir/corpus.txt" 120000
"$slm" tokenize --text "$dir/corpus.txt" --vocab 512 --tokenizer "$dir/tok.bpe" --out "$dir/data.tok" >/dev/null
set +e
export SLM_ALLOW_EMULATED_BF16=1
# timings differ from run to run; everything else must not
strip() { sed -e 's/,"step_time_s":[^,}]*//' -e 's/,"tokens_per_s":[^,}]*//' "$1"; }

# resume_case DTYPE STOP: 16 steps in one go against STOP steps, a checkpoint, and the rest resumed
resume_case() {
    d=$dir/$1
    mkdir -p "$d"
    run="--model tiny --seq-len 64 --micro-batch 4 --global-batch 8 --steps 16 --data $dir/data.tok --eval-every 5
        --eval-batches 2 --dtype $1"
    "$slm" train $run --log-file "$d/straight.jsonl" --save "$d/straight.ckpt" >/dev/null &&
        "$slm" train $run --log-file "$d/resumed.jsonl" --save "$d/ck.bin" --run-steps "$2" >/dev/null &&
        "$slm" train $run --log-file "$d/resumed.jsonl" --save "$d/ck.bin" --resume "$d/ck.bin" >/dev/null
    check $? "$1: the three runs (16 steps; $2 steps and a checkpoint; resumed to 16) end ok"
    strip "$d/straight.jsonl" >"$d/a"
    strip "$d/resumed.jsonl" >"$d/b"
    steps=$(grep -c '"loss"' "$d/a")
    [ "$steps" -eq 16 ] && cmp -s "$d/a" "$d/b"
    same=$?
    check $same "$1: 16 steps: losses, gradient norms, lr and validation losses bitwise equal after resuming at step $2"
    [ $same -eq 0 ] || diff "$d/a" "$d/b" | head -10
    cmp -s "$d/straight.ckpt" "$d/ck.bin"
    check $? "$1: the final checkpoints, $(wc -c <"$d/ck.bin") bytes each, are identical byte for byte"
}
resume_case fp32 7
resume_case bf16 8

# steps 6 to 9 logged after the step-5 checkpoint that is resumed from
run="--model tiny --seq-len 64 --micro-batch 4 --global-batch 8 --steps 16 --data $dir/data.tok --eval-every 5
    --eval-batches 2"
"$slm" train $run --log-file "$dir/again.jsonl" --save "$dir/ck5.bin" --run-steps 5 >/dev/null
cp "$dir/ck5.bin" "$dir/ck5-kept.bin"
"$slm" train $run --log-file "$dir/again.jsonl" --save "$dir/ck5.bin" --resume "$dir/ck5.bin" --run-steps 4 >/dev/null
"$slm" train $run --log-file "$dir/again.jsonl" --resume "$dir/ck5-kept.bin" >"$dir/again.out"
strip "$dir/again.jsonl" >"$dir/c"
differs() { d=$(diff "$1" "$2" | head -n 4 | tr '\n' ' ') && echo "${d:+; differs: $d}"; }
grep -q "again.jsonl: removed 4 lines after the checkpoint's step 5: steps 6 to 9" "$dir/again.out" &&
    cmp -s "$dir/fp32/a" "$dir/c"
check $? "resumed at step 5 after steps 6-9 were logged ($(grep -o 'removed [^:]*' "$dir/again.out")): the log is the uninterrupted one$(differs "$dir/fp32/a" "$dir/c")"
finish resume
