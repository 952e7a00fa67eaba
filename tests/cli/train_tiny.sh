#!/bin/sh
# label: slow
# Training `tiny` on real English text (Debian's fortunes) lowers the
# validation loss: from 6.27 untrained (ln 512 = 6.24) to at least 1.3 nats
# lower after 250 steps of 16 sequences of 64 tokens.
slm=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir"
set -e
sh scripts/corpus.sh "$dir/corpus.txt" 400000
"$slm" tokenize --text "$dir/corpus.txt" --vocab 512 --tokenizer "$dir/tok.bpe" --out "$dir/train.tok" \
    --val-frac 0.1 --val-out "$dir/val.tok"
"$slm" train --model tiny --seq-len 64 --micro-batch 8 --global-batch 16 --steps 250 --lr 3e-3 \
    --data "$dir/train.tok" --val-data "$dir/val.tok" --eval-every 50 --eval-batches 8 \
    --log-file "$dir/log.jsonl" --out "$dir/results.jsonl" --save "$dir/tiny.ckpt"
set +e
val() { sed -n 's/.*"val_loss":\([-0-9.e+]*\).*/\1/p' "$dir/log.jsonl"; }
first=$(val | head -n 1)
last=$(val | tail -n 1)
if awk -v a="$first" -v b="$last" 'BEGIN { exit !(a - b >= 1.3) }'; then
    echo "ok   validation loss fell from $first to $last (required: by at least 1.3)"
    fails=0
else
    echo "FAIL validation loss went from $first to $last (required: a fall of at least 1.3)"
    fails=1
fi
if grep -q '"status":"ok"' "$dir/results.jsonl" && grep -q '"source":"measured"' "$dir/results.jsonl"; then
    echo "ok   result record appended with status ok"
else
    echo "FAIL no result record with status ok in $dir/results.jsonl"
    fails=$((fails + 1))
fi
# sampling from the trained model: greedy is deterministic; a seed fixes sampling
sample() { "$slm" sample --checkpoint "$dir/tiny.ckpt" --tokenizer "$dir/tok.bpe" --prompt "The " --tokens 40 "$@"; }
sample --greedy >"$dir/g1" && sample --greedy >"$dir/g2" && sample --seed 5 >"$dir/s1" && sample --seed 5 >"$dir/s2" &&
    sample --seed 6 --temperature 1.2 --top-k 0 >"$dir/s3"
rc=$?
if [ $rc -eq 0 ] && cmp -s "$dir/g1" "$dir/g2" && cmp -s "$dir/s1" "$dir/s2" && [ "$(wc -c <"$dir/g1")" -gt 20 ] &&
    ! cmp -s "$dir/s1" "$dir/s3"; then
    echo "ok   sample: greedy repeats itself, a seed repeats its sample, another seed differs: $(head -c 60 "$dir/s1" | tr '\n' ' ')"
else
    echo "FAIL sample (exit $rc) is not deterministic, or printed nothing"
    fails=$((fails + 1))
fi
echo "train_tiny: 3 checks, $fails failed"
[ "$fails" -eq 0 ]
