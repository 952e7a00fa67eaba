#!/bin/sh
# slm report on a fixture with a known answer (tests/fixtures/report_results.jsonl,
# made by make_report_fixture.py): every file is built (report.md, a
# self-contained report.html, each figure as PNG and SVG, the tables as CSV
# and Markdown); the findings name the winner the fixture was built to have
# for each model; every record is accounted for (measured, oom, not run);
# fp32 and bf16 records of the same configurations are compared (findings,
# the dtype table and figures); a bad results line stops the report with its
# file and line.
slm=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir"
. tests/cli_lib.sh
fixture=tests/fixtures/report_results.jsonl
out=$dir/report

"$slm" report "$fixture" --out "$out" >"$dir/stdout" 2>&1
check $? "report on the fixture ($(wc -l <"$fixture") records) succeeds"
missing=""
for f in report.md report.html tables/records.csv tables/records.md tables/best.csv tables/best.md \
    tables/dtype.csv tables/dtype.md tables/not_run.csv tables/not_run.md tables/summary.csv tables/summary.md; do
    [ -s "$out/$f" ] || missing="$missing $f"
done
for fig in throughput_devices_attention throughput_devices_strategy throughput_devices_device \
    cost_devices_attention cost_devices_strategy cost_devices_device throughput_devices_dtype cost_devices_dtype \
    throughput_micro_batch cost_micro_batch \
    memory_micro_batch attention_memory_seq_len step_time_seq_len; do
    for ext in png svg gp; do [ -s "$out/figures/$fig.$ext" ] || missing="$missing $fig.$ext"; done
    grep -q "figures/$fig.png" "$out/report.md" || missing="$missing (report.md does not show $fig)"
done
[ -z "$missing" ]
check $? "every file is written: report.md, report.html, 13 figures (PNG, SVG, gnuplot script), 5 tables (CSV, md)${missing:+; missing:$missing}"
[ "$(head -c 4 "$out/figures/cost_devices_strategy.png" | tail -c 3)" = PNG ] &&
    head -c 200 "$out/figures/cost_devices_strategy.svg" | grep -q "<svg"
check $? "the figures are PNG and SVG images (by their first bytes)"
[ "$(grep -c '<svg' "$out/report.html")" -eq 13 ] && ! grep -q '<img' "$out/report.html" && ! grep -q 'src="' "$out/report.html"
check $? "report.html holds the 13 figures inline (SVG), nothing linked"

section() { sed -n "/^### $1/,/^###/p" "$out/report.md"; }
section 100m | grep -q "Winner by tokens/\$: flash attention, single on 1 x NVIDIA A100-SXM4-40GB in bf16, micro batch 16"
check $? "100m: the winner is flash, single, 1 A100-40GB, micro batch 16 (as built)"
section 1b | grep -q "Winner by tokens/\$: flash attention, fsdp-grad-op on 2 x NVIDIA A100-SXM4-40GB in bf16, micro batch 8"
check $? "1b: the winner is flash, fsdp-grad-op, 2 A100-40GB, micro batch 8 (as built)"
section 1b | grep -q "Other strategies, against the winner: single's best is 13.2% lower (4.068e+06); ddp's best is 30.5% lower" &&
    section 100m | grep -q "Other attention kernels, against the winner: vanilla's best is 23.1% lower" &&
    section 1b | grep -q "vanilla attention runs out of memory at the same configuration" &&
    section 1b | grep -q "Memory: peak 36.2 GiB of the 40 GiB cap, 10% headroom; the largest micro batch that fitted is 8; micro batch 16 ran out of memory" &&
    section 100m | grep -q "Attention: 16.2% of the model FLOPs per token at sequence 1024; at the same configuration vanilla attention's step takes 0.4096 s against 0.3151 s (+30.0%)" &&
    section 100m | grep -q "Batch: tokens/\$ saturates early: micro batch 8 is already within 5% of the best (16)"
check $? "the findings say by how much and why: the strategies' margins, attention's cost, memory headroom, where the batch saturates"
grep -q "| 1b (953M parameters) | 1024 | tokens/\$ | flash attention, fsdp-grad-op on 2 x NVIDIA A100-SXM4-40GB in bf16, micro batch 8 (global 16) | flash, vanilla -11.8% | fsdp-grad-op, fsdp-full -7.2%, single -13.2%, ddp -30.5% | bf16 |" "$out/report.md" &&
    grep -q "100m (102M parameters): flash, vanilla -23.1% | single, ddp -5.0%, fsdp-grad-op -15.0%, fsdp-full -25.0% | bf16$" "$dir/stdout"
