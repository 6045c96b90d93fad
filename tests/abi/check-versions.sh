#!/bin/sh
# tests/abi/check-versions.sh — every place that states the version agrees.
#
#   check-versions.sh PROGRAM SHLIB PCFILE HEADER CHANGELOG CMAKE_VERSION_FILE
#
# PROGRAM is tests/abi/version_agree.c linked against SHLIB. Checked:
#   the header's MAJOR.MINOR.PATCH macros, PREFLOSS_VERSION and
#   PREFLOSS_VERSION_NUMBER; prefloss_version(), prefloss_version_number()
#   and prefloss_abi_version() of the linked library; the banner of the
#   header; the .pc file's Version; the CMake package's version; the shared
#   object's file name (libprefloss.so.MAJOR.MINOR.PATCH), its soname
#   (libprefloss.so.ABI), the library the program actually loaded; and the
#   newest released version in CHANGELOG.md.
set -u
prog=$1 shlib=$2 pc=$3 header=$4 changelog=$5 cmakever=$6
fail=0
bad() { echo "versions: FAIL: $*" >&2; fail=1; }
same() { [ "$2" = "$3" ] || bad "$1: '$2' != '$3'"; }

out=$("$prog") || { echo "versions: FAIL: $prog did not run" >&2; exit 1; }
get() { echo "$out" | sed -n "s/^$1 //p"; }
v=$(get header_version)
abi=$(get header_abi)
echo "$v" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+$' || bad "PREFLOSS_VERSION '$v' is not MAJOR.MINOR.PATCH"
same "PREFLOSS_VERSION vs the MAJOR/MINOR/PATCH macros" "$v" "$(get header_triple)"
same "prefloss_version() vs PREFLOSS_VERSION" "$(get library_version)" "$v"
same "prefloss_version_number() vs PREFLOSS_VERSION_NUMBER" "$(get library_number)" "$(get header_number)"
same "PREFLOSS_VERSION_NUMBER vs PREFLOSS_VERSION" "$(get header_number)" \
    "$(echo "$v" | awk -F. '{ print $1 * 10000 + $2 * 100 + $3 }')"
same "prefloss_abi_version() vs PREFLOSS_ABI_VERSION" "$(get library_abi)" "$abi"
same "the header's banner" "$(sed -n 's/^ \* libprefloss \([0-9.]*\) .*/\1/p' "$header" | head -n 1)" "$v"
same "Version in $pc" "$(sed -n 's/^Version: *//p' "$pc")" "$v"
same "PACKAGE_VERSION in $cmakever" "$(sed -n 's/^set(PACKAGE_VERSION "\(.*\)")/\1/p' "$cmakever")" "$v"
same "shared object file name" "$(basename "$shlib")" "libprefloss.so.$v"
same "soname" "$(readelf -d "$shlib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')" "libprefloss.so.$abi"
loaded=$(ldd "$prog" | awk '/libprefloss/ { print $3 }')
[ -n "$loaded" ] && [ "$(readlink -f "$loaded")" = "$(readlink -f "$shlib")" ] ||
    bad "$prog loaded '$loaded', not $shlib"
same "newest release in $changelog" \
    "$(sed -n 's/^## \[\([0-9][0-9.]*\)\].*/\1/p' "$changelog" | head -n 1)" "$v"
[ $fail -eq 0 ] || exit 1
echo "versions: $v (ABI $abi) agree: header macros, prefloss_version(), .pc, CMake package, file name, soname, CHANGELOG.md"
