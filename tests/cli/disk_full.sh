#!/bin/sh
# A full disk: a small tmpfs, filled to its last page. A result record that
# no longer fits is refused with one line and the results file stays byte for
# byte as it was (no torn line); a checkpoint save that does not fit fails
# with one line and the checkpoint it would have replaced still resumes; a
# --log-file that cannot be written fails the run with one line naming it.
# Mounting needs root: as another user, or where the mount fails, the test
# says "skipped: ..." and passes.
slm=$1
dir=$2
mnt=$dir/disk
umount "$mnt" 2>/dev/null  # left mounted by a run that was killed
rm -rf "$dir" && mkdir -p "$mnt"
. tests/cli_lib.sh
if [ "$(id -u)" -ne 0 ]; then
    echo "skipped: not root (mounting a tmpfs needs root)"
    exit 0
fi
if ! mount -t tmpfs -o size=4m slm-disk-full "$mnt" 2>"$dir/mount.err"; then
    echo "skipped: cannot mount a tmpfs: $(head -n 1 "$dir/mount.err")"
    exit 0
fi
trap 'umount "$mnt"' EXIT
trap 'exit 1' INT TERM

# a model of about 100k parameters (a 1.2 MB checkpoint), synthetic data, two steps: seconds
run="--model tiny --n-layers 1 --d-model 64 --n-heads 4 --n-kv-heads 2 --ffn-dim 128 --seq-len 32 --micro-batch 2
     --global-batch 2 --steps 2 --eval-batches 1"
# shellcheck disable=SC2086 # $run is a flag list
"$slm" train $run --out "$mnt/results.jsonl" --save "$mnt/ck" >"$dir/setup.out" 2>&1
check $? "a run records its result and saves a checkpoint on the tmpfs"
# pad the results file's last page to 100 bytes short of full (a blank line, which readers skip): the next record
# is then cut short after 100 bytes, as on a disk that fills in the middle of a write
size=$(wc -c <"$mnt/results.jsonl")
pad=$(((8192 - size % 4096 - 100) % 4096))
awk -v n="$pad" 'BEGIN { s = sprintf("%*s", n - 1, ""); print s }' >>"$mnt/results.jsonl"
cp "$mnt/results.jsonl" "$dir/results.before"
dd if=/dev/zero of="$mnt/fill" bs=4096 2>/dev/null
[ "$(df -P "$mnt" | awk 'NR == 2 { print $4 }')" -eq 0 ]
check $? "the tmpfs is full ($(df -P "$mnt" | awk 'NR == 2 { print $4 }') KiB free)"

# shellcheck disable=SC2086
expect 1 "cannot append the result record to $mnt/results.jsonl" "$slm" train $run --out "$mnt/results.jsonl"
cmp -s "$mnt/results.jsonl" "$dir/results.before"
check $? "the results file is byte for byte as before ($(wc -c <"$mnt/results.jsonl") bytes, no torn line)"

# shellcheck disable=SC2086
expect 1 "writing checkpoint $mnt/ck.tmp.[0-9]* failed" "$slm" train $run --steps 4 --resume "$mnt/ck" --save "$mnt/ck"
# shellcheck disable=SC2086
"$slm" train $run --steps 3 --resume "$mnt/ck" >"$dir/resume.out" 2>&1 &&
    grep -q "resumed from $mnt/ck at step 2" "$dir/resume.out"
check $? "the checkpoint the failed save would have replaced still resumes (at step 2)"

# shellcheck disable=SC2086
expect 1 "writing --log-file $mnt/log.jsonl failed: No space left on device" "$slm" train $run --log-file "$mnt/log.jsonl"

finish disk_full
