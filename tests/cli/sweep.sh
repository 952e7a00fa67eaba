#!/bin/sh
# label: mpi
# slm sweep: a sweep killed (SIGKILL) in the middle and started again ends
# with every point recorded exactly once, and a point's record file that
# outlived its append is not appended again in a later round; points that run
# out of memory under --mem-limit are records of status oom and the sweep goes
# on past them; a configuration that cannot run, a point past its timeout and
# a two-rank DDP point (mpirun) are records too; fp32 and bf16 are two points
# of a dtype dimension (bf16 an error record where the CPU cannot run it); bad
# grid files and a bad results line are refused with one line naming the line;
# --dry-run lists what is done.
slm=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir"
. tests/cli_lib.sh

hashes() { grep -o '"config_hash":"[0-9a-f]*"' "$1" | sort; }
status_of() { grep -c "\"status\":\"$1\"" "$2"; }

# 8 points, tiny and quick: the 6M cap (parameters and gradients alone are 8.5 MiB) comes first
cat >"$dir/grid.json" <<'EOF'
{
  "model": "tiny",
  "mem_limit": ["6M", null],
  "attention": ["vanilla", "flash"],
  "micro_batch": [1, 2],
  "seq_len": 32,
  "warmup_steps": 1, "min_steps": 2, "min_time": 0.3,
  "timeout_s": 120
}
EOF
"$slm" sweep "$dir/grid.json" --out "$dir/r.jsonl" >"$dir/run1.out" 2>&1 &
pid=$!
# wait until two points are recorded (the 6M ones, quick), then kill the sweep hard mid-way
i=0
while [ "$(cat "$dir/r.jsonl" 2>/dev/null | wc -l)" -lt 2 ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.3
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
killed_at=$(wc -l <"$dir/r.jsonl")
[ "$killed_at" -ge 2 ] && [ "$killed_at" -lt 8 ]
check $? "the sweep was killed (SIGKILL) with $killed_at of 8 points recorded"
sleep 0.5
[ -z "$(pgrep -f "$dir/r.jsonl.logs" 2>/dev/null)" ]
check $? "the point it was running died with it (no bench left running)"

"$slm" sweep "$dir/grid.json" --out "$dir/r.jsonl" >"$dir/run2.out" 2>&1
rc=$?
grep -q "8 points: $((8 - killed_at)) to run, $killed_at already in" "$dir/run2.out"
check $? "the rerun skips the $killed_at recorded points (exit $rc): $(head -n 1 "$dir/run2.out")"
n=$(wc -l <"$dir/r.jsonl")
dup=$(hashes "$dir/r.jsonl" | uniq -d | wc -l)
uniq_n=$(hashes "$dir/r.jsonl" | uniq | wc -l)
[ "$n" -eq 8 ] && [ "$dup" -eq 0 ] && [ "$uniq_n" -eq 8 ]
check $? "every point recorded exactly once: $n records, $uniq_n config hashes, $dup repeated"
[ "$(status_of oom "$dir/r.jsonl")" -eq 4 ] && [ "$(status_of ok "$dir/r.jsonl")" -eq 4 ] &&
    grep '"status":"oom"' "$dir/r.jsonl" | grep -q '"mem_limit_bytes":6291456.*"step_time_s":null'
check $? "the 4 points under the 6M cap are oom records (cap recorded, no timings); the 4 after them ran ok"
"$slm" sweep "$dir/grid.json" --out "$dir/r.jsonl" >"$dir/run3.out" 2>&1 && grep -q "nothing to run" "$dir/run3.out" &&
    [ "$(wc -l <"$dir/r.jsonl")" -eq 8 ]
check $? "a third run has nothing to do and appends nothing"
"$slm" sweep "$dir/grid.json" --out "$dir/r.jsonl" --dry-run >"$dir/dry.out" 2>&1 &&
    [ "$(grep -c ' done ' "$dir/dry.out")" -eq 8 ]
check $? "--dry-run lists the 8 points as done"
# a torn last line (a write cut short: no newline, not valid JSON) does not stop the sweep: --dry-run skips it,
# a sweep cuts it off, each saying so in one line with the byte it begins at
cp "$dir/r.jsonl" "$dir/torn.jsonl"
size=$(wc -c <"$dir/r.jsonl")
torn='{"schema":1,"source":"measured","sta'
printf '%s' "$torn" >>"$dir/torn.jsonl"
"$slm" sweep "$dir/grid.json" --out "$dir/torn.jsonl" --dry-run >"$dir/torn_dry.out" 2>"$dir/torn_dry.err" &&
    [ "$(grep -c ' done ' "$dir/torn_dry.out")" -eq 8 ] && [ "$(wc -l <"$dir/torn_dry.err")" -eq 1 ] &&
    grep -q "torn.jsonl: torn last line at byte $size (${#torn} bytes without a newline.*skipped it" "$dir/torn_dry.err" &&
    [ "$(wc -c <"$dir/torn.jsonl")" -eq $((size + ${#torn})) ]
check $? "--dry-run on a results file with a torn last line: 8 points done, the line skipped: $(cat "$dir/torn_dry.err")"
"$slm" sweep "$dir/grid.json" --out "$dir/torn.jsonl" >"$dir/torn.out" 2>"$dir/torn.err" &&
    grep -q "nothing to run" "$dir/torn.out" && [ "$(wc -l <"$dir/torn.err")" -eq 1 ] &&
    grep -q "torn.jsonl: torn last line at byte $size (${#torn} bytes .*removed it" "$dir/torn.err" &&
    cmp -s "$dir/torn.jsonl" "$dir/r.jsonl"
check $? "a sweep on it resumes (nothing to run) and cuts the line off, the file as before it: $(cat "$dir/torn.err")"

# --rounds: every point measured N times, one pass over the grid at a time; an oom is not measured again
cat >"$dir/grid_r.json" <<'EOF'
{
  "model": "tiny",
  "mem_limit": ["6M", null],
  "seq_len": 32, "micro_batch": 1,
  "warmup_steps": 1, "min_steps": 2, "min_time": 0
}
EOF
"$slm" sweep "$dir/grid_r.json" --out "$dir/rr.jsonl" --rounds 3 >"$dir/rounds1.out" 2>&1
ok_n=$(grep -c '"status":"ok"' "$dir/rr.jsonl")
oom_n=$(grep -c '"status":"oom"' "$dir/rr.jsonl")
[ "$ok_n" -eq 3 ] && [ "$oom_n" -eq 1 ] && grep -q "^\[4/4\] round 3: mem_limit=null: ok" "$dir/rounds1.out"
check $? "--rounds 3: the point that runs has 3 records ($ok_n), the oom point 1 ($oom_n), the last run in round 3"
"$slm" sweep "$dir/grid_r.json" --out "$dir/rr.jsonl" --rounds 3 >"$dir/rounds2.out" 2>&1 &&
    grep -q "nothing to run" "$dir/rounds2.out" &&
    "$slm" sweep "$dir/grid_r.json" --out "$dir/rr.jsonl" --rounds 4 --dry-run >"$dir/rounds3.out" 2>&1 &&
    grep -q "x 4 rounds: 1 to run, 1 already in" "$dir/rounds3.out" && grep -q " 3/4 .*mem_limit=null" "$dir/rounds3.out"
check $? "the records already in --out count: --rounds 3 again runs nothing, --rounds 4 has 1 run to go (3/4)"
# a sweep killed after it appended a round's record and before it removed the point's record file: made here
# by putting round 1's record back in its file; round 2 must be measured, not round 1 appended again
printf '{"model": "tiny", "seq_len": 32, "micro_batch": 1, "warmup_steps": 1, "min_steps": 2, "min_time": 0}\n' \
    >"$dir/one.json"
"$slm" sweep "$dir/one.json" --out "$dir/k.jsonl" >/dev/null 2>&1
h=$(grep -o '"config_hash":"[0-9a-f]*"' "$dir/k.jsonl" | cut -d'"' -f4)
cp "$dir/k.jsonl" "$dir/k.jsonl.logs/$h.record"
"$slm" sweep "$dir/one.json" --out "$dir/k.jsonl" --rounds 2 >"$dir/k.out" 2>&1
distinct=$(sort -u "$dir/k.jsonl" | wc -l)
[ "$(wc -l <"$dir/k.jsonl")" -eq 2 ] && [ "$distinct" -eq 2 ] && [ ! -e "$dir/k.jsonl.logs/$h.record" ]
check $? "a record file left after its append is not appended again: round 2 measured ($distinct distinct records of 2)"
expect 2 "--rounds must be 1 to 1000" "$slm" sweep "$dir/grid_r.json" --out "$dir/x.jsonl" --rounds 0

# a configuration that cannot run, a timeout, two ranks under mpirun, pairs skipped
cat >"$dir/grid2.json" <<'EOF'
{
  "model": "tiny",
  "seq_len": [32, 4096],
  "strategy": ["single", "ddp"],
  "world_size": [1, 2],
  "micro_batch": 1,
  "warmup_steps": 1, "min_steps": 2, "min_time": 0
}
EOF
"$slm" sweep "$dir/grid2.json" --out "$dir/r2.jsonl" >"$dir/run4.out" 2>&1
grep -q "8 points: 4 to run, 0 already in .*, 4 skipped" "$dir/run4.out" && [ "$(wc -l <"$dir/r2.jsonl")" -eq 4 ]
check $? "strategy single runs at world size 1 only, ddp above it: 4 of 8 points skipped, said so"
grep '"seq_len":4096' "$dir/r2.jsonl" | grep -c '"status":"error","message":"--seq-len 4096 is longer' | grep -q 2
check $? "a configuration that cannot run (seq 4096 > 256) is an error record with the reason"
# a point refused for its model shape: an error record (params null) that the next sweep reads
printf '{"model": "tiny", "n_heads": [0, 2], "n_layers": [0, 2000000000], "min_steps": 1}\n' >"$dir/shapes.json"
"$slm" sweep "$dir/shapes.json" --out "$dir/shapes.jsonl" >"$dir/shapes.out" 2>&1 &&
    [ "$(grep -c '"status":"error".*"params":null' "$dir/shapes.jsonl")" -eq 4 ] &&
    "$slm" sweep "$dir/shapes.json" --out "$dir/shapes.jsonl" 2>&1 | grep -q "nothing to run"
check $? "points refused for n_heads 0 or n_layers 0 or 2e9 are error records (params null) the rerun reads: $(tail -n 1 "$dir/shapes.out")"
ddp=$(grep '"seq_len":32,' "$dir/r2.jsonl" | grep '"strategy":"ddp"')
[ "$(echo "$ddp" | wc -l)" -eq 1 ] && echo "$ddp" | grep -q '"status":"ok".*"world_size":2'
check $? "the ddp point ran on 2 ranks (mpirun) and rank 0 wrote its one record"
printf '{"model": "tiny", "seq_len": 32, "micro_batch": 1, "min_time": 60, "warmup_steps": 1}\n' >"$dir/slow.json"
"$slm" sweep "$dir/slow.json" --out "$dir/r3.jsonl" --timeout 2 >"$dir/run5.out" 2>&1
grep -q '"status":"error","message":"timed out after 2 s' "$dir/r3.jsonl"
check $? "a point past --timeout is ended and recorded as an error: $(tail -n 1 "$dir/run5.out")"

# dtype as a dimension: fp32 and bf16 are two configurations (two config hashes), each record carries its
# dtype; a bf16 point on a CPU without bf16 instructions is an error record with the refusal (no process),
# and runs under SLM_ALLOW_EMULATED_BF16=1, which the sweep's benches inherit
printf '{"model": "tiny", "seq_len": 32, "micro_batch": 1, "dtype": ["fp32", "bf16"],
  "warmup_steps": 1, "min_steps": 2, "min_time": 0}\n' >"$dir/dt.json"
"$slm" sweep "$dir/dt.json" --out "$dir/dt.jsonl" >"$dir/dt.out" 2>&1
[ "$(hashes "$dir/dt.jsonl" | uniq | wc -l)" -eq 2 ] && grep '"dtype":"fp32"' "$dir/dt.jsonl" | grep -q '"status":"ok"'
check $? "dtype [fp32, bf16]: two records of two config hashes, fp32's ok"
bf16=$(grep '"dtype":"bf16"' "$dir/dt.jsonl")
if grep -q -E 'avx512_bf16|amx_bf16' /proc/cpuinfo; then
    echo "$bf16" | grep -q '"status":"ok".*"device":"[^"]*bf16: '
    check $? "this CPU has bf16: the bf16 point ran, its device string names its GEMMs"
else
    echo "$bf16" | grep -q '"status":"error","message":"--dtype bf16: this CPU has neither AVX512-BF16 nor AMX'
    check $? "this CPU has no bf16: the bf16 point is an error record with the refusal: $(echo "$bf16" | cut -c1-200)"
fi
sed 's/\["fp32", "bf16"\]/"bf16"/' "$dir/dt.json" >"$dir/dte.json"
SLM_ALLOW_EMULATED_BF16=1 "$slm" sweep "$dir/dte.json" --out "$dir/dte.jsonl" >"$dir/dte.out" 2>&1 &&
    grep '"dtype":"bf16"' "$dir/dte.jsonl" | grep -q '"status":"ok"'
check $? "under SLM_ALLOW_EMULATED_BF16=1 the bf16 point runs on any CPU: $(grep -o '"device":"[^"]*bf16[^"]*"' "$dir/dte.jsonl")"

# bad grids and results: one line, the line number, exit 2 (grid) or 1 (results)
printf '{\n  "model": "tiny",\n  "micro_batch": [1, 2,\n}\n' >"$dir/b1.json"
expect 2 "b1.json:4: not valid JSON" "$slm" sweep "$dir/b1.json" --out "$dir/x.jsonl"
printf '{\n  "model": "tiny",\n  "micro_bach": [1, 2]\n}\n' >"$dir/b2.json"
expect 2 'b2.json:3: unknown key "micro_bach"' "$slm" sweep "$dir/b2.json" --out "$dir/x.jsonl"
printf '{\n  "model": "tiny",\n  "attention": ["vanilla"],\n  "micro_batch": [1, "two"]\n}\n' >"$dir/b3.json"
expect 2 'b3.json:4: "micro_batch" must be an integer' "$slm" sweep "$dir/b3.json" --out "$dir/x.jsonl"
printf '{\n  "seq_len": 32,\n  "model": ["tiny", "huge"]\n}\n' >"$dir/b4.json"
expect 2 "b4.json:3: --model: unknown model 'huge'" "$slm" sweep "$dir/b4.json" --out "$dir/x.jsonl"
printf '{\n  "model": "tiny",\n  "world_size": [0]\n}\n' >"$dir/b5.json"
expect 2 "b5.json:3: world_size must be at least 1" "$slm" sweep "$dir/b5.json" --out "$dir/x.jsonl"
printf '{\n  "model": "tiny",\n  "mem_limit": [null, "2X"]\n}\n' >"$dir/b7.json"
expect 2 'b7.json:3: "mem_limit" must be bytes' "$slm" sweep "$dir/b7.json" --out "$dir/x.jsonl"
# values of their type that the bench's flags refuse are refused at their line too
printf '{\n  "model": "tiny",\n  "mem_limit": [null, 0]\n}\n' >"$dir/b8.json"
expect 2 'b8.json:3: --mem-limit 0 is less than one byte' "$slm" sweep "$dir/b8.json" --out "$dir/x.jsonl"
printf '{\n  "model": "tiny",\n  "lr": [1e-3, 1e39]\n}\n' >"$dir/b9.json"
expect 2 'b9.json:3: --lr: 1e+39 is out of range' "$slm" sweep "$dir/b9.json" --out "$dir/x.jsonl"
printf '{\n  "model": "tiny",\n  "timeout_s": 60,\n  "timeout_s": 5\n}\n' >"$dir/b10.json"
expect 2 'b10.json: "timeout_s" is given twice' "$slm" sweep "$dir/b10.json" --out "$dir/x.jsonl" --dry-run
printf '{"model": []}\n' >"$dir/b6.json"
expect 2 'b6.json:1: "model" lists no values' "$slm" sweep "$dir/b6.json" --out "$dir/x.jsonl"
printf '{\n  "model": "tiny",\n  "dtype": ["fp32", "fp16"]\n}\n' >"$dir/b8.json"
expect 2 "b8.json:3: --dtype fp16 is not a dtype" "$slm" sweep "$dir/b8.json" --out "$dir/b8.jsonl"
[ ! -e "$dir/b8.jsonl" ]
check $? "a grid with an unknown dtype is refused before any point runs (no records written)"
expect 2 "cannot open grid file" "$slm" sweep "$dir/missing.json"
expect 2 "sweep needs a grid file" "$slm" sweep --out "$dir/x.jsonl"
head -n 2 "$dir/r.jsonl" >"$dir/bad.jsonl"
printf '{"schema":1,"source":"measured"}\n' >>"$dir/bad.jsonl"
expect 1 'bad.jsonl:3: not a result record: field "status" is missing' "$slm" sweep "$dir/grid.json" --out "$dir/bad.jsonl"
"$slm" sweep --help >"$dir/help" 2>&1 && grep -q "usage: slm sweep GRID.json" "$dir/help"
check $? "slm sweep --help answers"
finish sweep
