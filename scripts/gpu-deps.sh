#!/bin/sh
# Downloads, on a machine with Debian's package lists (apt-get update done),
# the .deb files that building slm.c needs and a GPU machine without internet
# may lack, into .gpu-deps/ (ignored by git); carry that folder to the GPU
# machine, where scripts/gpu-check.sh unpacks them into a private prefix.
# Usage: scripts/gpu-deps.sh            (make gpu-deps)
#
# The list is the closure that the five libraries (OpenBLAS, cJSON, oneDNN, PCRE2, utf8proc) need beyond what any machine
# with a C compiler has (libc, libm, libgcc_s, libgomp, libstdc++): after downloading,
# every shared library in the packages is checked for a needed library that
# neither the packages nor that base provide, and the script fails naming it.
set -eu
dir=.gpu-deps
pkgs="libopenblas0-openmp libopenblas-openmp-dev libgfortran5 libquadmath0 libcjson1 libcjson-dev libdnnl2 libdnnl-dev libpcre2-8-0 libpcre2-dev libutf8proc2 libutf8proc-dev ocl-icd-libopencl1"
base="libc.so.6 libm.so.6 libgcc_s.so.1 libgomp.so.1 libstdc++.so.6 ld-linux-x86-64.so.2 ld-linux-aarch64.so.1 libpthread.so.0 libdl.so.2"

mkdir -p "$dir"
rm -f "$dir"/*.deb
# apt-get download writes into the working directory.
(cd "$dir" && apt-get download $pkgs >/dev/null 2>&1) || {
    echo "slm: apt-get download failed for: $pkgs (run apt-get update first; this needs Debian's or Ubuntu's archive)" >&2
    exit 1
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for deb in "$dir"/*.deb; do dpkg -x "$deb" "$tmp"; done
provided=$(find "$tmp" -name '*.so*' -printf '%f ')
missing=""
for lib in $(find "$tmp" -name '*.so*' -type f); do
    for need in $(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
        case " $base $provided " in
        *" $need "*) ;;
        *) missing="$missing $need($(basename "$lib"))" ;;
        esac
    done
done
if [ -n "$missing" ]; then
    echo "slm: the packages need libraries outside the list:$missing; add their packages to scripts/gpu-deps.sh" >&2
    exit 1
fi
echo "slm: $(ls "$dir"/*.deb | wc -l) packages in $dir/ ($(du -sh "$dir" | cut -f1)); every library they need is among them or in libc/libgcc/libgomp"
