# bf16_curve_lib.sh — sourced by tests/cli/bf16_curve*.sh (after cli_lib.sh,
# from the repository root, with $slm and $dir set): `curves STEPS MICRO EVERY`
# trains `tiny` on real English text (Debian's fortunes, a 512-token BPE) for
# STEPS steps of MICRO sequences of 64 tokens at lr 3e-3, once in fp32 and once
# in bf16 (SLM_ALLOW_EMULATED_BF16=1: on a CPU without bf16 instructions the
# emulation), from the same initial weights on the same batches, validating
# every EVERY steps on 4 batches; the step logs are $dir/fp32.jsonl and
# $dir/bf16.jsonl. `max_rel FIELD` prints "REL STEP": the largest
# |bf16 − fp32| / fp32 of FIELD (loss, val_loss) over the steps, and where.
curves() {
    sh scripts/corpus.sh "$dir/corpus.txt" 400000 &&
        "$slm" tokenize --text "$dir/corpus.txt" --vocab 512 --tokenizer "$dir/tok.bpe" --out "$dir/train.tok" \
            --val-frac 0.1 --val-out "$dir/val.tok" >/dev/null || return 1
    for dt in fp32 bf16; do
        SLM_ALLOW_EMULATED_BF16=1 "$slm" train --model tiny --seq-len 64 --micro-batch "$2" --global-batch "$2" \
            --steps "$1" --lr 3e-3 --data "$dir/train.tok" --val-data "$dir/val.tok" --eval-every "$3" \
            --eval-batches 4 --dtype $dt --log-file "$dir/$dt.jsonl" >"$dir/$dt.out" 2>&1 || return 1
    done
}
# "STEP VALUE" of each line of log $2 with field $1
values() { sed -n "s/.*\"step\":\\([0-9]*\\),.*\"$1\":\\([-0-9.e+]*\\).*/\\1 \\2/p" "$2"; }
max_rel() {
    values "$1" "$dir/fp32.jsonl" >"$dir/a.$1"
    values "$1" "$dir/bf16.jsonl" >"$dir/b.$1"
    paste -d ' ' "$dir/a.$1" "$dir/b.$1" | awk '$1 == $3 { d = ($4 - $2) / $2; if (d < 0) d = -d; if (d >= m) { m = d; s = $1 } }
        END { if (NR == 0) print "nan 0"; else printf "%.3g %d\n", m, s }'
}
