#!/bin/sh
# make demo: tokenize a public-domain English corpus (Debian's fortunes), train
# the `small` model on it on the CPU for about a minute, and sample from it.
set -e
slm=build/slm
dir=out/demo
mkdir -p "$dir"
echo "== corpus: Debian's fortunes package"
sh scripts/corpus.sh "$dir/corpus.txt"
echo "== tokenizer: byte-level BPE, 4096 tokens (the vocabulary of the small preset)"
$slm tokenize --text "$dir/corpus.txt" --vocab 4096 --tokenizer "$dir/tok.bpe" \
    --out "$dir/train.tok" --val-frac 0.05 --val-out "$dir/val.tok"
echo "== training small (10M parameters), sequences of 128 tokens, batch 8, on the CPU"
$slm train --model small --seq-len 128 --micro-batch 8 --global-batch 8 --steps ${DEMO_STEPS:-120} \
    --lr 2e-3 --warmup-steps 10 --data "$dir/train.tok" --val-data "$dir/val.tok" \
    --eval-every 40 --eval-batches 4 --save "$dir/small.ckpt" --log-file "$dir/steps.jsonl" \
    --out "$dir/results.jsonl"
echo "== sample (temperature 0.8, top-k 40)"
$slm sample --checkpoint "$dir/small.ckpt" --tokenizer "$dir/tok.bpe" --prompt "The" --tokens 80
echo "== files in $dir: corpus, tokenizer, token files, checkpoint, per-step log, result record"
