#!/bin/sh
# label: mpi
# The communicator follows the backend (src/parallel/comm_select.c). Without a
# GPU: `--backend cuda` stops with one line (no CUDA device, or no CUDA in
# this build) and exit 1, also when SLM_WORLD_SIZE asks for several ranks
# with a rendezvous; SLM_WORLD_SIZE 2 without SLM_RENDEZVOUS is refused at
# the edge with one line and exit 2. On the cpu backend the SLM_* variables
# change nothing (a run alone records world_size 1), and under
# `mpirun -np 2` it still runs over MPI: one record, world_size 2, nodes 1.
# The cuda checks are skipped where a GPU is present (test_nccl_strategies
# runs the cuda path there). Leak checks are off under mpirun, as in test_dist
# (OpenMPI and OpenBLAS keep allocations to exit).
slm=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir"
fails=0
check() {
    if [ "$1" -eq 0 ]; then echo "ok   $2"; else echo "FAIL $2" && fails=$((fails + 1)); fi
}
run="--model tiny --seq-len 32 --micro-batch 2 --global-batch 4 --warmup-steps 1 --min-steps 2 --min-time 0"

if nvidia-smi -L >/dev/null 2>&1; then
    echo "skipped: a GPU is present (the cuda refusals need a machine without one)"
else
    # shellcheck disable=SC2086 # $run is a flag list
    "$slm" bench --backend cuda $run --out "$dir/cuda.jsonl" >"$dir/cuda.out" 2>"$dir/cuda.err"
    rc=$?
    [ $rc -ne 0 ] && [ "$(wc -l <"$dir/cuda.err")" -eq 1 ] && grep -Eq "no CUDA (device|backend)" "$dir/cuda.err"
    check $? "--backend cuda without a GPU: exit $rc, one line: $(cat "$dir/cuda.err")"
    # shellcheck disable=SC2086
    SLM_WORLD_SIZE=2 SLM_RANK=0 "$slm" bench --backend cuda $run --out "$dir/cuda2.jsonl" >"$dir/cuda2.out" \
        2>"$dir/cuda2.err"
    rc=$?
    [ $rc -eq 2 ] && [ "$(wc -l <"$dir/cuda2.err")" -eq 1 ] && grep -q "SLM_RENDEZVOUS" "$dir/cuda2.err"
    check $? "SLM_WORLD_SIZE=2 without SLM_RENDEZVOUS on cuda: exit $rc, one line: $(cat "$dir/cuda2.err")"
    # shellcheck disable=SC2086
    SLM_WORLD_SIZE=2 SLM_RANK=1 SLM_RENDEZVOUS="file:$dir/rdv" "$slm" bench --backend cuda --strategy ddp $run \
        --out "$dir/cuda3.jsonl" >"$dir/cuda3.out" 2>"$dir/cuda3.err"
    rc=$?
    [ $rc -eq 1 ] && [ "$(wc -l <"$dir/cuda3.err")" -eq 1 ] && grep -Eq "no CUDA (device|backend)" "$dir/cuda3.err"
    check $? "rank 1 of 2 with a rendezvous on cuda without a GPU: exit $rc, one line: $(cat "$dir/cuda3.err")"
fi

# shellcheck disable=SC2086
SLM_WORLD_SIZE=2 SLM_RANK=1 "$slm" bench --backend cpu $run --out "$dir/cpu.jsonl" >"$dir/cpu.out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q '"status":"ok".*"world_size":1,' "$dir/cpu.jsonl"
check $? "--backend cpu ignores SLM_WORLD_SIZE: exit $rc, a record of world_size 1"

root=""
[ "$(id -u)" -eq 0 ] && root="--allow-run-as-root"
# shellcheck disable=SC2086
timeout 120 mpirun --oversubscribe $root -np 2 -x OMP_NUM_THREADS=1 -x ASAN_OPTIONS=detect_leaks=0 "$slm" bench --backend cpu --strategy ddp $run \
    --out "$dir/mpi.jsonl" >"$dir/mpi.out" 2>&1
rc=$?
[ $rc -eq 0 ] && [ "$(wc -l <"$dir/mpi.jsonl")" -eq 1 ] && grep -q '"status":"ok".*"world_size":2,' "$dir/mpi.jsonl" &&
    grep -q '"nodes":1[,}]' "$dir/mpi.jsonl"
check $? "--backend cpu under mpirun -np 2: exit $rc, one record, world_size 2, nodes 1 (MPI)"

echo "$fails failed"
[ "$fails" -eq 0 ]
