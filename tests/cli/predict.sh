#!/bin/sh
# slm predict, calibrate and advise from the command line: a predicted record
# has the measured records' schema with "source":"predicted" and its basis,
# tokens/s = global batch x seq / step time; past the device's memory it is
# an oom record; --grid predicts every valid point of a grid in one process;
# calibrate fits the CPU from measured records (a committed fixture) and
# predict then says "calibrated"; advise ranks by tokens/$ and by time with
# reasons, the same from another directory (its default grid, catalog and
# prices found beside the binary), and its table shows the accumulation and
# the global batch (micro x devices x accumulation, within 2^20 tokens when
# accumulating); bad input is one line and exit code 2, a --calibration file
# that is missing, unparsable or holds an efficiency out of range included.
slm=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir"
. tests/cli_lib.sh
export SLM_CACHE_DIR="$dir/cache"
field() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" "$2" | tail -n 1; }

"$slm" predict --model 1b --attention flash --strategy ddp --world-size 16 --micro-batch 8 --global-batch 128 \
    --device A100-80GB --out "$dir/one.jsonl" >"$dir/one.out" 2>&1
check $? "predict runs: $(grep 'step time' "$dir/one.out")"
step=$(field step_time_s "$dir/one.jsonl")
tps=$(field tokens_per_s "$dir/one.jsonl")
awk -v s="$step" -v t="$tps" 'BEGIN { e = 128 * 1024 / s; exit !(t > 0 && (t - e) / e < 1e-9 && (e - t) / e < 1e-9) }' &&
    grep -q '"source":"predicted","prediction_basis":"uncalibrated' "$dir/one.jsonl" &&
    grep -q '"status":"ok"' "$dir/one.jsonl" && grep -q '"nodes":2' "$dir/one.jsonl" &&
    grep -q '"device":"A100-80GB","dtype":"bf16"' "$dir/one.jsonl"
check $? "the record: predicted, uncalibrated, 16 GPUs on 2 nodes, bf16; tokens/s $tps = 128 x 1024 / $step s"

"$slm" predict --model 2b --attention vanilla --micro-batch 64 --global-batch 64 --device A100-40GB \
    --out "$dir/oom.jsonl" >"$dir/oom.out" 2>&1
grep -q '"status":"oom"' "$dir/oom.jsonl" && grep -q '"step_time_s":null' "$dir/oom.jsonl"
check $? "2b vanilla at micro batch 64 on an A100-40GB: $(grep status "$dir/oom.out")"

"$slm" predict --grid data/grids/cpu-quick.json --out "$dir/grid.jsonl" >"$dir/grid.out" 2>&1
n=$(wc -l <"$dir/grid.jsonl")
[ "$n" -eq 48 ] && ! grep -q '"source":"measured"' "$dir/grid.jsonl"
check $? "--grid cpu-quick.json: $n records (2 models x (single at 1 rank + 3 strategies at 2 ranks) x 3 micro batches x 2 attentions): $(tail -n 1 "$dir/grid.out" | cut -c1-120)"

"$slm" calibrate tests/fixtures/predict/cpu-calibration.jsonl >"$dir/cal.out" 2>&1 &&
    "$slm" predict --model small --seq-len 128 --micro-batch 4 --global-batch 4 --out "$dir/cal.jsonl" >"$dir/cal2.out" 2>&1
grep -q '"prediction_basis":"calibrated (' "$dir/cal.jsonl" && [ -f "$dir/cache/calibration.json" ]
check $? "calibrate: $(head -n 1 "$dir/cal.out"); predict then: $(grep basis "$dir/cal2.out")"

"$slm" advise --model 100m --device A100-40GB,H100-80GB --devices 1,8 >"$dir/advise.out" 2>&1 &&
    grep -q "best by tokens per dollar" "$dir/advise.out" && grep -q "best by time to" "$dir/advise.out" &&
    grep -q "why: " "$dir/advise.out" && grep -q "over the runner-up" "$dir/advise.out"
