#!/bin/sh
# lib/abi-check.sh — the ABI guard of libprefloss.so (see docs/abi.md).
#
#   abi-check.sh check    BASELINE DEBUG_SO REAL_SO MAP HEADER SONAME
#   abi-check.sh baseline BASELINE DEBUG_SO HEADER_DIR
#
# `check` fails (exit 1) when
#   1. the version script lists a symbol with a wildcard (every exported
#      name must be listed explicitly, so a new one cannot slip in);
#   2. a function declared PREFLOSS_API in the header is not exported, or an
#      exported symbol is not listed in the version script under the node
#      it carries;
#   3. a symbol of the baseline moved to another node, or a symbol that is
#      not in the baseline was added to a node the baseline already has
#      (additions go into a new node, one per minor release);
#   4. abidiff reports anything but added functions against the baseline:
#      a removed symbol, a changed signature or type, a new soname;
#   5. the library actually built (REAL_SO) exports other symbols than the
#      debug copy that was compared.
# DEBUG_SO is the same library built with -g, so that abidiff sees the types.
set -u

die() { echo "abi-check: FAIL: $*" >&2; exit 1; }

# Exported functions and variables of a shared object as "name node" lines.
exported() {
    nm -D --defined-only "$1" | awk '$2 ~ /^[TDBRVW]$/ && $3 ~ /@/ {
        n = $3; sub(/@.*/, "", n); v = $3; sub(/^[^@]*@+/, "", v); print n, v }' | sort
}

