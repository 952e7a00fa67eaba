#!/bin/sh
# Checkpoint resume is bitwise exact: a run stopped after 7 of 16 steps
# (--run-steps, which checkpoints) and resumed must log the same losses,
# gradient norms, learning rates and validation losses, to the last bit
# (%.9g round-trips a float), as the same run made in one go. Real token data,
# gradient accumulation 2, fixed thread count (CTest sets OMP_NUM_THREADS=2).
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
run="--model tiny --seq-len 64 --micro-batch 4 --global-batch 8 --steps 16 --data $dir/data.tok --eval-every 5 --eval-batches 2"
"$slm" train $run --log-file "$dir/straight.jsonl" >/dev/null
"$slm" train $run --log-file "$dir/resumed.jsonl" --save "$dir/ck.bin" --run-steps 7 >/dev/null
"$slm" train $run --log-file "$dir/resumed.jsonl" --save "$dir/ck.bin" --resume "$dir/ck.bin" >/dev/null
# steps 6 to 9 logged after the step-5 checkpoint that is resumed from
"$slm" train $run --log-file "$dir/again.jsonl" --save "$dir/ck5.bin" --run-steps 5 >/dev/null
cp "$dir/ck5.bin" "$dir/ck5-kept.bin"
"$slm" train $run --log-file "$dir/again.jsonl" --save "$dir/ck5.bin" --resume "$dir/ck5.bin" --run-steps 4 >/dev/null
"$slm" train $run --log-file "$dir/again.jsonl" --resume "$dir/ck5-kept.bin" >"$dir/again.out"
set +e
# timings differ from run to run; everything else must not
strip() { sed -e 's/,"step_time_s":[^,}]*//' -e 's/,"tokens_per_s":[^,}]*//' "$1"; }
strip "$dir/straight.jsonl" >"$dir/a"
strip "$dir/resumed.jsonl" >"$dir/b"
strip "$dir/again.jsonl" >"$dir/c"
differs() { d=$(diff "$1" "$2" | head -n 4 | tr '\n' ' ') && echo "${d:+; differs: $d}"; }
steps=$(grep -c '"loss"' "$dir/a")
[ "$steps" -eq 16 ] && cmp -s "$dir/a" "$dir/b"
check $? "$steps steps: losses, gradient norms, lr and validation losses bitwise equal after resuming at step 7$(differs "$dir/a" "$dir/b")"
grep -q "again.jsonl: removed 4 lines after the checkpoint's step 5: steps 6 to 9" "$dir/again.out" && cmp -s "$dir/a" "$dir/c"
check $? "resumed at step 5 after steps 6-9 were logged ($(grep -o 'removed [^:]*' "$dir/again.out")): the log is the uninterrupted one$(differs "$dir/a" "$dir/c")"
finish resume