check $? "advise: $(sed -n '/best by tokens per dollar/{n;n;p}' "$dir/advise.out" | cut -c1-100)"
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
(a=$(abs "$slm") d=$(abs "$dir") && cd "$d" && SLM_CACHE_DIR="$d/cache" "$a" advise --model 100m \
    --device A100-40GB,H100-80GB --devices 1,8) >"$dir/elsewhere.out" 2>&1 &&
    cmp -s "$dir/advise.out" "$dir/elsewhere.out"
check $? "advise from another directory: the grid, catalog and prices found beside the binary, the same advice"

"$slm" advise --model 100m --device H100-80GB --table >"$dir/table.md" 2>&1
head -n 1 "$dir/table.md" | grep -q "| micro batch | accum | global batch |" &&
    awk -F'|' 'NR > 2 { a = $8 + 0; g = $9 + 0; if (g != $4 * $7 * a || (a > 1 && g * 1024 > 1048576)) bad = 1 }
        END { exit bad || NR != 9 }' "$dir/table.md"
check $? "advise --table, 7 device counts: global = devices x micro x accum, within 2^20 tokens where accum > 1: $(sed -n 3p "$dir/table.md")"

expect 2 "device NOPE is not in" "$slm" predict --device NOPE
"$slm" advise --model 100m --device H100-80GB --devices 64 --top 1 --interconnect ethernet-100g >"$dir/eth.out" 2>&1 &&
    "$slm" advise --model 100m --device H100-80GB --devices 64 --top 1 >"$dir/ib.out" 2>&1
exposed() { sed -n '/best by tokens per dollar/,/why:/p' "$1" | grep -o 'exposed communication [0-9]*%' | grep -o '[0-9]*'; }
[ "$(exposed "$dir/eth.out")" -gt "$(exposed "$dir/ib.out")" ] && grep -q "between nodes ethernet-100g" "$dir/eth.out"
check $? "advise --interconnect ethernet-100g on 8 nodes: $(exposed "$dir/eth.out")% of the best step exposed as communication, against $(exposed "$dir/ib.out")% on the H100's own InfiniBand"
expect 2 "--interconnect ib-xdr is not in" "$slm" advise --model 100m --interconnect ib-xdr
expect 2 "--interconnect carrier-pigeon is not in" "$slm" predict --device H100-80GB --interconnect carrier-pigeon
expect 2 "give --out" "$slm" predict --grid data/grids/cpu-quick.json
expect 2 "does not split evenly over 3 nodes" "$slm" predict --device H100-80GB --strategy ddp --world-size 16 \
    --nodes 3 --micro-batch 1 --global-batch 16
expect 2 "global-batch 6 must be a multiple" "$slm" predict --device H100-80GB --strategy ddp --world-size 4 \
    --micro-batch 1 --global-batch 6
printf '{"devices":[{"name":"X"}]}' >"$dir/hw.json"
expect 2 "field \"match\"" "$slm" predict --hardware "$dir/hw.json"
expect 2 "no results file given" "$slm" calibrate
expect 2 "no measured record of 100m reached it" "$slm" advise --model 100m --target-loss 3
expect 2 "2 appears twice" "$slm" advise --model 100m --accum 1,2,2
expect 2 "give one (a fixed global batch sets" "$slm" advise --model 100m --accum 2 --global-batch 64
expect 2 "cannot open calibration file $dir/no-calibration.json" "$slm" predict --model small --device cpu \
    --calibration "$dir/no-calibration.json"
printf 'fitted, honestly\n' >"$dir/garbage-calibration.json"
expect 2 "garbage-calibration.json:1: not valid JSON" "$slm" advise --model 100m --device A100-40GB \
    --calibration "$dir/garbage-calibration.json"
sed 's/"e_bw":[^,]*,/"e_bw": 1e-320,/' "$dir/cache/calibration.json" >"$dir/tiny-calibration.json"
expect 2 "device 'cpu': efficiency \"e_bw\" is 9.99989e-321 (expected a number in \[1e-09, 4\])" "$slm" predict \
    --model small --device cpu --calibration "$dir/tiny-calibration.json"
finish predict
