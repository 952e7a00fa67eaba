#!/bin/sh
# bf16_vs_torch.sh — slm's CPU bf16 training step against PyTorch's bf16
# autocast step (transformers' LlamaForCausalLM of the same shape, fp32 master
# weights, AdamW, scripts/gpu/torch_llama_bench.py --device cpu --precision amp)
# on the same thread count, in alternating rounds: slm, torch, slm, torch, …
# Prints each round's tokens/s and the ratio slm/torch per round, then the
# median ratio. A benchmark, not a test: it prints figures and exits 0.
#
# usage: bench/bf16_vs_torch.sh [POINT...]     POINT = model:seq_len:micro_batch[:attention]
#        default: 100m:1024:1:flash 100m:1024:4:flash small:256:8:flash
# env:   OMP_NUM_THREADS (default 2), ROUNDS (3), MIN_S (seconds per timed run, 10),
#        PYTHON (a Python with torch and transformers; default python3), BUILD (build)
set -u
cd "$(dirname "$0")/.."
: "${OMP_NUM_THREADS:=2}" "${ROUNDS:=3}" "${MIN_S:=10}" "${PYTHON:=python3}" "${BUILD:=build}"
export OMP_NUM_THREADS
[ -x "$BUILD/bench/bench_step" ] && [ -x "$BUILD/slm" ] || {
    echo "bf16_vs_torch: build first (make, then cmake --build $BUILD --target bench_step)" >&2
    exit 2
}
"$PYTHON" -c "import torch, transformers" 2>/dev/null || {
    echo "bf16_vs_torch: $PYTHON has no torch/transformers (pip install torch transformers numpy; PYTHON=...)" >&2
    exit 2
}
echo "CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1); bf16 flags:" \
    "$(grep -o -E 'avx512_bf16|amx_bf16' /proc/cpuinfo | sort -u | tr '\n' ' ')threads $OMP_NUM_THREADS"
echo "torch: $("$PYTHON" -c 'import torch, transformers; print(torch.__version__, "transformers", transformers.__version__)')"
[ $# -eq 0 ] && set -- 100m:1024:1:flash 100m:1024:4:flash small:256:8:flash
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for point in "$@"; do
    IFS=: read -r model seq mb attn <<EOF
$point
EOF
    attn=${attn:-flash}
    : >"$tmp/ratios"
    r=1
    while [ "$r" -le "$ROUNDS" ]; do
        "$BUILD/bench/bench_step" --points "$model:$seq:$mb" --dtypes bf16 --rounds 1 --attention "$attn" \
            --min-s "$MIN_S" >"$tmp/slm.out" 2>&1
        slm_tps=$(sed -n 's/^  \([0-9.]*\) tokens\/s.*/\1/p' "$tmp/slm.out" | head -n 1)
        "$PYTHON" scripts/gpu/torch_llama_bench.py --device cpu --slm "$BUILD/slm" --model "$model" --seq-len "$seq" \
            --micro-batch "$mb" --attention "$attn" --frameworks eager --precision amp --warmup-steps 1 \
            --min-steps 10 --min-time "$MIN_S" >"$tmp/torch.out" 2>&1
        torch_tps=$(sed -n 's/.* \([0-9.]*\) tokens\/s.*/\1/p' "$tmp/torch.out" | head -n 1)
        if [ -z "$slm_tps" ] || [ -z "$torch_tps" ]; then
            echo "$point round $r: a run failed:"
            tail -n 3 "$tmp/slm.out" "$tmp/torch.out"
            exit 1
        fi
        ratio=$(awk -v a="$slm_tps" -v b="$torch_tps" 'BEGIN { printf "%.2f", a / b }')
        echo "$ratio" >>"$tmp/ratios"
        echo "$model T=$seq mb $mb $attn, round $r: slm bf16 $slm_tps tokens/s, torch bf16 autocast $torch_tps" \
            "tokens/s: $ratio x"
        r=$((r + 1))
    done
    echo "$model T=$seq mb $mb $attn: slm bf16 / torch bf16 autocast = $(sort -n "$tmp/ratios" |
        awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }')x" \
        "(median of $ROUNDS alternating rounds; $(sort -n "$tmp/ratios" | head -n 1) to $(sort -n "$tmp/ratios" |
            tail -n 1))"
done
