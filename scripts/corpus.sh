#!/bin/sh
# Writes a plain-text English corpus from Debian's `fortunes` package
# (/usr/share/games/fortunes): the fortune files concatenated, their "%"
# separator lines turned into blank lines.
# Usage: scripts/corpus.sh OUT.txt [MAX_BYTES]
set -e
out=$1
max=${2:-0}
dir=/usr/share/games/fortunes
if [ ! -d "$dir" ]; then
    echo "slm: $dir not found: install the corpus with: apt-get install -y fortunes" >&2
    exit 1
fi
tmp="$out.tmp.$$"
for f in "$dir"/*; do
    case "$f" in *.dat | *.u8) continue ;; esac
    [ -f "$f" ] && [ ! -L "$f" ] && sed 's/^%$//' "$f"
done > "$tmp"
if [ "$max" -gt 0 ]; then head -c "$max" "$tmp" > "$out"; rm -f "$tmp"; else mv "$tmp" "$out"; fi
