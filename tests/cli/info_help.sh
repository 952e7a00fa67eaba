#!/bin/sh
# `slm info` and `--help`: the 1b preset counts 0.9–1.1 billion parameters;
# every subcommand's --help answers with exit 0; and the memory `slm info`
# predicts for a configuration is exactly the peak the tracker records when
# that configuration trains.
slm=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir"
. tests/cli_lib.sh

"$slm" info --model 1b >"$dir/info1b"
params=$(sed -n 's/^parameters: \([0-9]*\).*/\1/p' "$dir/info1b")
awk -v p="$params" 'BEGIN { exit !(p >= 0.9e9 && p <= 1.1e9) }'
check $? "info --model 1b: $params parameters, within 0.9-1.1 billion"
grep -q "FLOPs per token" "$dir/info1b"
check $? "info --model 1b prints FLOPs per token"

for cmd in "" train tokenize sample info; do
    "$slm" $cmd --help >"$dir/help" 2>&1
    rc=$?
    [ $rc -eq 0 ] && grep -q "usage" "$dir/help"
    check $? "slm $cmd --help answers (exit $rc)"
done

printf '{"name": "mine", "n_layers": 3, "d_model": 96, "n_heads": 6, "n_kv_heads": 2, "ffn_dim": 200, "vocab": 300, "seq_len": 64, "tie_embeddings": true}' >"$dir/m.json"
"$slm" info --model "$dir/m.json" >"$dir/infojson" 2>&1
grep -q "model mine: 3 layers, d_model 96, 6 heads (2 kv), head dim 16, ffn 200, vocab 300, max seq 64, tied head" "$dir/infojson"
check $? "info reads a JSON model file: $(head -n 1 "$dir/infojson")"
"$slm" info --model tiny --n-layers 2 --d-model 64 --n-heads 2 >"$dir/infoflags" 2>&1
grep -q "model custom: 2 layers, d_model 64, 2 heads (2 kv)" "$dir/infoflags"
check $? "shape flags override a preset: $(head -n 1 "$dir/infoflags")"

cfg="--model tiny --seq-len 48 --micro-batch 3 --global-batch 6"
"$slm" info $cfg >"$dir/info"
predicted=$(sed -n 's/.*total.*(\([0-9]*\) bytes)/\1/p' "$dir/info")
"$slm" train $cfg --steps 2 --eval-batches 1 --out "$dir/rec.jsonl" >/dev/null
measured=$(sed -n 's/.*"peak_mem_bytes":\([0-9]*\).*/\1/p' "$dir/rec.jsonl")
[ -n "$predicted" ] && [ "$predicted" = "$measured" ]
check $? "info's memory estimate $predicted bytes equals the training run's tracked peak $measured bytes"

finish info_help
