#!/bin/sh
# Installs the Debian packages slm.c needs, when missing.
# Usage: scripts/deps.sh build|demo|check (demo adds the fortunes corpus; check
# adds it, clang-format for make format-check, and clang with libFuzzer, its
# OpenMP and GNU time for the fuzz targets of make fuzz-smoke)
# As root it runs apt-get; otherwise it prints the command to run and fails.
set -e
pkgs="cmake make gcc libopenblas-openmp-dev libcjson-dev libdnnl-dev libpcre2-dev libutf8proc-dev openmpi-bin libopenmpi-dev gnuplot-nox"
[ "${1:-build}" = demo ] && pkgs="$pkgs fortunes"
[ "${1:-build}" = check ] && pkgs="$pkgs fortunes clang-format clang libfuzzer-14-dev libomp-dev time"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
    echo "slm: installing missing packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends $missing >/dev/null 2>&1 || {
        apt-get update >/dev/null && apt-get install -y --no-install-recommends $missing; }
else
    echo "slm: missing Debian packages:$missing" >&2
    echo "slm: run: sudo apt-get install -y$missing" >&2
    exit 1
fi
