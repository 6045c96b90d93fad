#!/usr/bin/env bash
# The CPU time (user + system) of one optimised compile of the library, the
# Makefile's build/prefloss.o rule, for the current tree against a baseline
# commit (its sources from `git archive`), compiled alternately, RUNS times
# each; prints each run, the medians and their ratio.
#
#   tests/bench/compile_time.sh [BASE [RUNS]]     (make measure-compile-time BASE=... RUNS=...)
#
# BASE defaults to 9e4e01d, RUNS to 3; CC and LIB_CFLAGS (the compile flags,
# by default the Makefile's for the library at -O3) from the environment.
#
# CPU time, not wall time, so that other work on the machine matters less;
# the ratio of medians from the same session is the figure to compare.
set -eu
base=${1:-9e4e01d}
runs=${2:-3}
cc=${CC:-cc}
flags=${LIB_CFLAGS:-"-std=c99 -Wall -Wextra -Wpedantic -Wconversion -Wdouble-promotion -Wshadow -O3 -Iinclude -Werror=unused-function"}
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/base"
git archive "$base" | tar -x -C "$tmp/base"
sh lib/amalgamate.sh "$tmp/current.h"   # the current pieces, committed or not
mkdir -p "$tmp/cur/include" "$tmp/cur/lib"
cp "$tmp/current.h" "$tmp/cur/include/prefloss.h"
cp lib/prefloss.c "$tmp/cur/lib/prefloss.c"

# cpu DIR: prints the CPU seconds of one compile of DIR's library
cpu() {
    local TIMEFORMAT='%3U %3S' t
    t=$( { time (cd "$1" && $cc $flags -c lib/prefloss.c \
                -o "$tmp/out.o") >/dev/null; } 2>&1 )
    echo "$t" | awk '{printf "%.3f\n", $1 + $2}'
}
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

: > "$tmp/b.txt"; : > "$tmp/c.txt"
for i in $(seq 1 "$runs"); do
    b=$(cpu "$tmp/base"); echo "$b" >> "$tmp/b.txt"
    c=$(cpu "$tmp/cur"); echo "$c" >> "$tmp/c.txt"
    echo "run $i: $base ${b} s, current ${c} s"
done
mb=$(median < "$tmp/b.txt"); mc=$(median < "$tmp/c.txt")
echo "compile CPU time, median of $runs: $base ${mb} s, current ${mc} s," \
     "ratio $(awk -v c="$mc" -v b="$mb" 'BEGIN {printf "%.3f", c / b}') ($cc $flags)"
