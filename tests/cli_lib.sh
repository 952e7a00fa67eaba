# cli_lib.sh — sourced by tests/cli/*.sh (run from the repository root):
# `check STATUS WHAT` records one check ("ok"/"FAIL" line), `finish NAME`
# prints the summary and returns the test's status, `expect CODE PATTERN
# COMMAND...` checks that a command fails with exit CODE and one line on
# stderr matching PATTERN (scratch files in $dir).
fails=0
checks=0
check() {
    checks=$((checks + 1))
    if [ "$1" -eq 0 ]; then echo "ok   $2"; else echo "FAIL $2"; fails=$((fails + 1)); fi
}
finish() {
    echo "$1: $checks checks, $fails failed"
    [ "$fails" -eq 0 ]
}
expect() {
    code=$1 pattern=$2
    shift 2
    "$@" >"$dir/out" 2>"$dir/err"
    rc=$?
    [ "$rc" -eq "$code" ] && grep -q -- "$pattern" "$dir/err" && [ "$(wc -l <"$dir/err")" -eq 1 ]
    check $? "exit $rc (expected $code, '$pattern'): $(head -c 300 "$dir/err")"
}
