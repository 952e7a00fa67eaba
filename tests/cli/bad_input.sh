#!/bin/sh
# Bad input through the command line: each case must end with the right exit
# code (2 bad usage, 1 failed run) and a one-line message naming the problem,
# and nothing may crash (the sanitizer build runs this too).
slm=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir"
. tests/cli_lib.sh  # check, expect CODE PATTERN COMMAND..., finish

# usage errors: exit 2
expect 2 "no command given" "$slm"
expect 2 "unknown command 'bogus'" "$slm" bogus
expect 2 "unknown flag '--bogus'" "$slm" train --bogus
expect 2 "needs a value" "$slm" train --steps
expect 2 "expects an integer" "$slm" train --steps abc
expect 2 "expects a number" "$slm" train --lr fast
expect 2 "unknown model 'nope'" "$slm" train --model nope
expect 2 "n_heads (3) must divide d_model (128)" "$slm" train --model tiny --n-heads 3
expect 2 "n_kv_heads (3) must divide n_heads (4)" "$slm" train --model tiny --n-kv-heads 3
expect 2 "longer than the model's maximum" "$slm" train --model tiny --seq-len 4096
expect 2 "must be a multiple of --micro-batch 3" "$slm" train --model tiny --micro-batch 3 --global-batch 8
expect 2 "must be positive" "$slm" train --model tiny --micro-batch 0
expect 2 "unknown value 'fast'" "$slm" train --attention fast
expect 2 "unknown value 'zero3' (expected single|ddp|fsdp-full|fsdp-grad-op)" "$slm" train --strategy zero3
expect 2 "unknown value 'maybe' (expected off|on)" "$slm" train --overlap maybe
expect 2 "--adam-eps must be positive" "$slm" train --adam-eps 0
expect 2 "byte count" "$slm" train --mem-limit 12X
expect 2 "cannot open model file" "$slm" info --model "$dir/missing.json"
printf '{"n_layers": 2, "d_model": 64, "n_heads": 4, "wings": 2}' >"$dir/bad.json"
expect 2 "unknown field \"wings\"" "$slm" info --model "$dir/bad.json"
# a model file's fields of the wrong JSON type: true is not 1, 1 is not true
shape='"d_model": 64, "n_heads": 4, "n_kv_heads": 4'
printf '{"n_layers": 2, %s, "tie_embeddings": 1}' "$shape" >"$dir/tie1.json"
expect 2 '"tie_embeddings" must be true or false (a JSON boolean)' "$slm" info --model "$dir/tie1.json"
printf '{"n_layers": true, %s}' "$shape" >"$dir/true_layers.json"
expect 2 '"n_layers" must be an integer (a JSON number)' "$slm" info --model "$dir/true_layers.json"
printf '{"name": 7, "n_layers": 2, %s}' "$shape" >"$dir/name7.json"
expect 2 '"name" must be a string' "$slm" info --model "$dir/name7.json"
printf '{"n_layers": 2, "d_model": 64,' >"$dir/broken.json"
expect 2 "not valid JSON" "$slm" info --model "$dir/broken.json"
expect 2 "needs --checkpoint and --tokenizer" "$slm" sample

# failed runs: exit 1
expect 1 "cannot open" "$slm" train --model tiny --data "$dir/missing.tok" --steps 1
printf 'this is not a token file at all, just text' >"$dir/foreign.tok"
expect 1 "not a slm token file" "$slm" train --model tiny --data "$dir/foreign.tok" --steps 1
expect 1 "out of memory" "$slm" train --model tiny --mem-limit 1M --steps 1 --out "$dir/rec.jsonl"
expect 1 "cannot open token file" "$slm" train --model tiny --data "$dir/missing.tok" --steps 1 --out "$dir/rec.jsonl"
[ -w /dev/full ] && expect 1 "writing --log-file /dev/full failed: No space left on device" "$slm" train --model tiny \
    --seq-len 32 --micro-batch 2 --global-batch 2 --steps 2 --log-file /dev/full
grep -q '"status":"oom"' "$dir/rec.jsonl" && grep -q '"status":"error","message":"cannot open token file' "$dir/rec.jsonl" &&
    grep -q '"status":"oom".*"step_time_s":null' "$dir/rec.jsonl"
check $? "failed runs still append their record: status oom and error, unmeasured figures null"

