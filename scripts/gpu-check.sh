#!/bin/sh
# gpu-check.sh — what `make gpu-check GPU_CHECK=PART` runs on a GPU machine:
# the CUDA build (Release, build-gpu/), the GPU tests, then the part's
# benchmarks — `slm bench --backend cuda` beside PyTorch (transformers'
# LlamaForCausalLM, eager and torch.compile) at the same shapes, and slm's
# FlashAttention-2 kernels beside PyTorch SDPA flash, and (quick) slm under
# each strategy with the NCCL communicator at world size 1 — writing records
# to a results folder and printing one table (scripts/gpu/table.py). docs/gpu.md.
# Usage: scripts/gpu-check.sh quick|full-a|full-b
#   env: OUT_DIR (results; default bench/results/<date>-<device>-gpu-check), JOBS (build, 16),
#        SHAPES ("MODEL:MICRO_BATCH[:ATTENTION] ..." instead of the part's; no attention = both),
#        STRATEGIES (quick: "ddp fsdp-full fsdp-grad-op" at 100m B 8 flash; "" for none),
#        GPU_CHECK_BUDGET_S (480)
#
# The one design decision to know: every part must end within 10 minutes on
# one H100, so the parts split the shapes, and no benchmark starts once the
# part has run GPU_CHECK_BUDGET_S seconds: what is left is listed as not run.
# Without a GPU it builds, runs the GPU tests (they skip), and stops before
# the benchmarks with one line, exiting with the tests' status.
set -u
part=${1:-quick}
case $part in
quick) shapes="100m:8 1b:8:flash" run_tests=1 run_attention=1 strategies="ddp fsdp-full fsdp-grad-op" ;;
full-a) shapes="1b:8:vanilla 100m:16 500m:8:flash" run_tests=0 run_attention=0 strategies="" ;;
full-b) shapes="500m:8:vanilla 1b:16:flash 2b:4:flash 2b:8:flash" run_tests=0 run_attention=0 strategies="" ;;
*)
    echo "slm: gpu-check part '$part' unknown (expected quick, full-a or full-b)" >&2
    exit 2
    ;;
esac
shapes=${SHAPES:-$shapes}
strategies=${STRATEGIES-$strategies}
seq_len=1024
budget_s=${GPU_CHECK_BUDGET_S:-480}
build="build-gpu"
start_s=$(date +%s)
status=0
say() { echo "[$(($(date +%s) - start_s)) s] $*"; }

# A GPU's name and compute capability, when there is one.
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1)
cap=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n 1 | tr -d .)