check $? "the summary across model sizes ranks attentions, strategies and dtypes per model (flash gains 23% at 100m, 12% at 1b; all bf16)"
grep -q "258 records of 258 configurations from $fixture: 225 measured (in the figures), 31 out of memory" "$out/report.md" &&
    grep -q "2 not run" "$out/report.md" && [ "$(wc -l <"$out/tables/records.csv")" -eq 259 ] &&
    grep -q "| error | 2 | 1b flash ddp x16 mb 4 seq 1024; 1b vanilla ddp x16 mb 4 seq 1024 | timed out after 1800 s (sweep --timeout) |" "$out/report.md"
check $? "nothing skipped silently: 225 measured + 31 oom + 2 not run = 258, all in records.csv, the 2 not run listed with their configurations and message"
grep -q "^findings:" "$dir/stdout" && grep -q "Winner by tokens/\$: flash attention, fsdp-grad-op" "$dir/stdout"
check $? "the findings are printed too"

# a configuration measured three times (slm sweep --rounds) counts by its median record: the 100m winner's
# record again, once 3x faster and once 3x slower; with the median the findings stay as they are
python3 - "$fixture" "$dir/rounds.jsonl" <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
win = next(l for l in lines if '"model":"100m"' in l and '"attention":"flash"' in l and '"strategy":"single"' in l
           and '"micro_batch":16,' in l and '"status":"ok"' in l and 'A100-SXM4-40GB' in l and '"seq_len":1024,' in l)
out = list(lines)
for f in (3.0, 1 / 3.0):
    r = json.loads(win)
    r["step_time_s"] /= f
    r["tokens_per_s"] *= f
    r["tokens_per_s_per_device"] *= f
    out.append(json.dumps(r, separators=(",", ":")))
open(sys.argv[2], "w").write("\n".join(out) + "\n")
EOF
"$slm" report "$dir/rounds.jsonl" --out "$dir/rr" >"$dir/rounds.out" 2>&1 &&
    grep -q "260 records of 258 configurations" "$dir/rr/report.md" &&
    grep -q "1 configuration was measured more than once" "$dir/rr/report.md" &&
    section 100m | grep -q "Winner by tokens/\$: flash attention, single on 1 x NVIDIA A100-SXM4-40GB in bf16, micro batch 16" &&
    [ "$(sed -n '/^### 100m/,/^###/p' "$dir/rr/report.md")" = "$(section 100m)" ] &&
    [ "$(wc -l <"$dir/rr/tables/records.csv")" -eq 261 ]
check $? "a configuration with 3 records (1x, 3x faster, 3x slower) counts by its median: 260 records of 258 configurations, 100m's findings unchanged, every record in records.csv"