# token files and checkpoints made by the program, then damaged
sh scripts/corpus.sh "$dir/corpus.txt" 60000 || exit 1
"$slm" tokenize --text "$dir/corpus.txt" --vocab 300 --tokenizer "$dir/tok.bpe" --out "$dir/data.tok" >/dev/null || exit 1
size=$(wc -c <"$dir/data.tok")
head -c $((size - 7)) "$dir/data.tok" >"$dir/truncated.tok"
expect 1 "truncated" "$slm" train --model tiny --data "$dir/truncated.tok" --steps 1
run="--model tiny --seq-len 32 --micro-batch 2 --global-batch 2 --data $dir/data.tok --eval-batches 1"
"$slm" train $run --steps 2 --save "$dir/ok.ckpt" >/dev/null || { echo "FAIL training for a checkpoint"; exit 1; }
size=$(wc -c <"$dir/ok.ckpt")
head -c $((size - 100)) "$dir/ok.ckpt" >"$dir/truncated.ckpt"
expect 1 "truncated checkpoint" "$slm" train $run --steps 3 --resume "$dir/truncated.ckpt"
cp "$dir/ok.ckpt" "$dir/corrupt.ckpt"
printf 'XXXX' | dd of="$dir/corrupt.ckpt" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
expect 1 "checksum mismatch" "$slm" train $run --steps 3 --resume "$dir/corrupt.ckpt"
cp "$dir/ok.ckpt" "$dir/magic.ckpt"
printf 'NOTACKPT' | dd of="$dir/magic.ckpt" bs=1 seek=0 conv=notrunc 2>/dev/null
expect 1 "not a slm checkpoint" "$slm" train $run --steps 3 --resume "$dir/magic.ckpt"
cp "$dir/ok.ckpt" "$dir/header.ckpt"  # the data position (header bytes 116..123), not the payload
printf '\377\377\377\377' | dd of="$dir/header.ckpt" bs=1 seek=116 conv=notrunc 2>/dev/null
expect 1 "checksum mismatch" "$slm" train $run --steps 3 --resume "$dir/header.ckpt"
{ printf 'SLMBPE01\001\000\000\000\010\000\000\000\141\000\000\000\141\000\000\000'
  for i in 0 1 2 3 4 5 6; do printf "\\00$i\\001\\000\\000\\00$i\\001\\000\\000"; done; } >"$dir/doubling.bpe"
expect 1 "makes a token of 256 bytes" "$slm" sample --checkpoint "$dir/ok.ckpt" --tokenizer "$dir/doubling.bpe"
expect 2 "needs --save" "$slm" train $run --steps 3 --run-steps 1
expect 1 "different model" "$slm" train $run --n-layers 2 --steps 3 --resume "$dir/ok.ckpt"
expect 1 "resume with the same" "$slm" train $run --global-batch 4 --steps 3 --resume "$dir/ok.ckpt"
expect 1 "cannot open checkpoint" "$slm" sample --checkpoint "$dir/missing.ckpt" --tokenizer "$dir/tok.bpe"
expect 1 "checksum mismatch" "$slm" sample --checkpoint "$dir/corrupt.ckpt" --tokenizer "$dir/tok.bpe"
# FSDP manifests (a JSON file naming one shard file per rank), damaged
printf '{"format": "slm-checkpoint-manifest", "world_size": 2,' >"$dir/broken.manifest"
expect 1 "neither a checkpoint file nor a JSON manifest" "$slm" train $run --steps 3 --resume "$dir/broken.manifest"
printf '{"format": "other", "world_size": 2, "shards": ["a", "b"]}' >"$dir/format.manifest"
expect 1 "not a valid checkpoint manifest" "$slm" train $run --steps 3 --resume "$dir/format.manifest"
printf '{"format": "slm-checkpoint-manifest", "world_size": 2, "shards": ["a"]}' >"$dir/count.manifest"
expect 1 "not a valid checkpoint manifest" "$slm" train $run --steps 3 --resume "$dir/count.manifest"
printf '{"format": "slm-checkpoint-manifest", "world_size": 2, "shards": ["nope.0", "nope.1"]}' >"$dir/gone.manifest"
expect 1 "cannot open checkpoint shard" "$slm" train $run --steps 3 --resume "$dir/gone.manifest"
printf '{"format": "slm-checkpoint-manifest", "world_size": 2, "shards": ["../x", "y"]}' >"$dir/path.manifest"
expect 1 "not a file name beside the manifest" "$slm" train $run --steps 3 --resume "$dir/path.manifest"
printf '{"format": "slm-checkpoint-manifest", "world_size": 2, "shards": ["ok.ckpt", "ok.ckpt"]}' >"$dir/whole.manifest"
expect 1 "holds shard 0 of 1, but" "$slm" sample --checkpoint "$dir/whole.manifest" --tokenizer "$dir/tok.bpe"

