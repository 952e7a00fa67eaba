#!/bin/sh
# label: slow
# label: mpi
# Kill campaign, the long one (tests/cli/kill.sh is the quick one): 22 SIGKILLs
# at random moments of steps and saves (--save-every 1) of a 30-step training,
# every run resumed with --resume until it ends, in 4 trials: one process (2
# trials of 6 kills) and FSDP at 2 ranks (2 trials of 5 kills); each trial's
# losses must be bitwise those of an uninterrupted run and no temporary or
# orphan shard may be left. Then sweeps killed and started again until done,
# with --rounds 1 (3 kills) and --rounds 2 (6 kills): every point and every
# round recorded exactly once. tests/kill_lib.sh says how kills are timed.
slm=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir"
. tests/cli_lib.sh
seed=${SLM_KILL_SEED:-2}
. tests/kill_lib.sh
echo "kill times from seed $seed (SLM_KILL_SEED=$seed reruns them)"
train_setup 30
train_campaign single 12 6 "$slm" train $run
train_campaign fsdp 10 5 $mpi "$slm" train $run --strategy fsdp-full
sweep_campaign sweep-rounds1 1 3 "1, 2"
sweep_campaign sweep-rounds2 2 6 "1, 2"
kill_summary
finish kill_slow
