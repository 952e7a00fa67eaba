# cli_lib.sh — sourced by tests/cli/*.sh (run from the repository root):
# `check STATUS WHAT` records one check ("ok"/"FAIL" line), `finish NAME`
# prints the summary and returns the test's status.
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
