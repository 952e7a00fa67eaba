#!/bin/sh
# check_layers.sh — checks that every file under src/ includes only its own
# layer and the layers below it, and that no file reaches into a backend's
# internal headers.
# Usage: scripts/check_layers.sh [SRC_ROOT]   (default: the src/ beside this script)
#
# LAYERS is the order of the layers of src/, bottom to top: a file under
# src/<layer>/ may `#include "x/..."` only when x is <layer> itself or comes
# before it in this list. A folder of src/ that is not in the list is an error:
# a new layer takes its place here first.
LAYERS="core backend model parallel data train measure predict report cli"
#
# A backend's own folder (src/backend/<name>/) is private to it: a header
# "backend/<name>/..." may be included only from that folder, and from
# src/backend/open.c, which opens the backends. Everything else goes through
# backend/backend.h.
#
# Each violation is one line, FILE:LINE: includes "X": why. Exit 1 when there
# is any; else a one-line summary and exit 0. Quoted includes are checked, and
# <...> ones whose first folder is a layer (src/ is on the include path, so
# <core/err.h> would reach a project header too); an include naming a "." or
# ".." folder is refused, since its first folder would not say its layer.
if [ $# -gt 1 ]; then
    echo "usage: $0 [SRC_ROOT]" >&2
    exit 2
fi
if [ $# -eq 1 ]; then
    root=${1%/}
else
    here=$(cd "$(dirname "$0")/.." && pwd)
    if [ "$here" = "$(pwd)" ]; then root=src; else root=$here/src; fi
fi
if [ ! -d "$root" ]; then
    echo "check_layers: $root is not a directory" >&2
    exit 2
fi

find "$root" -type f \( -name '*.c' -o -name '*.h' -o -name '*.cu' -o -name '*.cuh' -o -name '*.cpp' \) | sort |
    awk -v root="$root" -v layers="$LAYERS" '
BEGIN {
    n_layers = split(layers, names, " ")
    for (i = 1; i <= n_layers; i++) rank[names[i]] = i
    files = 0; includes = 0; bad = 0
}
function report(line, text) { print file ":" line ": " text; bad++ }
{
    file = $0
    rel = substr(file, length(root) + 2)  # the path under root: layer/...
    files++
    slash = index(rel, "/")
    layer = slash ? substr(rel, 1, slash - 1) : ""
    if (!(layer in rank)) {
        report(1, (slash ? "src/" layer "/ is not a layer" : "is in no layer folder") \
               " (the layers: LAYERS in scripts/check_layers.sh)")
        layer = ""
    }
    n = 0
    while ((getline text < file) > 0) {
        n++
        if (text !~ /^[ \t]*#[ \t]*include[ \t]*["<]/) continue
        inc = text
        sub(/^[ \t]*#[ \t]*include[ \t]*/, "", inc)
        angled = substr(inc, 1, 1) == "<"
        inc = substr(inc, 2)
        sub(angled ? ">.*" : "\".*", "", inc)
        s = index(inc, "/")
        if (angled && !(s && substr(inc, 1, s - 1) in rank)) continue  # a system or library header
        includes++
        if (inc ~ /(^|\/)\.\.?(\/|$)/) {
            report(n, "includes \"" inc "\": name the header by its path from src/, without . or ..")
            continue
        }
        if (!s) continue  # a header of the same folder, or one the build generates
        target = substr(inc, 1, s - 1)
        if (target == "backend" && match(inc, "^backend/[^/]+/")) {
            own = substr(inc, 1, RLENGTH)  # backend/<name>/
            if (substr(rel, 1, RLENGTH) != own && rel != "backend/open.c")
                report(n, "includes \"" inc "\": " own " is internal to that backend: only src/" own \
                       " and src/backend/open.c may include it")
        }
        if (!(target in rank))
            report(n, "includes \"" inc "\": " target " is not a layer of src/")
        else if (layer != "" && rank[target] > rank[layer])
            report(n, "includes \"" inc "\": " layer " may not include " target)
    }
    close(file)
}
END {
    if (bad) {
        print "check_layers: " bad " violation" (bad == 1 ? "" : "s") " in " root "/ (layers, bottom to top: " layers ")"
        exit 1
    }
    print "check_layers: " files " files, " includes " includes under " root "/: none includes a layer above its own or the internals of a backend"
}'
