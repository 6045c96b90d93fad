#!/bin/sh
# Writes the single header include/prefloss.h from the sources in lib/
# (SQLite-style amalgamation): each piece in the order below, after a marker
# line naming it. The public declarations come first; the implementation
# pieces follow in dependency order (each uses only what comes before it).
# In lib/public.h, the line holding @PREFLOSS_LOSS_VALUES@ (and the comment
# line after it) become the public "#define PREFLOSS_LOSS_<NAME> <value>",
# one per row of the kind registry (PREFLOSS__KINDS in lib/registry.c), with
# the row's formula as its documentation.
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
lib/scaled.c
lib/partials.c
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
lib/token.c
lib/aot.c
lib/ld.c
lib/lean.c
lib/footer.c
"
case "${1:-}" in --list) echo $PIECES; exit 0 ;; esac
# The registry's rows, one per line: NAME value "name" "formula".
kind_defines() {
    awk '/^#define PREFLOSS__KINDS\(X\)/ { on = 1 }
         on { line = $0; sub(/\\[ \t]*$/, "", line); all = all " " line; if ($0 !~ /\\[ \t]*$/) on = 0 }
         END {
             n = split(all, rows, /X\(/)
             for (i = 2; i <= n; i++) {
                 r = rows[i]
                 split(r, f, /,[ \t]*/)
                 doc = r; sub(/^.*, *"/, "", doc); sub(/"\)[ \t]*$/, "", doc); sub(/"\).*$/, "", doc)
                 printf "%-37s /**< %s: %s */\n", "#define PREFLOSS_LOSS_" f[1] " " f[2], f[3], doc
             }
         }' lib/registry.c
}
tmp="$out.tmp.$$"
defs="$out.kinds.$$"
kind_defines > "$defs"
{
    for f in $PIECES; do
        printf '/* ==== %s ==== */\n' "$f"
        if [ "$f" = lib/public.h ]; then
            awk -v defs="$defs" '/@PREFLOSS_LOSS_VALUES@/ { while ((getline l < defs) > 0) print l; skip = 1; next }
                                 skip && /\*\// { skip = 0; next }
                                 skip { next }
                                 { print }' "$f"
        else
            cat "$f"
        fi
        echo
    done
} > "$tmp"
rm -f "$defs"
mv "$tmp" "$out"
