#!/bin/sh
# Writes the single header include/prefloss.h from the sources in lib/
# (SQLite-style amalgamation): each piece in the order below, after a marker
# line naming it. The public declarations come first; the implementation
# pieces follow in dependency order (each uses only what comes before it).
#
#   sh lib/amalgamate.sh OUT     (make amalgamate; make check-amalgamation
#                                 compares a fresh copy with the committed one)
set -eu
out=${1:-include/prefloss.h}
cd "$(dirname "$0")/.."
PIECES="
lib/public.h
lib/config.c
lib/doublefloat.c
lib/difference.c
lib/elementary.c
lib/sigmoid.c
lib/wide.c
lib/core_kernels.c
lib/validate.c
lib/drivers.c
lib/core.c
lib/sequence.c
lib/catalogue_common.c
lib/kind_sigmoid_ipo.c
lib/kind_hinge_sppo.c
lib/kind_exo.c
lib/kind_robust.c
lib/kind_nca_bco.c
lib/kind_apo.c
lib/kind_discopop.c
lib/kind_divergence.c
lib/kind_reference_free.c
lib/registry.c
lib/orpo_kto.c
lib/mix.c
lib/aot.c
lib/ld.c
lib/lean.c
lib/footer.c
"
case "${1:-}" in --list) echo $PIECES; exit 0 ;; esac
tmp="$out.tmp.$$"
{
    for f in $PIECES; do
        printf '/* ==== %s ==== */\n' "$f"
        cat "$f"
        echo
    done
} > "$tmp"
mv "$tmp" "$out"