# "name node" for every name listed in the version script (comments
# stripped); "* node" for a wildcard pattern in a global section.
map_symbols() {
    sed -e 's|/\*.*\*/||g' "$1" | awk '
        /\/\*/ { incomment = 1 } incomment { if (/\*\//) incomment = 0; next }
        { gsub(/#.*/, "") }
        /^[[:space:]]*[A-Za-z0-9_.]+[[:space:]]*\{/ { node = $1; sub(/\{.*/, "", node); sect = "global"; next }
        /global:/ { sect = "global"; next }
        /local:/  { sect = "local"; next }
        /\}/      { node = ""; next }
        node != "" && sect == "global" {
            s = $0; gsub(/[[:space:];]/, "", s); if (s == "") next
            if (s ~ /[*?\[]/) print "* " node; else print s, node }' | sort
}

# Function names declared PREFLOSS_API in the public part of the header.
header_api() {
    awk '/IMPLEMENTATION/ && /^\/\*[[:space:]]+IMPLEMENTATION/ { exit } { print }' "$1" |
        tr '\n' ' ' | grep -o 'PREFLOSS_API[^;{]*(' |
        grep -o 'prefloss_[A-Za-z0-9_]*[[:space:]]*($' | tr -d ' (' | sort -u
}

# "name node" for every symbol of an abigail XML baseline.
baseline_symbols() {
    grep -o "<elf-symbol name='[^']*' version='[^']*'" "$1" |
        sed "s/<elf-symbol name='\([^']*\)' version='\([^']*\)'/\1 \2/" | sort
}

case "${1:-}" in
baseline)
    [ $# -eq 4 ] || die "usage: $0 baseline BASELINE DEBUG_SO HEADER_DIR"
    abidw --no-corpus-path --no-comp-dir-path --no-show-locs \
        --headers-dir "$4" --out-file "$2.tmp" "$3" || die "abidw failed"
    grep -q '<function-decl' "$2.tmp" || die "no function declarations: was $3 built with -g?"
    mv "$2.tmp" "$2"
    echo "abi-check: wrote $2 from $3 ($(baseline_symbols "$2" | wc -l) symbols)"
    exit 0 ;;
check)
    [ $# -eq 7 ] || die "usage: $0 check BASELINE DEBUG_SO REAL_SO MAP HEADER SONAME" ;;
*)
    die "usage: $0 check|baseline ..." ;;
esac
base=$2 dbg=$3 real=$4 map=$5 header=$6 soname=$7
command -v abidiff >/dev/null || die "abidiff not found (Debian: apt-get install abigail-tools)"
[ -f "$base" ] || die "no baseline $base (make abi-baseline)"

arch=$(sed -n "s/.*<abi-corpus [^>]*architecture='\([^']*\)'.*/\1/p" "$base" | head -n 1)
here=$(abidw --no-corpus-path --no-show-locs "$dbg" 2>/dev/null |
       sed -n "s/.*<abi-corpus [^>]*architecture='\([^']*\)'.*/\1/p" | head -n 1)
if [ -n "$arch" ] && [ "$arch" != "$here" ]; then
    echo "abi-check: SKIPPED: the baseline is for $arch, this build is $here"
    exit 0
fi

tmp=$(mktemp -d) || die "mktemp"
trap 'rm -rf "$tmp"' EXIT INT TERM
exported "$dbg" > "$tmp/exported"
exported "$real" > "$tmp/real"
map_symbols "$map" > "$tmp/map"
header_api "$header" > "$tmp/api"
baseline_symbols "$base" > "$tmp/base"
fail=0
bad() { echo "abi-check: FAIL: $*" >&2; fail=1; }

# 1. explicit names only
if grep -q '^\* ' "$tmp/map"; then
    bad "$map uses a wildcard in node(s) $(grep '^\* ' "$tmp/map" | cut -d' ' -f2 | tr '\n' ' ')— list every exported name"
fi
# 2. header <-> exports <-> version script
for f in $(cat "$tmp/api"); do
    grep -q "^$f " "$tmp/exported" ||
        bad "$f is declared PREFLOSS_API in $header but not exported: add it to $map (in a new node, see docs/abi.md)"
done
while read -r s v; do
    grep -qx "$s $v" "$tmp/map" ||
        bad "$s is exported at node $v but not listed there in $map"
    grep -qx "$s" "$tmp/api" ||
        bad "$s is exported but not declared PREFLOSS_API in $header"
done < "$tmp/exported"
# 3. nodes are append only
basenodes=$(cut -d' ' -f2 "$tmp/base" | sort -u)
while read -r s v; do
    old=$(awk -v s="$s" '$1 == s { print $2 }' "$tmp/base")
    if [ -n "$old" ]; then
        [ "$old" = "$v" ] || bad "$s moved from node $old to $v"
    else
        for n in $basenodes; do
            [ "$n" = "$v" ] && bad "$s is new but was added to the released node $v: add a new node (e.g. PREFLOSS_1.1) in $map"
        done
        echo "abi-check: added: $s at node $v"
    fi
done < "$tmp/exported"
# 4. abidiff against the baseline: anything but additions fails
abidiff --no-show-locs "$base" "$dbg" > "$tmp/diff" 2>&1
rc=$?
if [ $((rc & 3)) -ne 0 ]; then
    cat "$tmp/diff" >&2; bad "abidiff could not compare (exit $rc)"
elif [ $((rc & 8)) -ne 0 ]; then
    cat "$tmp/diff" >&2; bad "abidiff: incompatible ABI change (exit $rc)"
elif [ $((rc & 4)) -ne 0 ]; then
    abidiff --no-show-locs --no-added-syms "$base" "$dbg" > "$tmp/diff2" 2>&1
    if [ $? -ne 0 ]; then
        cat "$tmp/diff2" >&2; bad "abidiff: changed ABI (exit $rc): only additions are allowed without a new soname"
    else
        sed -n 's/^ *\[A\] /abi-check: abidiff: added /p' "$tmp/diff"
    fi
fi
# soname
got=$(readelf -d "$real" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$got" = "$soname" ] || bad "soname of $real is '$got', expected $soname"
# 5. the real build exports what was compared
cmp -s "$tmp/exported" "$tmp/real" ||
    bad "$real and $dbg export different symbols: $(diff "$tmp/exported" "$tmp/real" | grep '^[<>]' | tr '\n' ' ')"

[ $fail -eq 0 ] || exit 1
echo "abi-check: $(wc -l < "$tmp/exported") symbols, $soname, compatible with $base"
