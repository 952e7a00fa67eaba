#!/bin/sh
# label: mpi
# Kill campaign, the quick one (tests/cli/kill_slow.sh is the long one):
# SIGKILL at random moments of steps and saves (--save-every 1), every run
# resumed with --resume until it ends: one process killed twice, FSDP at 2
# ranks killed twice; the losses must be bitwise those of an uninterrupted
# run and no temporary or orphan shard may be left. A sweep with --rounds 2
# killed twice and started again must record every point and every round
# exactly once. tests/kill_lib.sh says how kills are timed.
slm=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir"
. tests/cli_lib.sh
seed=${SLM_KILL_SEED:-1}
. tests/kill_lib.sh
echo "kill times from seed $seed (SLM_KILL_SEED=$seed reruns them)"
train_setup 12
train_campaign single 2 2 "$slm" train $run
train_campaign fsdp 2 2 $mpi "$slm" train $run --strategy fsdp-full
sweep_campaign sweep-rounds2 2 2 1
kill_summary
finish kill
