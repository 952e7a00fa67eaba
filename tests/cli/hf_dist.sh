#!/bin/sh
# label: mpi
# slm train --init-from under mpirun -np 2: every strategy loads its own slices
# of a Hugging Face checkpoint (DDP the whole model on each rank, FSDP a block
# of each unit), so the untrained validation loss and the losses after two
# steps are those of the single-process run. Leak checks are off under
# mpirun, as in test_dist.
slm=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir"
. tests/cli_lib.sh
run="--init-from tests/data/hf/llama3 --seq-len 8 --micro-batch 2 --global-batch 4 --eval-batches 2 --steps 2"
losses() { grep -o 'val [0-9][0-9.]*\|loss [0-9][0-9.]*' "$1" | tr '\n' ' '; }
"$slm" train $run >"$dir/single" 2>&1
check $? "single: $(losses "$dir/single")"
root=""
[ "$(id -u)" -eq 0 ] && root="--allow-run-as-root"
for st in ddp fsdp-full fsdp-grad-op; do
    timeout 120 mpirun --oversubscribe $root -np 2 -x OMP_NUM_THREADS=1 -x ASAN_OPTIONS=detect_leaks=0 \
        "$slm" train --strategy $st $run >"$dir/$st" 2>&1
    rc=$?
    [ $rc -eq 0 ] && [ "$(losses "$dir/$st")" = "$(losses "$dir/single")" ]
    check $? "$st on 2 ranks (exit $rc): $(losses "$dir/$st")"
done
finish hf_dist
