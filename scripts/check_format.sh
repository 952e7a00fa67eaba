#!/bin/sh
# check_format.sh — every tracked C, CUDA and C++ source (git ls-files: *.c *.h
# *.cu *.cuh *.cpp) must be formatted as the repository's .clang-format says.
# Prints each file that is not, and exits 1 if there is any; else a one-line
# summary. `clang-format -i FILE...` formats them.
# Usage: scripts/check_format.sh   (run by make format-check)
cd "$(dirname "$0")/.." || exit 2
if ! command -v clang-format >/dev/null 2>&1; then
    echo "check_format: clang-format not found (make deps installs it)" >&2
    exit 2
fi
if ! list=$(git ls-files -- '*.c' '*.h' '*.cu' '*.cuh' '*.cpp' 2>/dev/null); then
    echo "check_format: not a git checkout: the tracked files are unknown" >&2
    exit 2
fi
n=$(printf '%s\n' "$list" | grep -c .)
if [ "$n" -eq 0 ]; then
    echo "check_format: no tracked C, CUDA or C++ files"
    exit 0
fi
out=$(printf '%s\n' "$list" | tr '\n' '\0' | xargs -0 clang-format --dry-run -Werror -ferror-limit=1 2>&1)
rc=$?
bad=$(printf '%s\n' "$out" | sed -n 's/^\(.*\):[0-9][0-9]*:[0-9][0-9]*: error: code should be clang-formatted.*/\1/p' | uniq)
if [ -n "$bad" ]; then
    printf '%s\n' "$bad"
    echo "check_format: $(printf '%s\n' "$bad" | grep -c .) of $n files are not formatted (clang-format -i FILE... formats them)"
    exit 1
fi
if [ $rc -ne 0 ]; then  # clang-format failed for another reason: say what it said
    printf '%s\n' "$out" >&2
    echo "check_format: clang-format failed (exit $rc)" >&2
    exit 2
fi
echo "check_format: $n files formatted as .clang-format says"