# batch products past an int: refused with a line, never a division by zero (SIGFPE) or a signed overflow
big="--model tiny --strategy ddp --world-size 1073741824 --micro-batch 4 --global-batch 8"
expect 2 "must be a multiple of --micro-batch 4 x world size 1073741824" "$slm" predict $big --device cpu
"$slm" info $big >"$dir/big.info" 2>&1
check $? "slm info plans --world-size 1073741824 --micro-batch 4 without overflowing (exit 0)"
wide="--model tiny --strategy ddp --world-size 65536 --micro-batch 65536 --seq-len 1 --global-batch 1"
expect 2 "must be a multiple of --micro-batch 65536 x world size 65536" "$slm" predict $wide --device cpu
expect 2 "must be a multiple of --micro-batch 65536 x world size 1" "$slm" info $wide
printf '{"model": "tiny", "strategy": "ddp", "world_size": [65536],\n "micro_batch": [65536], "seq_len": 1}\n' >"$dir/wide.json"
expect 2 "4294967296 sequences per step, past the 2147483647" "$slm" sweep "$dir/wide.json" --dry-run
expect 2 "4294967296 sequences per step, past the 2147483647" "$slm" predict --grid "$dir/wide.json" --device cpu --out "$dir/wide.jsonl"

# absurd values refused, not turned into +inf or into the default
expect 2 "adam-eps: 1e39 is out of range" "$slm" train --model tiny --adam-eps 1e39
expect 2 "min-time: 1e39 is out of range" "$slm" bench --model tiny --min-time 1e39
expect 2 "make more than 2147483647 steps" "$slm" bench --model tiny --min-steps 2147483647 --warmup-steps 5
expect 2 "warmup-steps must be >= 0 (got -5)" "$slm" train --model tiny --warmup-steps -5
expect 2 "min-lr must be >= 0 (got -5)" "$slm" train --model tiny --min-lr -5
expect 2 "mem-limit 0 is less than one byte" "$slm" train --model tiny --mem-limit 0
expect 2 "mem-limit 0.5 is less than one byte" "$slm" train --model tiny --mem-limit 0.5
expect 2 "world-size must be positive (got 0)" "$slm" predict --model tiny --world-size 0 --device cpu
ddp2="--model tiny --strategy ddp --world-size 2 --micro-batch 1 --global-batch 2"
expect 2 "nodes must be positive (got 0)" "$slm" predict $ddp2 --nodes 0 --device cpu
expect 2 "devices-per-node must be positive (got 0)" "$slm" predict $ddp2 --devices-per-node 0 --device H100-80GB
expect 2 "device '' has an empty item" "$slm" predict --model tiny --device ""
expect 2 "must be positive" "$slm" advise --model 100m --tokens 0
expect 2 "must be positive" "$slm" advise --model 100m --seq-len 0
expect 2 "must be positive" "$slm" advise --model 100m --global-batch 0
expect 2 "devices '1,,2' has an empty item" "$slm" advise --model 100m --devices 1,,2
expect 2 "device 'H100-80GB,' has an empty item" "$slm" advise --model 100m --device H100-80GB,
# a prices file advise cannot read is an error, not "0 configurations"
expect 2 "cannot open prices file $dir/missing-prices.json" "$slm" advise --model 100m --prices "$dir/missing-prices.json"
printf 'prices, not JSON\n' >"$dir/garbage-prices.json"
expect 2 "garbage-prices.json:1: not valid JSON" "$slm" advise --model 100m --prices "$dir/garbage-prices.json"
printf '{"devices": {"cpu": {"unit": "vCPU-hour", "date": "2024-06", "sources": []}}}\n' >"$dir/cpu-prices.json"
expect 2 "cpu-prices.json has no price for device 'A100-40GB'" "$slm" advise --model 100m --prices "$dir/cpu-prices.json"

# control characters of an input file are escaped in the message that quotes it (ESC as \x1b), never echoed raw
esc=$(printf '\033')
no_raw_esc() { ! grep -q "$esc" "$dir/err"; check $? "  ... and the message holds no raw ESC byte"; }
printf '{"n_layers": 2, "\\u001b[31mwings": 2}' >"$dir/esc_model.json"
expect 2 'unknown field "\\x1b\[31mwings"' "$slm" info --model "$dir/esc_model.json"
no_raw_esc
printf '{"model": "tiny", "\\u001b[2Jkey": 1}' >"$dir/esc_key.json"
expect 2 'unknown key "\\x1b\[2Jkey"' "$slm" sweep "$dir/esc_key.json" --dry-run --out "$dir/esc.jsonl"
no_raw_esc
printf '{"model": "\\u001b[2Jtiny"}' >"$dir/esc_value.json"
expect 2 '"model" is "\\x1b\[2Jtiny": expected text without control characters' \
    "$slm" sweep "$dir/esc_value.json" --dry-run --out "$dir/esc.jsonl"
no_raw_esc
printf '{"model": tiny\033[2J}' >"$dir/esc_json.json"
expect 2 'not valid JSON near .tiny\\x1b\[2J}' "$slm" sweep "$dir/esc_json.json" --dry-run --out "$dir/esc.jsonl"
no_raw_esc
printf '{"format": "slm-checkpoint-manifest", "world_size": 2, "shards": ["a\\u001b[2J", "b"]}' >"$dir/esc.manifest"
expect 1 'shard 0 ("a\\x1b\[2J") is not a file name' "$slm" train $run --steps 3 --resume "$dir/esc.manifest"
no_raw_esc

finish bad_input