# Libraries the machine may lack: the .debs of `make gpu-deps`, unpacked into
# a private prefix inside the build folder (never into /), handed to CMake as
# hints and to the programs through LD_LIBRARY_PATH.
hints=""
if ls .gpu-deps/*.deb >/dev/null 2>&1; then
    prefix=$PWD/$build/deps
    rm -rf "$prefix" && mkdir -p "$prefix"
    for deb in .gpu-deps/*.deb; do
        dpkg -x "$deb" "$prefix" || { echo "slm: cannot unpack $deb (dpkg -x)" >&2; exit 1; }
    done
    libdir=$(ls -d "$prefix"/usr/lib/*-linux-gnu | head -n 1)
    multiarch=$(basename "$libdir")
    hints="-DCMAKE_PREFIX_PATH=$prefix/usr -DOPENBLAS_LIB=$libdir/openblas-openmp/libopenblas.so"
    hints="$hints -DOPENBLAS_INC=$prefix/usr/include/$multiarch/openblas-openmp"
    export LD_LIBRARY_PATH="$libdir/openblas-openmp:$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    say "libraries from .gpu-deps/ unpacked into $prefix"
fi

# The build: Release, CUDA on, for this GPU's architecture only when there is one.
mkdir -p "$build"
gen=""
[ ! -f "$build/CMakeCache.txt" ] && command -v ninja >/dev/null 2>&1 && gen="-G Ninja"
arch=""
[ -n "$cap" ] && arch="-DCMAKE_CUDA_ARCHITECTURES=$cap"
# shellcheck disable=SC2086 # word splitting of the flag lists is meant
if ! cmake -S . -B "$build" $gen -DCMAKE_BUILD_TYPE=Release -DSLM_CUDA=ON $arch $hints >"$build/configure.log" 2>&1; then
    tail -n 20 "$build/configure.log"
    echo "slm: configuring $build failed (log above; missing libraries: run make gpu-deps on a connected machine and carry .gpu-deps/)" >&2
    exit 1
fi
if ! grep -q "CUDA backend on" "$build/configure.log"; then
    echo "slm: $build has no CUDA backend (nvcc not found? see $build/configure.log)" >&2
    exit 1
fi
say "building $build (Release, CUDA${cap:+ sm_$cap}, -j ${JOBS:-16})"
if ! cmake --build "$build" -j "${JOBS:-16}" >"$build/build.log" 2>&1; then
    tail -n 30 "$build/build.log"
    echo "slm: the build failed (log above, whole in $build/build.log)" >&2
    exit 1
fi

# The GPU tests, every test labelled gpu (a "// label: gpu" line): each
# prints "skipped: no GPU" and passes on a machine without one.
if [ "$run_tests" = 1 ]; then
    n=$(cd "$build" && ctest -N -L gpu | sed -n 's/^Total Tests: //p')
    if [ "${n:-0}" -eq 0 ]; then
        say "no GPU tests (CTest label gpu) in this tree"
    else
        say "GPU tests ($n, label gpu)"
        (cd "$build" && ctest -L gpu --output-on-failure) || status=1
    fi
fi

if [ -z "$gpu" ]; then
    echo "slm: no CUDA device: the benchmarks need a GPU"
    exit $status
fi

slug=$(echo "$gpu" | tr '[:upper:]' '[:lower:]' | tr -cs 'a-z0-9' '-' | sed 's/^-//; s/-$//')
out=${OUT_DIR:-bench/results/$(date -u +%Y-%m-%d)-$slug-gpu-check}
mkdir -p "$out/logs"
say "benchmarks of part $part on $gpu: records and logs in $out"

# Runs one benchmark command unless the budget is spent; its output goes to
# logs/NAME.txt, and the run counts as failed when it wrote no line to FILE.
not_run=""
bench() {
    name=$1 file=$2
    shift 2
    if [ $(($(date +%s) - start_s)) -ge "$budget_s" ]; then
        not_run="$not_run $name"
        return
    fi
    touch "$file"
    before=$(wc -l <"$file")
    "$@" >"$out/logs/$name.txt" 2>&1
    rc=$?
    after=$(wc -l <"$file")
    if [ "$after" -gt "$before" ]; then
        say "$name: exit $rc, $((after - before)) record(s)"
    else
        say "$name: exit $rc, no record: $(tail -n 1 "$out/logs/$name.txt")"
        status=1
    fi
}

if [ "$run_attention" = 1 ]; then
    bench attention-slm "$out/attention.jsonl" "$build/bench/bench_attention_cuda" --out "$out/attention.jsonl"
    bench attention-sdpa "$out/attention.jsonl" python3 scripts/gpu/torch_sdpa_bench.py --out "$out/attention.jsonl"
fi
for shape in $shapes; do
    model=${shape%%:*} rest=${shape#*:}
    mb=${rest%%:*} attentions="flash vanilla"
    [ "$rest" != "$mb" ] && attentions=${rest#*:}
    for attention in $attentions; do
        tag=$model-t$seq_len-b$mb-$attention
        bench "slm-$tag" "$out/slm.jsonl" "$build/slm" bench --backend cuda --model "$model" --seq-len $seq_len \
            --micro-batch "$mb" --global-batch "$mb" --attention "$attention" --out "$out/slm.jsonl"
        bench "pytorch-$tag" "$out/pytorch.jsonl" python3 scripts/gpu/torch_llama_bench.py --slm "$build/slm" \
            --model "$model" --seq-len $seq_len --micro-batch "$mb" --attention "$attention" \
            --out "$out/pytorch.jsonl"
    done
done
# The NCCL communicator at world size 1 under each strategy, beside single's
# run of the same shape above (100m:8 flash): what ddp's and fsdp's copies and
# collectives cost on one GPU.
for strategy in $strategies; do
    bench "slm-100m-t$seq_len-b8-flash-$strategy" "$out/slm.jsonl" "$build/slm" bench --backend cuda --model 100m \
        --seq-len $seq_len --micro-batch 8 --global-batch 8 --attention flash --strategy "$strategy" \
        --out "$out/slm.jsonl"
done
[ -n "$not_run" ] && say "not run (past the ${budget_s} s budget):$not_run" && status=1

python3 scripts/gpu/table.py "$out" || status=1
say "done: $out/table.md"
exit $status