# a torn last line (a write cut short: no newline, not valid JSON) is skipped, said in one line with its byte offset;
# a line that is not JSON anywhere else stops the report
head -n 4 "$fixture" >"$dir/torn.jsonl"
size=$(wc -c <"$dir/torn.jsonl")
torn='{"schema": 1, "source": "measured", "sta'
printf '%s' "$torn" >>"$dir/torn.jsonl"
"$slm" report "$dir/torn.jsonl" --out "$dir/torn" >"$dir/torn.out" 2>"$dir/torn.err" &&
    [ "$(wc -l <"$dir/torn.err")" -eq 1 ] && grep -q "torn.jsonl: torn last line at byte $size (${#torn} bytes.*skipped it" "$dir/torn.err" &&
    grep -q "4 records of 4 configurations" "$dir/torn/report.md" && [ "$(wc -c <"$dir/torn.jsonl")" -eq $((size + ${#torn})) ]
check $? "a torn last line is skipped (4 records reported, the file left alone): $(cat "$dir/torn.err")"
{ head -n 2 "$fixture" && printf '{"schema": 1, "source": "measured", "sta\n' && sed -n 3,4p "$fixture"; } >"$dir/mid.jsonl"
expect 1 "mid.jsonl:3: not a result record: not valid JSON" "$slm" report "$dir/mid.jsonl" --out "$dir/r1"

# fp32 against bf16: the 100m A100-40GB records at sequence 1024 on 1 and 2 devices, made CPU records twice:
# fp32 at 1/1000 of the throughput, bf16 at 1.5/1000 (a CPU with bf16 GEMMs), both at the same price
python3 - "$fixture" "$dir/dtype.jsonl" <<'EOF2'
import json, sys
out = []
for line in open(sys.argv[1]):
    r = json.loads(line)
    if (r["model"], r["device"], r["seq_len"], r["status"]) != ("100m", "NVIDIA A100-SXM4-40GB", 1024, "ok") or \
            r["world_size"] > 2:
        continue
    threads = 2 // r["world_size"]
    for dtype, f, dev in (("fp32", 1e-3, ""), ("bf16", 1.5e-3, ", bf16: oneDNN brg:avx512_core_bf16")):
        c = dict(r, backend="cpu", dtype=dtype, device="AMD EPYC (%d threads%s)" % (threads, dev), config_hash=None,
                 price_per_device_hour=0.05 * threads, mem_limit_bytes=None)
        c["tokens_per_s"] = r["tokens_per_s"] * f
        c["tokens_per_s_per_device"] = r["tokens_per_s_per_device"] * f
        for k in ("step_time_s", "step_time_p10_s", "step_time_p90_s"):
            c[k] = r[k] / f
        out.append(json.dumps(c, separators=(",", ":")))
open(sys.argv[2], "w").write("\n".join(out) + "\n")
EOF2
"$slm" report "$dir/dtype.jsonl" --out "$dir/rd" >"$dir/dtype.out" 2>&1
check $? "report on $(wc -l <"$dir/dtype.jsonl") CPU records, fp32 and bf16 of the same configurations"
dsec() { sed -n "/^### $1/,/^###/p" "$dir/rd/report.md"; }
dsec 100m | grep -q "Winner by tokens/\$: flash attention, ddp on 2 x AMD EPYC in bf16, micro batch 16" &&
    dsec 100m | grep -q "Other dtypes, against the winner: fp32's best is 33.3% lower"
check $? "the winner is bf16's best, and fp32's best is a third lower: $(dsec 100m | grep -o 'Other dtypes.*')"
grep -q "^| 100m | AMD EPYC | fp32 | [0-9]* | flash ddp x2 mb 16 | [0-9.e+]* | flash ddp x2 mb 16 | null | +0.0% tokens/\$ |$" "$dir/rd/tables/dtype.md" &&
    grep -q "^| 100m | AMD EPYC | bf16 | [0-9]* | flash ddp x2 mb 16 | [0-9.e+]* | flash ddp x2 mb 16 | null | +50.0% tokens/\$ |$" "$dir/rd/tables/dtype.md" &&
    grep -q "fp32 against bf16: the best configuration of each dtype" "$dir/rd/report.md"
check $? "the dtype table: fp32's and bf16's best by tokens/s and tokens/\$, bf16 +50.0% against fp32: $(grep bf16 "$dir/rd/tables/dtype.md")"
grep -q '"bf16"' "$dir/rd/figures/throughput_devices_dtype.gp" && grep -q '"fp32"' "$dir/rd/figures/cost_devices_dtype.gp" &&
    grep -q "100m (102M parameters): .* | bf16, fp32 -33.3%$" "$dir/dtype.out"
check $? "the dtype figures have a series per dtype; the summary ranks the dtypes (bf16, fp32 -33.3%)"

# bad input
head -n 4 "$fixture" >"$dir/bad.jsonl"
echo '{"schema": 1, "source": "measured", "status": "ok"' >>"$dir/bad.jsonl"
expect 1 "bad.jsonl:5: not a result record: not valid JSON" "$slm" report "$dir/bad.jsonl" --out "$dir/r2"
head -n 2 "$fixture" | sed 's/"attention":"vanilla"/"attention":"sparse"/' >"$dir/bad2.jsonl"
expect 1 "bad2.jsonl:1: not a result record: field \"attention\" is 'sparse'" "$slm" report "$fixture" "$dir/bad2.jsonl" --out "$dir/r3"
expect 1 "cannot open results file" "$slm" report "$dir/missing.jsonl" --out "$dir/r4"
: >"$dir/empty.jsonl"
expect 1 "no records to report" "$slm" report "$dir/empty.jsonl" --out "$dir/r5"
expect 2 "report needs results files" "$slm" report --out "$dir/r6"
"$slm" report --help >"$dir/help" 2>&1 && grep -q "usage: slm report RESULTS.jsonl" "$dir/help"
check $? "slm report --help answers"
finish report
