#!/bin/sh
# fuzz.sh — builds the libFuzzer targets (build-fuzz: clang, ASan, UBSan;
# cmake/fuzz.cmake) and runs each for SECONDS on a scratch copy of its seed
# corpus and regression inputs (build-fuzz/corpus/<reader>, kept between
# runs, so a later run starts from what an earlier one found; the committed
# tests/fuzz/corpus is never written). Prints, per target, the CPU seconds it
# used, the inputs it executed and whether it crashed; a crash's input is in
# build-fuzz/crashes/<reader>/. Appends each run's final libFuzzer stats to
# FUZZ_LOG. Exits 1 when any target crashed.
# Usage: scripts/fuzz.sh SECONDS [READER...]   (make fuzz, make fuzz-smoke)
#   READER: tokfile bpe checkpoint ... (the fuzz_<reader>.c of tests/fuzz); default every one
#   FUZZ_BUILD (build-fuzz), FUZZ_LOG (FUZZ_BUILD/fuzz-stats.log), JOBS (the build's jobs),
#   FUZZ_SEED (libFuzzer's -seed; 0, the default, a new one each run)
set -e
cd "$(dirname "$0")/.."
seconds=${1:?usage: scripts/fuzz.sh SECONDS [READER...]}
shift
build=${FUZZ_BUILD:-build-fuzz}
log=${FUZZ_LOG:-$build/fuzz-stats.log}
for tool in clang /usr/bin/time; do
    command -v $tool >/dev/null 2>&1 || { echo "fuzz: $tool not found (make deps installs it)" >&2; exit 2; }
done
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DSLM_FUZZ=ON >/dev/null
cmake --build "$build" -j "${JOBS:-$(nproc)}" >/dev/null
readers=${*:-$(ls tests/fuzz/fuzz_*.c | sed 's|.*/fuzz_||; s|\.c$||')}
# One thread per target: the readers are serial, and a fuzzer shares the machine.
# Scratch files (readers that take a path) in memory when it can: the writers fsync.
export OMP_NUM_THREADS=1 SLM_SOURCE_DIR="$PWD"
[ -z "$TMPDIR" ] && [ -d /dev/shm ] && [ -w /dev/shm ] && export TMPDIR=/dev/shm
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
crashed=0
printf '%-18s %10s %12s  %s\n' target "CPU s" executions crashes
for r in $readers; do
    bin=$build/fuzz_$r corpus=$build/corpus/$r crashes=$build/crashes/$r out=$build/fuzz_$r.out
    [ -x "$bin" ] || { echo "fuzz: no target $bin (tests/fuzz/fuzz_$r.c)" >&2; exit 2; }
    mkdir -p "$corpus" "$crashes"
    cp tests/fuzz/corpus/"$r"/* "$corpus"/
    [ -d tests/fuzz/regress/"$r" ] && cp tests/fuzz/regress/"$r"/* "$corpus"/
    rc=0
    /usr/bin/time -f '%U %S' -o "$out.time" "$bin" -max_total_time="$seconds" -seed="${FUZZ_SEED:-0}" -timeout=25 -print_final_stats=1 \
        -artifact_prefix="$crashes/" "$corpus" >"$out" 2>&1 || rc=$?
    cpu=$(awk 'END { printf "%.1f", $1 + $2 }' "$out.time")
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out" | tail -1)
    found=0 artifact=""  # (a slow unit is written too, but is no crash)
    [ "$rc" -ne 0 ] && found=1 crashed=1 artifact=$(sed -n 's/.*Test unit written to //p' "$out" | tail -1)
    printf '%-18s %10s %12s  %s\n' "fuzz_$r" "$cpu" "${execs:-?}" "$found${artifact:+ ($artifact)}"
    { echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ) fuzz_$r ${seconds}s: exit $rc, cpu ${cpu}s${artifact:+, crash $artifact}"
      grep '^stat::' "$out" || true; } >>"$log"
    [ "$rc" -ne 0 ] && grep -E 'ERROR|fuzz:|SUMMARY' "$out" | head -5 >&2
done
echo "fuzz: final stats of each run appended to $log"
exit $crashed
