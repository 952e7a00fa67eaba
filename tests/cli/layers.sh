#!/bin/sh
# scripts/check_layers.sh: on a copy of src/, an include of a higher layer
# (cli/flags.h from a core file) and of a backend's internal header
# (backend/cpu/cpu.h from a model file) are each reported as FILE:LINE with
# the reason, the script exits 1, and nothing else it prints changes; so are
# an upward include written <train/trainer.h> and includes through "..",
# while system headers are not; on a
# small tree that keeps the rules it exits 0 with its summary. Whatever the
# real tree holds today, the check is of the planted lines only.
dir=$2
rm -rf "$dir" && mkdir -p "$dir"
. tests/cli_lib.sh
script=scripts/check_layers.sh

cp -R src "$dir/src"
sh "$script" "$dir/src" >"$dir/before" 2>&1
rc=$?
[ $rc -eq 0 ] || [ $rc -eq 1 ]
check $? "the copy of src/ is checked (exit $rc): $(tail -n 1 "$dir/before")"
# every line but the summary is FILE:LINE: includes "X": ...
bad_lines=$(sed '$d' "$dir/before" | grep -cv "^$dir/src/[^:]*:[0-9][0-9]*: includes \"[^\"]*\": ")
[ "$bad_lines" -eq 0 ]
check $? "each violation on the copy is one FILE:LINE: includes \"X\": line ($bad_lines are not)"

core=$dir/src/core/err.c
echo '#include "cli/flags.h"' >>"$core"
up_line=$(wc -l <"$core" | tr -d ' ')
model=$dir/src/model/llama.c
echo '#include "backend/cpu/cpu.h"' >>"$model"
in_line=$(wc -l <"$model" | tr -d ' ')
sh "$script" "$dir/src" >"$dir/after" 2>&1
rc=$?
[ $rc -eq 1 ]
check $? "with two planted includes the script exits 1 (exit $rc)"
grep -qx "$core:$up_line: includes \"cli/flags.h\": core may not include cli" "$dir/after"
check $? "the upward include is reported at $core:$up_line"
grep -q "^$model:$in_line: includes \"backend/cpu/cpu.h\": backend/cpu/ is internal" "$dir/after"
check $? "the backend-internal include is reported at $model:$in_line"
sed '$d' "$dir/before" >"$dir/before.v"
sed '$d' "$dir/after" | grep -v "^$core:$up_line: \|^$model:$in_line: " >"$dir/after.v"
cmp -s "$dir/before.v" "$dir/after.v"
check $? "the planted lines are the only new reports"

# a project header reached by <...>, and paths whose first folder hides their layer
echo '#include <train/trainer.h>' >>"$core"
angled_line=$(wc -l <"$core" | tr -d ' ')
loader=$dir/src/data/loader.c
echo '#include "model/../cli/flags.h"' >>"$loader"
dotdot_line=$(wc -l <"$loader" | tr -d ' ')
echo '#include "../train/optim.h"' >>"$loader"
up_dotdot_line=$(wc -l <"$loader" | tr -d ' ')
sh "$script" "$dir/src" >"$dir/after2" 2>&1
grep -qx "$core:$angled_line: includes \"train/trainer.h\": core may not include train" "$dir/after2"
check $? "an upward <train/trainer.h> is reported at $core:$angled_line"
grep -q "^$loader:$dotdot_line: includes \"model/../cli/flags.h\": name the header by its path from src/" "$dir/after2" &&
    grep -q "^$loader:$up_dotdot_line: includes \"../train/optim.h\": name the header by its path from src/" "$dir/after2"
check $? "includes through .. are refused at $loader:$dotdot_line and :$up_dotdot_line"
grep -q 'includes "\(stdio\|math\|string\)\.h"' "$dir/after2"
[ $? -ne 0 ]
check $? "system headers (<stdio.h>, <math.h>, <string.h>) are not reported"

tree=$dir/clean/src
mkdir -p "$tree/core" "$tree/backend/cpu" "$tree/model" "$tree/cli"
echo '#include <stdio.h>' >"$tree/core/err.h"
printf '#include "core/err.h"\n#include "backend/cpu/cpu.h"\n' >"$tree/backend/cpu/ops.c"
: >"$tree/backend/cpu/cpu.h"
printf '#include "backend/cpu/cpu.h"\n' >"$tree/backend/open.c"
printf '#include "core/err.h"\n#include "backend/backend.h"\n' >"$tree/model/llama.c"
printf '#include "model/llama.h"\n#include "cli/flags.h"\n#include "slm_version.h"\n' >"$tree/cli/main.c"
sh "$script" "$tree" >"$dir/clean.out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q "^check_layers: 6 files, 8 includes" "$dir/clean.out"
check $? "a tree that keeps the rules passes (exit $rc): $(cat "$dir/clean.out")"

finish layers
