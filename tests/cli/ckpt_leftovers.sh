#!/bin/sh
# label: mpi
# What saves that did not finish leave beside a checkpoint is removed by the
# next run that saves there, and slm train says what it removed: temporaries
# PATH.tmp.<pid> of processes that are gone, FSDP shard temporaries, and shards
# the manifest does not name. Files named otherwise (a live process's
# temporary, a name that only resembles a shard's, a directory) are kept. A
# save whose manifest cannot be written removes the shards written for it.
# Ranks take one thread each; leak checks are off under mpirun, as in test_dist.
slm=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir/one" "$dir/two" "$dir/three"
. tests/cli_lib.sh
export LC_ALL=C

run="--model tiny --seq-len 32 --micro-batch 1 --global-batch 2 --eval-every 0 --eval-batches 1"
mpi="timeout 300 mpirun -np 2 --oversubscribe -x OMP_NUM_THREADS=1 -x ASAN_OPTIONS=detect_leaks=0:exitcode=23"
[ "$(id -u)" -eq 0 ] && mpi="$mpi --allow-run-as-root"
listing() { (cd "$1" && ls -A | sort | tr '\n' ' '); }
sorted() { printf '%s\n' "$@" | sort | tr '\n' ' '; }
removed() { grep '^removed ' "$1" | sed 's/ (.*//' | sed "s|^removed $2/||" | sort | tr '\n' ' '; }

# one process: a killed save's temporary beside a one-file checkpoint
"$slm" train $run --steps 2 --save "$dir/one/ck" >/dev/null 2>&1
head -c 1048576 /dev/zero >"$dir/one/ck.tmp.99999999"
touch "$dir/one/ck.step1.0000abcd.rank0-of-2" "$dir/one/ck.tmp.$$" "$dir/one/ck.tmp.099" "$dir/one/ck.tmp.1x" \
    "$dir/one/ckx.tmp.99999999" "$dir/one/other.tmp.99999999" "$dir/one/ck.bak"
"$slm" train $run --steps 4 --resume "$dir/one/ck" --save "$dir/one/ck" >"$dir/one.out" 2>&1
check $? "a run resumes and saves beside the leftovers"
grep -q "^removed $dir/one/ck.tmp.99999999 (1048576 bytes), left by a save of $dir/one/ck that did not finish" \
    "$dir/one.out"
check $? "slm train says what it removed, with its size: $(grep '^removed.*tmp' "$dir/one.out")"
[ "$(removed "$dir/one.out" "$dir/one")" = "ck.step1.0000abcd.rank0-of-2 ck.tmp.99999999 " ]
check $? "it removed the dead process's temporary and the orphan shard, nothing else: $(removed "$dir/one.out" "$dir/one")"
[ "$(listing "$dir/one")" = "$(sorted ck ck.bak ck.tmp.$$ ck.tmp.099 ck.tmp.1x ckx.tmp.99999999 other.tmp.99999999)" ]
check $? "a live process's temporary and files of other names are kept: $(listing "$dir/one")"

touch "$dir/one/ck.tmp.99999997"
"$slm" train $run --steps 4 --resume "$dir/one/ck" --save "$dir/one/ck" >"$dir/done.out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "at step 4 already" "$dir/done.out" && [ ! -e "$dir/one/ck.tmp.99999997" ]
check $? "a run whose checkpoint is at --steps already (exit $rc) removes the leftovers too"

# FSDP at 2 ranks: orphan shards, shard and manifest temporaries
$mpi "$slm" train $run --strategy fsdp-full --steps 2 --save "$dir/two/f.ck" >/dev/null 2>&1
named=$(listing "$dir/two")
for f in f.ck.step1.0000abcd.rank0-of-2 f.ck.step1.0000abcd.rank1-of-2 f.ck.step3.0000abce.rank1-of-2.tmp.99999998 \
    f.ck.tmp.99999999 f.ck.step1.0000ABCD.rank0-of-2 f.ck.step1.0000abcd.rank2-of-2 f.ck.step01.0000abcd.rank0-of-2 \
    f.ck.step1.0000abcd.rank0-of-2.bak f.ck.step1.000abcd.rank0-of-2 f.ck.step1.0000abcd.rank0-of-1 notes.txt; do
    head -c 4096 /dev/zero >"$dir/two/$f"
done
mkdir "$dir/two/f.ck.step1.0000abcd.rank1-of-3"
$mpi "$slm" train $run --strategy fsdp-full --steps 4 --resume "$dir/two/f.ck" --save "$dir/two/f.ck" \
    >"$dir/two.out" 2>&1
check $? "an FSDP run resumes from its manifest and saves beside the leftovers"
want="f.ck.step1.0000abcd.rank0-of-2 f.ck.step1.0000abcd.rank1-of-2 f.ck.step3.0000abce.rank1-of-2.tmp.99999998 \
f.ck.tmp.99999999 "
[ "$(removed "$dir/two.out" "$dir/two")" = "$want" ]
check $? "it removed the shards no manifest names and the temporaries, nothing else: $(removed "$dir/two.out" "$dir/two")"
left=$(listing "$dir/two" | tr ' ' '\n' | grep -v '^f\.ck\.step4\.[0-9a-f]\{8\}\.rank[01]-of-2$' | tr '\n' ' ')
[ "$left" = "$(sorted f.ck f.ck.step01.0000abcd.rank0-of-2 f.ck.step1.000abcd.rank0-of-2 f.ck.step1.0000ABCD.rank0-of-2 \
    f.ck.step1.0000abcd.rank0-of-1 f.ck.step1.0000abcd.rank0-of-2.bak f.ck.step1.0000abcd.rank1-of-3 \
    f.ck.step1.0000abcd.rank2-of-2 notes.txt)" ] && [ "$(ls "$dir/two" | grep -c '^f\.ck\.step4\.')" -eq 2 ]
check $? "beside the new manifest and its 2 shards only the files of other names are left: $left (was $named)"

# the manifest cannot be written (its name is a directory): the shards written for it go too
mkdir -p "$dir/three/m.ckpt" && touch "$dir/three/m.ckpt/keep"
$mpi "$slm" train $run --strategy fsdp-full --steps 2 --save "$dir/three/m.ckpt" >"$dir/three.out" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "cannot rename .*m.ckpt" "$dir/three.out" && [ "$(listing "$dir/three")" = "m.ckpt " ]
check $? "a save whose manifest fails (exit $rc) leaves none of its shards: $(listing "$dir/three")"
finish ckpt_leftovers
