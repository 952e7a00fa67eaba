#!/bin/sh
# Hugging Face checkpoints through the commands (docs/hf.md): slm info reads a
# directory's config.json; slm train --init-from a directory, an exported
# directory or an slm checkpoint starts at step 0 from those weights (its
# untrained validation loss is the saving run's last, to the digit); slm
# export writes one file or shards with an index, in fp32 or bf16; slm sample
# from an export writes what it writes from the checkpoint; and what is
# refused is refused with one line and the right exit code.
slm=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir"
. tests/cli_lib.sh  # check, expect CODE PATTERN COMMAND..., finish
hf=tests/data/hf
run="--seq-len 8 --micro-batch 2 --global-batch 2 --eval-batches 2"
val0() { sed -n 's/^step *0\/[0-9]* | val \([0-9.]*\) (before training).*/\1/p' "$1"; }
vallast() { sed -n 's/.*| val \([0-9.]*\) |.*/\1/p' "$1" | tail -n 1; }

"$slm" info --model $hf/llama3 >"$dir/info" 2>&1
grep -q "model llama3: 2 layers, d_model 32, 4 heads (2 kv), head dim 8, ffn 48, vocab 64, max seq 128" "$dir/info" &&
    grep -q "llama3 scaling (factor 4, low/high frequency factor 1/4, original context 32)" "$dir/info"
check $? "info --model DIR reads config.json: $(head -n 2 "$dir/info" | tr '\n' ' ')"

"$slm" train --init-from $hf/llama3 $run --steps 3 --save "$dir/a.ckpt" >"$dir/train1" 2>&1
check $? "train --init-from an HF directory, 3 steps, saved"
"$slm" train --init-from "$dir/a.ckpt" $run --steps 1 >"$dir/train2" 2>&1
rc=$?
[ $rc -eq 0 ] && [ -n "$(val0 "$dir/train2")" ] && [ "$(val0 "$dir/train2")" = "$(vallast "$dir/train1")" ] &&
    ! grep -q resumed "$dir/train2" && grep -q "step     1/1" "$dir/train2"
check $? "train --init-from its checkpoint starts at step 0 with its weights: val $(val0 "$dir/train2") (saved at $(vallast "$dir/train1"))"

"$slm" export "$dir/a.ckpt" --out "$dir/exp" >/dev/null 2>&1 && [ -f "$dir/exp/model.safetensors" ] &&
    [ -f "$dir/exp/config.json" ] && [ -f "$dir/exp/generation_config.json" ] &&
    grep -q '"rope_type":[[:space:]]*"llama3"' "$dir/exp/config.json"
check $? "export writes config.json (with its llama3 scaling), generation_config.json, model.safetensors"
"$slm" train --init-from "$dir/exp" $run --steps 1 >"$dir/train3" 2>&1
[ $? -eq 0 ] && [ "$(val0 "$dir/train3")" = "$(vallast "$dir/train1")" ]
check $? "train --init-from the export: the same weights (val $(val0 "$dir/train3"))"
"$slm" train --init-from "$dir/exp/model.safetensors" $run --steps 1 >"$dir/train4" 2>&1
[ $? -eq 0 ] && [ "$(val0 "$dir/train4")" = "$(vallast "$dir/train1")" ]
check $? "train --init-from FILE.safetensors, config.json beside it: the same"
"$slm" export "$dir/a.ckpt" --out "$dir/shards" --dtype bf16 --shard-size 30KB >/dev/null 2>&1 &&
    [ -f "$dir/shards/model.safetensors.index.json" ] && [ -f "$dir/shards/model-00002-of-00002.safetensors" ] &&
    grep -q '"torch_dtype":[[:space:]]*"bfloat16"' "$dir/shards/config.json"
check $? "export --dtype bf16 --shard-size 30KB: two shards and an index"
"$slm" train --init-from "$dir/shards" $run --steps 1 >/dev/null 2>&1
check $? "train --init-from the sharded bf16 export"

# sampling: from the export as from the checkpoint
sh scripts/corpus.sh "$dir/corpus.txt" 20000
"$slm" tokenize --text "$dir/corpus.txt" --vocab 300 --tokenizer "$dir/tok.bpe" --out "$dir/train.tok" >/dev/null 2>&1 &&
    "$slm" train --model tiny --seq-len 32 --micro-batch 2 --global-batch 2 --steps 2 --data "$dir/train.tok" \
        --save "$dir/tiny.ckpt" >/dev/null 2>&1 && "$slm" export "$dir/tiny.ckpt" --out "$dir/tiny-hf" >/dev/null
check $? "a tiny model trained on text and exported"
sample() { "$slm" sample --checkpoint "$1" --tokenizer "$dir/tok.bpe" --prompt "The " --tokens 20 --greedy; }
sample "$dir/tiny.ckpt" >"$dir/s_ckpt" 2>&1 && sample "$dir/tiny-hf" >"$dir/s_hf" 2>&1 && cmp -s "$dir/s_ckpt" "$dir/s_hf"
check $? "sample --checkpoint DIR writes what the checkpoint writes: $(head -c 40 "$dir/s_hf" | tr '\n' ' ')"
"$slm" export --help >"$dir/help" 2>&1 && grep -q "usage: slm export CKPT --out DIR" "$dir/help"
check $? "slm export --help answers"

# refused
expect 1 "tensor 'model.layers.0.mlp.gate_proj.weight' has shape \[48, 32\], this run's model has \[64, 32\]" \
    "$slm" train --init-from $hf/untied --ffn-dim 64 $run --steps 1
expect 1 "a.ckpt: tensor 'model.layers.2.input_layernorm.weight' is missing" \
    "$slm" train --init-from "$dir/a.ckpt" --n-layers 3 $run --steps 1
expect 2 "leave out --model" "$slm" train --init-from $hf/untied --model tiny --steps 1
expect 2 "give one of them" "$slm" train --init-from "$dir/a.ckpt" --resume "$dir/a.ckpt" --steps 5
expect 2 "cannot open checkpoint" "$slm" train --init-from "$dir/missing.ckpt" --steps 1
mkdir -p "$dir/gelu" && sed 's/"silu"/"gelu"/' $hf/untied/config.json >"$dir/gelu/config.json"
expect 2 "gelu/config.json: hidden_act gelu is not silu" "$slm" info --model "$dir/gelu"
mkdir -p "$dir/yarn" &&
    sed 's/"rope_type": "default"/"rope_type": "yarn", "factor": 4.0/' $hf/untied/config.json >"$dir/yarn/config.json"
expect 2 "rope_parameters type \"yarn\" is not supported" "$slm" train --init-from "$dir/yarn" --steps 1
expect 2 "export needs a checkpoint and --out DIR" "$slm" export --out "$dir/x"
expect 2 "--dtype fp16 is not fp32 or bf16" "$slm" export "$dir/a.ckpt" --out "$dir/x" --dtype fp16
expect 2 "--shard-size expects a size like 5GB" "$slm" export "$dir/a.ckpt" --out "$dir/x" --shard-size 5XB
expect 1 "cannot open checkpoint" "$slm" export "$dir/missing.ckpt" --out "$dir/x"
expect 1 "cannot make the directory" "$slm" export "$dir/a.ckpt" --out "$dir/no/such/dir"

finish hf
