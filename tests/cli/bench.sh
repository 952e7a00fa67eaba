#!/bin/sh
# slm bench: warm-up steps are not counted, then at least --min-steps steps and
# --min-time seconds; the record prices the run (--price, or an entry of the
# prices file: tokens/$ = tokens/s x 3600 / (price x devices)); a loss run
# (--train-tokens on real text) records the validation loss, the dollars, loss
# per dollar and, with --target-loss, the tokens and dollars to reach it;
# bad prices and options are one-line errors.
slm=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir"
. tests/cli_lib.sh
field() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" "$2" | tail -n 1; }
quick="--model tiny --seq-len 32 --micro-batch 2 --global-batch 2"

"$slm" bench $quick --warmup-steps 2 --min-steps 3 --min-time 0 --price 2 --out "$dir/a.jsonl" >"$dir/a.out" 2>&1
check $? "bench runs: $(grep 'step time' "$dir/a.out")"
grep -q "over 3 steps after 2 warm-up" "$dir/a.out"
check $? "the 2 warm-up steps are not counted, the 3 timed ones are"
tps=$(field tokens_per_s "$dir/a.jsonl")
tpd=$(field tokens_per_dollar "$dir/a.jsonl")
awk -v t="$tps" -v d="$tpd" 'BEGIN { e = t * 3600 / 2; exit !(d > 0 && (d - e) / e < 1e-9 && (e - d) / e < 1e-9) }' &&
    grep -q '"price_per_device_hour":2,"price_source":"--price 2"' "$dir/a.jsonl" &&
    grep -q '"train_tokens":null,"final_loss":null,"val_loss":null' "$dir/a.jsonl"
check $? "--price 2: tokens/\$ = $tps x 3600 / 2 = $tpd; a throughput run records no losses"

"$slm" bench $quick --warmup-steps 0 --min-steps 1 --min-time 1 --log-file "$dir/b.log" --out "$dir/b.jsonl" >"$dir/b.out" 2>&1
times=$(sed -n 's/.*"step_time_s":\([0-9.e+-]*\).*/\1/p' "$dir/b.log")
echo "$times" | awk '{ n++; before = sum; sum += $1 } END { exit !(n >= 1 && sum >= 1 && before < 1) }' &&
    grep -q 'data/prices.json .cpu.: \$0.0412 per vCPU-hour' "$dir/b.jsonl"
check $? "--min-time 1 steps on past --min-steps 1 until the timed steps add up to 1 s, no further ($(echo "$times" | wc -l) steps); the CPU is priced per vCPU from data/prices.json"

"$slm" bench $quick --warmup-steps 1 --min-steps 2 --min-time 0 --device-type H100-80GB --out "$dir/c.jsonl" >/dev/null 2>&1
awk -v p="$(field price_per_device_hour "$dir/c.jsonl")" 'BEGIN { e = (98.32 + 98.32 + 88.25 + 23.92) / 8 / 4; exit !(p - e < 1e-9 && e - p < 1e-9) }'
check $? "--device-type H100-80GB: the mean of the four providers' per-GPU prices, $(field price_per_device_hour "$dir/c.jsonl")"

# a loss run on real text
sh scripts/corpus.sh "$dir/corpus.txt" 60000 || exit 1
"$slm" tokenize --text "$dir/corpus.txt" --vocab 512 --tokenizer "$dir/tok.bpe" --out "$dir/data.tok" >/dev/null || exit 1
loss="--model tiny --seq-len 32 --micro-batch 4 --global-batch 4 --data $dir/data.tok --train-tokens 2048 --warmup-steps 2 --eval-every 4"
"$slm" bench $loss --target-loss 100 --out "$dir/d.jsonl" >"$dir/d.out" 2>&1 &&
    "$slm" bench $loss --target-loss 0.01 --out "$dir/d.jsonl" >>"$dir/d.out" 2>&1
check $? "loss runs of 2048 tokens (16 steps of 128) run"
head -n 1 "$dir/d.jsonl" >"$dir/d1"
tail -n 1 "$dir/d.jsonl" >"$dir/d2"
awk -v v="$(field val_loss "$dir/d1")" -v l="$(field loss_per_dollar "$dir/d1")" -v s="$(field dollars_spent "$dir/d1")" \
    'BEGIN { exit !(v > 1 && v < 10 && s > 0 && (l - v / s) / l < 1e-9 && (v / s - l) / l < 1e-9) }' &&
    grep -q '"train_tokens":2048' "$dir/d1"
check $? "the record has the validation loss $(field val_loss "$dir/d1"), the dollars $(field dollars_spent "$dir/d1") and loss per dollar = their ratio"
grep -q '"target_loss":100,"tokens_to_target_loss":512,"dollars_to_target_loss":[0-9]' "$dir/d1" &&
    grep -q '"target_loss":0.0099[0-9]*,"tokens_to_target_loss":null,"dollars_to_target_loss":null' "$dir/d2"
check $? "--target-loss: reached at the first validation (step 4, 512 tokens) when easy, null when never reached"

printf '{"devices": {"A100-40GB": {"unit": "device-hour", "date": "2024-06", "sources": [{"provider": "X", "usd_per_hour": 1, "units": 1}]}}}' >"$dir/p.json"
expect 2 "has no price for device 'cpu' (it has A100-40GB; or give --price)" "$slm" bench $quick --prices "$dir/p.json"
printf '{\n "devices": {\n  "cpu": {"unit": "device-hour",\n' >"$dir/broken.json"
expect 2 "broken.json:4: not valid JSON" "$slm" bench $quick --prices "$dir/broken.json"
expect 2 "cannot open prices file" "$slm" bench $quick --prices "$dir/missing.json"
expect 2 "--train-tokens trains on real text" "$slm" bench $quick --train-tokens 1000
expect 2 "--target-loss needs --train-tokens" "$slm" bench $quick --target-loss 3
expect 2 "--price must be positive" "$slm" bench $quick --price 0
expect 2 "unknown flag '--steps'" "$slm" bench $quick --steps 5
"$slm" bench --help >"$dir/help" 2>&1 && grep -q "usage: slm bench" "$dir/help"
check $? "slm bench --help answers"
finish bench
