#!/bin/sh
# tests/vendor/vendor.sh — the vendoring and embedded-target checks
# (docs/embedding.md). Called by tests/vendor/vendor.mk as
#
#   sh tests/vendor/vendor.sh STEP HEADER OUTDIR
#
# STEP is one of: dropin modes freestanding m4f cross measure traps dispatch lean docs.
# Every step works in a fresh, empty directory under OUTDIR into which only
# the header and the test's own C files are copied: no Makefile, no other
# file of the repository, plain compiler command lines.
set -eu

step=$1
header=$2
out=$3
here=$(cd "$(dirname "$0")" && pwd)
header=$(cd "$(dirname "$header")" && pwd)/$(basename "$header")

# Strict warnings for the header's own translation units.
STRICT="-Wall -Wextra -Wpedantic -Wconversion -Wdouble-promotion -Wshadow -Wundef -Wcast-qual -Werror"
STRICT_C="$STRICT -Wstrict-prototypes -Wmissing-prototypes"
# The test program itself uses double and libm on purpose.
TESTW="-Wall -Wextra -Werror"
M4F="-mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard -mthumb"
# Samples per configuration: native, and under qemu (slower, so fewer).
NATIVE_SAMPLES=${VENDOR_SAMPLES:-20000}
QEMU_SAMPLES=${VENDOR_QEMU_SAMPLES:-5000}

fresh() { # fresh DIR FILE...: an empty directory holding only the header and FILEs
    d=$out/$1
    shift
    rm -rf "$d"
    mkdir -p "$d"
    cp "$header" "$d/prefloss.h"
    for f in "$@"; do cp "$here/$f" "$d/"; done
    cd "$d"
}

run_vectors() { # run_vectors LABEL CMD...: runs the vectors program, checks its closing line
    label=$1
    shift
    if ! "$@" > "$label.out" 2>&1; then
        cat "$label.out"
        echo "vendor: $label: vectors failed"
        return 1
    fi
    tail -n 1 "$label.out" | grep -q '^vectors: [0-9]* passed, 0 failed$' || {
        cat "$label.out"; echo "vendor: $label: no clean closing line"; return 1; }
    echo "vendor: $label: $(tail -n 1 "$label.out" | sed 's/^vectors: //')"
}

case $step in

dropin)
    # 1. The header alone, one implementation file, one file that only
    #    includes it: compile, link, run the core vectors.
    fresh dropin impl.c vectors.c twin.c
    cc -std=c99 -O2 $STRICT_C -c impl.c -o impl.o
    cc -std=c99 -O2 $TESTW -c vectors.c -o vectors.o
    cc -o vectors vectors.o impl.o -lm
    run_vectors dropin ./vectors "$NATIVE_SAMPLES"
    # The implementation exports exactly the public functions.
    exported=$(nm -g --defined-only impl.o | awk '$2 ~ /^[TDRBi]$/ {print $3}' | sort -u)
    echo "$exported" | grep -v '^prefloss_[a-z]' && { echo "vendor: dropin: unexpected export"; exit 1; }
    echo "$exported" | grep -q '^prefloss__' && { echo "vendor: dropin: internal name exported"; exit 1; }
    echo "vendor: dropin: impl.o exports $(echo "$exported" | wc -l) symbols, all prefloss_*"
    # 2. PREFLOSS_STATIC: two private copies in one program (vectors.c with
    #    its own copy, twin.c with another), nothing exported by either.
    cc -std=c99 -O2 $TESTW -DPREFLOSS_STATIC -DPREFLOSS_IMPLEMENTATION -DVECTORS_TWIN \
        -c vectors.c -o vectors-static.o
    cc -std=c99 -O2 $STRICT_C -c twin.c -o twin.o
    cc -o vectors-static vectors-static.o twin.o -lm
    if nm -g --defined-only vectors-static.o twin.o | grep -q ' prefloss'; then
        echo "vendor: dropin: PREFLOSS_STATIC exported a prefloss symbol"; exit 1
    fi
    run_vectors static-twice ./vectors-static "$NATIVE_SAMPLES"
    grep 'two private copies' static-twice.out
    ;;

modes)
    # The header in every language mode with strict warnings: the
    # implementation TU and an include-only TU (use.c), then the vectors.
    fresh modes impl.c use.c vectors.c
    cp impl.c impl.cpp
    cp use.c use.cpp
    cc -std=c99 -O2 $TESTW -c vectors.c -o vectors.o
    for c in gcc clang; do
        for std in c99 c11 c17; do
            $c -std=$std -O2 $STRICT_C -c impl.c -o impl-$c-$std.o
            $c -std=$std -O2 $STRICT_C -DPREFLOSS_STATIC -c impl.c -o /dev/null
            $c -std=$std -O2 $STRICT_C use.c impl-$c-$std.o -o use-$c-$std
            ./use-$c-$std
            $c -o vectors-$c-$std vectors.o impl-$c-$std.o -lm
            run_vectors "$c-$std" ./vectors-$c-$std 4000
        done
    done
    for cxx in g++ clang++; do
        for std in c++11 c++17; do
            # the implementation compiled as C++, called from C (extern "C")
            $cxx -std=$std -O2 $STRICT -c impl.cpp -o impl-$cxx-$std.o
            $cxx -std=$std -O2 $STRICT -DPREFLOSS_STATIC -c impl.cpp -o /dev/null
            $cxx -std=$std -O2 $STRICT use.cpp impl-$cxx-$std.o -o use-$cxx-$std
            ./use-$cxx-$std
            $cxx -o vectors-$cxx-$std vectors.o impl-$cxx-$std.o -lm
            run_vectors "$cxx-$std" ./vectors-$cxx-$std 4000
        done
    done
    echo "vendor: modes: C99/C11/C17 (gcc, clang) and C++11/17 (g++, clang++) warning-free with: $STRICT"
    # clang's documentation comments check (on by default in Xcode) on the
    # declarations and on the implementation, as C and as C++.
    DOCW="-Wdocumentation -Wdocumentation-pedantic -Werror"
    clang -std=c99 $STRICT_C $DOCW -fsyntax-only use.c
    clang -std=c99 $STRICT_C $DOCW -fsyntax-only impl.c
    clang++ -std=c++11 $STRICT $DOCW -fsyntax-only use.cpp
    clang++ -std=c++11 $STRICT $DOCW -fsyntax-only impl.cpp
    echo "vendor: modes: clang and clang++ $DOCW clean"
    ;;

freestanding)
    # No hidden dependencies: only the compiler's own freestanding headers
    # (-nostdinc), no libc, no libm, no libgcc at link time (-nostdlib), and
    # not one undefined symbol in the object.
    # Every optimisation level on the two gcc targets that differ most (GCC
    # turns a large struct copy or initializer into a memcpy/memset call,
    # and which ones it keeps depends on the level and the target).
    fresh freestanding impl.c
    check_fs() { # check_fs LABEL CC NM LEVELS FLAGS...
        label=$1 c=$2 nmtool=$3 levels=$4
        shift 4
        inc=$($c "$@" -print-file-name=include)
        for o in $levels; do
            $c -std=c99 $o $STRICT_C "$@" -ffreestanding -nostdlib -nostdinc -isystem "$inc" \
                -c impl.c -o fs-$label$o.o
            undef=$($nmtool -u fs-$label$o.o)
            if [ -n "$undef" ]; then
                echo "vendor: freestanding $label $o: undefined symbols:"; echo "$undef"; exit 1
            fi
            # a link with nothing else at all must succeed
            $c "$@" -nostdlib -static -Wl,--entry=prefloss_version -Wl,--no-undefined \
                -o fs-$label$o.elf fs-$label$o.o
        done
        echo "vendor: freestanding $label ($levels): no undefined symbols, links with -nostdlib"
    }
    check_fs x86-64 gcc nm "-O0 -O1 -O2 -O3 -Os"
    check_fs x86-64-clang clang nm "-O2"
    check_fs aarch64 aarch64-linux-gnu-gcc aarch64-linux-gnu-nm "-O2"
    check_fs cortex-m4f arm-none-eabi-gcc arm-none-eabi-nm "-O0 -O1 -O2 -O3 -Os" $M4F
    # The implementation includes nothing but <stddef.h>, <stdint.h>, <float.h>.
    incs=$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*<\([^>]*\)>.*/\1/p' prefloss.h | sort -u | tr '\n' ' ')
    [ "$incs" = "float.h stddef.h stdint.h " ] || { echo "vendor: freestanding: header includes $incs"; exit 1; }
    echo "vendor: freestanding: the header includes only: $incs"
    ;;

m4f)
    # Single-precision FPU: no double arithmetic anywhere (-Wdouble-promotion
    # clean) and no soft-double helper (__aeabi_d*, __aeabi_f2d, ...) or
    # double-precision instruction in the Cortex-M4F object, at every -O level.
    fresh m4f impl.c
    for o in -O0 -O1 -O2 -O3 -Os; do
        arm-none-eabi-gcc -std=c99 $o $STRICT_C $M4F -c impl.c -o m4f$o.o
        helpers=$(arm-none-eabi-nm -u m4f$o.o | awk '{print $2}' \
                  | grep -E '^__aeabi_(d|cd|cfcmp|f2d|i2d|ui2d|l2d|ul2d)|^__(adddf|subdf|muldf|divdf|extendsfdf|truncdfsf)' || true)
        if [ -n "$helpers" ]; then echo "vendor: m4f $o: soft-double helpers: $helpers"; exit 1; fi
        if arm-none-eabi-objdump -d m4f$o.o | grep -qE '\.f64|\bd[0-9]+\b.*\.f64'; then
            echo "vendor: m4f $o: double-precision instruction"; exit 1
        fi
        echo "vendor: m4f $o: no double arithmetic (undefined: $(arm-none-eabi-nm -u m4f$o.o | awk '{print $2}' | tr '\n' ' '))"
    done
    # PREFLOSS_KERNEL_ATTR and PREFLOSS_API together move the code into a
    # section of the caller's choosing (fast RAM): the kernels themselves,
    # not only the public wrappers. At least 85% of the code must move.
    arm-none-eabi-gcc -std=c99 -Os $STRICT_C $M4F \
        '-DPREFLOSS_KERNEL_ATTR=__attribute__((section(".ramfunc")))' \
        '-DPREFLOSS_API=__attribute__((section(".ramfunc")))' -c impl.c -o m4f-ram.o
    arm-none-eabi-size -A m4f-ram.o | awk '
        $1 == ".text" { t = $2 } $1 == ".ramfunc" { r = $2 }
        END { printf "vendor: m4f -Os: .ramfunc %d bytes, .text %d bytes left (%.0f%% moved)\n", r, t, 100 * r / (r + t)
              exit !(r >= 0.85 * (r + t)) }' || { echo "vendor: m4f: the kernels did not move to .ramfunc"; exit 1; }
    # clang for the same core, as a second opinion on -Wdouble-promotion
    clang --target=thumbv7em-none-eabihf $M4F -std=c99 -O2 $STRICT_C -ffreestanding \
        -c impl.c -o m4f-clang.o
    echo "vendor: m4f: clang --target=thumbv7em-none-eabihf also warning-free"
    ;;

cross)
    # The vectors on other ABIs: aarch64 and armhf Linux under qemu-user,
    # i386 with SSE2 arithmetic (natively, or under qemu-i386 where the kernel
    # cannot run i386 programs). Same budget as on x86-64.
    fresh cross impl.c vectors.c
    for t in aarch64-linux-gnu arm-linux-gnueabihf; do
        $t-gcc -std=c99 -O2 $STRICT_C -c impl.c -o impl-$t.o
        $t-gcc -std=c99 -O2 $TESTW -c vectors.c -o vectors-$t.o
        $t-gcc -o vectors-$t vectors-$t.o impl-$t.o -lm
        case $t in aarch64*) q=qemu-aarch64 ;; *) q=qemu-arm ;; esac
        run_vectors "$t" $q -L /usr/$t ./vectors-$t "$QEMU_SAMPLES"
    done
    # i386 natively where the kernel runs 32-bit x86 programs; otherwise (no
    # IA32 emulation in the kernel) under qemu-i386. A tiny program decides.
    printf 'int main(void) { return 0; }\n' > probe-i386.c
    gcc -m32 probe-i386.c -o probe-i386
    if ./probe-i386 2> /dev/null; then i386run= i386n=$NATIVE_SAMPLES i386how=natively
    else i386run=qemu-i386 i386n=$QEMU_SAMPLES i386how="under qemu-i386"; fi
    echo "vendor: cross: i386 programs run $i386how"
    for c in gcc clang; do
        $c -m32 -msse2 -mfpmath=sse -std=c99 -O2 $STRICT_C -c impl.c -o impl-i386-$c.o
        $c -m32 -msse2 -mfpmath=sse -std=c99 -O2 $TESTW -c vectors.c -o vectors-i386-$c.o
        $c -m32 -o vectors-i386-$c vectors-i386-$c.o impl-i386-$c.o -lm
        run_vectors "i386-sse2-$c" $i386run ./vectors-i386-$c "$i386n"
    done
    # Without SSE2 arithmetic (x87, FLT_EVAL_METHOD 2) the header refuses.
    if gcc -m32 -mfpmath=387 -std=c99 -O2 -c impl.c -o x87.o 2> x87.err; then
        echo "vendor: cross: an x87 build compiled but must be refused"; exit 1
    fi
    grep -q 'FLT_EVAL_METHOD' x87.err
    echo "vendor: cross: an x87 (-m32 -mfpmath=387) build is refused with #error, as documented"
    ;;

measure)
    # Code size and stack use per target, printed as the tables of
    # docs/embedding.md. Fails if a call needs more than STACK_LIMIT bytes.
    STACK_LIMIT=${VENDOR_STACK_LIMIT:-8192}
    fresh measure impl.c
    stack_table() { # stack_table CI-FILE: worst-case bytes per public function
        awk -v limit="$STACK_LIMIT" '
        /^node:/ {
            t = $0; sub(/.*title: "/, "", t); sub(/".*/, "", t)
            b = $0; if (b ~ /bytes/) { sub(/ bytes.*/, "", b); sub(/.*\\n/, "", b); frame[t] = b + 0 }
            else frame[t] = 0
            nodes[t] = 1
        }
        /^edge:/ {
            s = $0; sub(/.*sourcename: "/, "", s); sub(/".*/, "", s)
            d = $0; sub(/.*targetname: "/, "", d); sub(/".*/, "", d)
            ne[s]++; edge[s, ne[s]] = d
        }
        function worst(f,    i, w, m, d, k) {
            if (f in memo) return memo[f]
            m = 0
            for (i = 1; i <= ne[f]; i++) {
                d = edge[f, i]
                if (d == "__indirect_call") {
                    # a kernel chosen through a pointer: the largest kernel
                    for (k in nodes) if (k ~ /kernel/ && frame[k] > m) m = frame[k]
                    continue
                }
                if (!(d in nodes) && ((d ".default") in nodes)) {
                    w = worst(d ".default"); if (w > m) m = w
                    if ((d ".avx2") in nodes) { w = worst(d ".avx2"); if (w > m) m = w }
                    continue
                }
                w = worst(d); if (w > m) m = w
            }
            memo[f] = frame[f] + m
            return memo[f]
        }
        END {
            bad = 0
            for (f in nodes) if (f ~ /^prefloss_[a-z]/) {
                w = worst(f); printf "%s %d\n", f, w
                if (w > limit) bad = 1
            }
            exit bad
        }' "$1"
    }
    targets="x86-64 aarch64 armhf cortex-m4f"
    for t in $targets; do
        case $t in
        x86-64) c="gcc"; sz=size ;;
        aarch64) c="aarch64-linux-gnu-gcc"; sz=aarch64-linux-gnu-size ;;
        armhf) c="arm-linux-gnueabihf-gcc"; sz=arm-linux-gnueabihf-size ;;
        cortex-m4f) c="arm-none-eabi-gcc $M4F"; sz=arm-none-eabi-size ;;
        esac
        for o in -O2 -Os; do
            $c -std=c99 $o -c impl.c -o $t$o.o -fstack-usage -fcallgraph-info=su
            mv $t$o.ci $t$o.ci.txt 2>/dev/null || mv impl.ci $t$o.ci.txt
            $sz $t$o.o | awk -v t="$t" -v o="$o" 'NR == 2 {printf "size %s %s text=%d data=%d bss=%d\n", t, o, $1, $2, $3}'
            # (no pipe after stack_table: its exit status is the check)
            stack_table $t$o.ci.txt > stack-$t$o.unsorted || {
                cat stack-$t$o.unsorted; echo "vendor: measure: $t $o: a call needs more than $STACK_LIMIT bytes of stack"; exit 1; }
            sort stack-$t$o.unsorted > stack-$t$o.txt
        done
    done
    # x86-64 without run-time dispatch (one copy of each kernel), and the
    # lean DPO+IPO+BT build on the Cortex-M4F
    LEAN="-DPREFLOSS_NO_CATALOGUE -DPREFLOSS_NO_ORPO_KTO -DPREFLOSS_NO_LD -DPREFLOSS_NO_TOKEN -DPREFLOSS_NO_PARTIALS"
    for o in -O2 -Os; do
        gcc -std=c99 $o -DPREFLOSS_NO_DISPATCH -c impl.c -o x86-64-nodispatch$o.o
        arm-none-eabi-gcc $M4F -std=c99 $o $LEAN -c impl.c -o m4f-lean$o.o -fstack-usage -fcallgraph-info=su
        mv m4f-lean$o.ci m4f-lean$o.ci.txt 2>/dev/null || mv impl.ci m4f-lean$o.ci.txt
        stack_table m4f-lean$o.ci.txt > stack-m4f-lean$o.unsorted || {
            cat stack-m4f-lean$o.unsorted; echo "vendor: measure: m4f lean $o: a call needs more than $STACK_LIMIT bytes"; exit 1; }
        sort stack-m4f-lean$o.unsorted > stack-m4f-lean$o.txt
    done
    text() { size "$1" | awk 'NR == 2 {print $1}'; }
    armtext() { arm-none-eabi-size "$1" | awk 'NR == 2 {print $1}'; }
    # The tables of docs/embedding.md, in its format (check-vendor-docs
    # compares them with the page).
    {
        echo "| function | x86-64 | aarch64 | armhf | Cortex-M4F |"
        echo "|---|---:|---:|---:|---:|"
        for f in $(awk '{print $1}' stack-x86-64-O2.txt); do
            printf '| `%s` |' "$f"
            for t in $targets; do printf ' %s |' "$(awk -v f="$f" '$1 == f {print $2}' stack-$t-O2.txt)"; done
            echo
        done
        echo
        echo "| Cortex-M4F \`-Os\`, stack bytes | whole library | DPO+IPO+BT build |"
        echo "|---|---:|---:|"
        for f in prefloss_dpo_loss prefloss_ipo_loss prefloss_bt_loss prefloss_sequence_logps; do
            echo "| \`$f\` | $(awk -v f="$f" '$1 == f {print $2}' stack-cortex-m4f-Os.txt) | $(awk -v f="$f" '$1 == f {print $2}' stack-m4f-lean-Os.txt) |"
        done
        echo "| largest entry point | $(awk '$2 > m {m = $2} END {print m}' stack-cortex-m4f-Os.txt) | $(awk '$2 > m {m = $2} END {print m}' stack-m4f-lean-Os.txt) |"
        echo
        echo "| target | build | -O2 | -Os |"
        echo "|---|---|---:|---:|"
        echo "| x86-64 | default (baseline and AVX2 kernels, run-time dispatch) | $(text x86-64-O2.o) | $(text x86-64-Os.o) |"
        echo "| x86-64 | \`-DPREFLOSS_NO_DISPATCH\` | $(text x86-64-nodispatch-O2.o) | $(text x86-64-nodispatch-Os.o) |"
        echo "| aarch64 | whole library | $(aarch64-linux-gnu-size aarch64-O2.o | awk 'NR == 2 {print $1}') | $(aarch64-linux-gnu-size aarch64-Os.o | awk 'NR == 2 {print $1}') |"
        echo "| armhf | whole library | $(arm-linux-gnueabihf-size armhf-O2.o | awk 'NR == 2 {print $1}') | $(arm-linux-gnueabihf-size armhf-Os.o | awk 'NR == 2 {print $1}') |"
        echo "| Cortex-M4F | whole library | $(armtext cortex-m4f-O2.o) | $(armtext cortex-m4f-Os.o) |"
        echo "| Cortex-M4F | DPO+IPO+BT: \`$LEAN\` | $(armtext m4f-lean-O2.o) | $(armtext m4f-lean-Os.o) |"
    } > measure.md
    cat measure.md
    echo "vendor: measure: every call within $STACK_LIMIT bytes of stack on every target (-O2 and -Os)"
    # The embedded limits (docs/embedding.md): the whole library at most
    # 150 KiB and the DPO+IPO+BT build at most
    # 24 KiB of text on the Cortex-M4F at -Os; there, prefloss_dpo_loss,
    # _ipo_loss and _bt_loss at most 1 KiB of stack and no entry point above
    # 4 KiB (both builds, -O2 and -Os).
    lean_text=$(armtext m4f-lean-Os.o) whole_text=$(armtext cortex-m4f-Os.o)
    [ "$whole_text" -le 153600 ] || { echo "vendor: measure: whole library on the M4F -Os: $whole_text bytes of text > 153600"; exit 1; }
    [ "$lean_text" -le 24576 ] || { echo "vendor: measure: DPO+IPO+BT on the M4F -Os: $lean_text bytes of text > 24576"; exit 1; }
    for st in stack-cortex-m4f-Os.txt stack-m4f-lean-Os.txt stack-cortex-m4f-O2.txt stack-m4f-lean-O2.txt; do
        awk -v st="$st" '
            ($1 == "prefloss_dpo_loss" || $1 == "prefloss_ipo_loss" || $1 == "prefloss_bt_loss") && $2 > 1024 {
                printf "vendor: measure: %s: %s needs %d bytes of stack > 1024\n", st, $1, $2; bad = 1 }
            $2 > 4096 { printf "vendor: measure: %s: %s needs %d bytes of stack > 4096\n", st, $1, $2; bad = 1 }
            END { exit bad }' "$st" || exit 1
    done
    echo "vendor: measure: M4F: DPO+IPO+BT build $lean_text bytes of text (<= 24576); dpo/ipo/bt <= 1024 and every entry <= 4096 bytes of stack"
    echo "vendor: measure: M4F -Os whole library: $whole_text bytes of text (<= 153600)"
    ;;

traps)
    # What would be silently wrong is refused. 1. Value-changing float flags
    # on the implementation: an #error naming the flag (gcc predefines a
    # macro for each; clang only for -ffast-math and -ffinite-math-only).
    fresh traps impl.c vectors.c rounding.c
    cp impl.c impl.cpp
    refuse() { # refuse CC FLAG-NAME FLAGS...: the build must fail naming FLAG-NAME
        c=$1 name=$2
        shift 2
        case $c in *++) src="-std=c++11 impl.cpp" ;; *) src="-std=c99 impl.c" ;; esac
        if $c $src -O2 "$@" -c -o refused.o 2> refused.err; then
            echo "vendor: traps: $c $* compiled but must be refused"; exit 1
        fi
        grep -q "error.*$name" refused.err || { cat refused.err; echo "vendor: traps: $c $*: no #error naming $name"; exit 1; }
        echo "vendor: traps: $c $* refused: $(grep -o "cannot be compiled with $name" refused.err | head -n 1)"
    }
    for c in gcc clang g++ clang++; do
        refuse $c -ffast-math -ffast-math
        refuse $c -ffinite-math-only -ffinite-math-only
    done
    refuse gcc -fassociative-math -fassociative-math -fno-signed-zeros -fno-trapping-math
    refuse gcc -freciprocal-math -freciprocal-math
    refuse gcc -fassociative-math -funsafe-math-optimizations
    # clang defines no macro for these alone: the implementation's
    # float_control(precise) pragma keeps them out of its code, and the
    # vectors hold (without the pragma, -fassociative-math fails some).
    cc -std=c99 -O2 $TESTW -c vectors.c -o vectors.o
    for f in "-fassociative-math -fno-signed-zeros -fno-trapping-math" \
             "-funsafe-math-optimizations"; do
        clang -std=c99 -O2 $STRICT_C $f -c impl.c -o impl-unsafe.o
        clang -o vectors-unsafe vectors.o impl-unsafe.o -lm
        run_vectors "clang $f" ./vectors-unsafe 4000
    done
    # off x86 clang has no float_control: #pragma clang fp reassociate(off)
    # (AArch64 under qemu; without it 5 of 67,227 vectors failed)
    clang --target=aarch64-linux-gnu -std=c99 -O2 $STRICT_C -fassociative-math -fno-signed-zeros \
        -fno-trapping-math -c impl.c -o impl-unsafe-a64.o
    aarch64-linux-gnu-gcc -std=c99 -O2 $TESTW -c vectors.c -o vectors-a64.o
    aarch64-linux-gnu-gcc -o vectors-unsafe-a64 vectors-a64.o impl-unsafe-a64.o -lm
    run_vectors "clang-aarch64 -fassociative-math" qemu-aarch64 -L /usr/aarch64-linux-gnu \
        ./vectors-unsafe-a64 3000
    # 2. PREFLOSS_STATIC after an earlier plain include: #error with the fix.
    printf '#include "prefloss.h"\n#define PREFLOSS_STATIC\n#define PREFLOSS_IMPLEMENTATION\n#include "prefloss.h"\n' > late.c
    cp late.c late.cpp
    for c in "gcc -std=c99" "clang -std=c99" "g++ -std=c++11" "clang++ -std=c++11"; do
        src=late.c; case $c in *++*) src=late.cpp ;; esac
        if $c -O2 -c $src -o late.o 2> late.err; then
            echo "vendor: traps: $c: a late PREFLOSS_STATIC compiled but must be refused"; exit 1
        fi
        grep -q 'define PREFLOSS_STATIC (and PREFLOSS_IMPLEMENTATION) before the first #include' late.err || {
            cat late.err; echo "vendor: traps: $c: late PREFLOSS_STATIC: not the documented #error"; exit 1; }
    done
    echo "vendor: traps: PREFLOSS_STATIC after a plain include is refused (gcc, clang, g++, clang++)"
    # ... while a late PREFLOSS_IMPLEMENTATION alone is the usual stb pattern
    # (a unity build): it compiles warning-free and exports the functions.
    printf '#include "prefloss.h"\n#define PREFLOSS_IMPLEMENTATION\n#include "prefloss.h"\n' > late-impl.c
    cc -std=c99 -O2 $STRICT_C -c late-impl.c -o late-impl.o
    nm -g --defined-only late-impl.o | grep -q ' T prefloss_dpo_loss$' || {
        echo "vendor: traps: a late PREFLOSS_IMPLEMENTATION exports no prefloss_dpo_loss"; exit 1; }
    echo "vendor: traps: a late PREFLOSS_IMPLEMENTATION (no PREFLOSS_STATIC) still builds and exports"
    # 3. A rounding mode other than to-nearest: PREFLOSS_ERR_ROUNDING from
    #    every computing call, nothing written (float-only and default
    #    builds natively, armhf under qemu).
    for d in "" -DPREFLOSS_NO_DOUBLE; do
        cc -std=c99 -O1 $TESTW $d rounding.c -o rounding -lm
        ./rounding > rounding.out || { cat rounding.out; echo "vendor: traps: rounding ${d:-default} failed"; exit 1; }
        echo "vendor: traps: rounding x86-64 ${d:-default}: $(grep -c 'every call gives' rounding.out) modes, $(tail -n 1 rounding.out)"
    done
    arm-linux-gnueabihf-gcc -std=c99 -O1 $TESTW rounding.c -o rounding-armhf -lm
    qemu-arm -L /usr/arm-linux-gnueabihf ./rounding-armhf > rounding-armhf.out || {
        cat rounding-armhf.out; echo "vendor: traps: rounding armhf failed"; exit 1; }
    echo "vendor: traps: rounding armhf: $(tail -n 1 rounding-armhf.out)"
    ;;

docs)
    # docs/embedding.md's measured tables (between its measure markers) must
    # agree with what check-vendor-measure printed last (OUTDIR/measure/
    # measure.md): every number within 5 % (or 16 bytes), every label equal.
    doc=$(cd "$here/../.." && pwd)/docs/embedding.md
    meas=$out/measure/measure.md
    [ -f "$meas" ] || { echo "vendor: docs: run check-vendor-measure first"; exit 1; }
    sed -n '/<!-- measure:begin -->/,/<!-- measure:end -->/p' "$doc" | grep '^|' > "$out/doc-tables.md" || true
    grep '^|' "$meas" > "$out/measured-tables.md"
    awk -F'|' 'NR == FNR { m[FNR] = $0; n = FNR; next }
        {
            if (!(FNR in m)) { printf "docs/embedding.md: extra table row: %s\n", $0; bad = 1; next }
            k = split(m[FNR], a, "|"); l = split($0, b, "|")
            if (k != l) { printf "docs/embedding.md: row %d differs in shape:\n  page: %s\n  now:  %s\n", FNR, $0, m[FNR]; bad = 1; next }
            for (i = 1; i <= k; i++) {
                x = b[i]; y = a[i]; gsub(/ /, "", x); gsub(/ /, "", y)
                if (x ~ /^[0-9]+$/ && y ~ /^[0-9]+$/) {
                    d = x - y; if (d < 0) d = -d
                    if (d > 16 && d > 0.05 * y) { printf "docs/embedding.md: %s: %s in the page, %s measured\n", b[2], x, y; bad = 1 }
                } else if (x != y) { printf "docs/embedding.md: row %d: \"%s\" in the page, \"%s\" measured\n", FNR, b[i], a[i]; bad = 1 }
            }
        }
        END { if (FNR != n) { print "docs/embedding.md: the tables have a different number of rows"; bad = 1 }; exit bad }' \
        "$out/measured-tables.md" "$out/doc-tables.md" || { echo "vendor: docs: update docs/embedding.md from $meas"; exit 1; }
    echo "vendor: docs: the size and stack tables of docs/embedding.md agree with the measurement (within 5 %)"
    ;;

lean)
    # Each lean configuration: the implementation warning-free (gcc, clang),
    # the left-out families' functions give PREFLOSS_ERR_UNSUPPORTED and the
    # rest still compute (lean.c), the core vectors pass.
    fresh lean impl.c lean.c vectors.c
    cc -std=c99 -O2 $TESTW -c vectors.c -o vectors.o
    i=0
    for cfg in "-DPREFLOSS_NO_CATALOGUE" "-DPREFLOSS_NO_ORPO_KTO" "-DPREFLOSS_NO_AOT" "-DPREFLOSS_NO_LD" \
               "-DPREFLOSS_NO_TOKEN" "-DPREFLOSS_NO_PARTIALS" \
               "-DPREFLOSS_NO_CATALOGUE -DPREFLOSS_NO_ORPO_KTO -DPREFLOSS_NO_LD -DPREFLOSS_NO_TOKEN -DPREFLOSS_NO_PARTIALS"; do
        i=$((i + 1))
        clang -std=c99 -O1 $STRICT_C $cfg -c impl.c -o /dev/null
        gcc -std=c99 -O2 $STRICT_C $cfg -c impl.c -o impl-$i.o
        gcc -std=c99 -O1 $TESTW $cfg lean.c impl-$i.o -o lean-$i -lm
        ./lean-$i > lean-$i.out || { cat lean-$i.out; echo "vendor: lean: $cfg failed"; exit 1; }
        cc -o vectors-$i vectors.o impl-$i.o -lm
        run_vectors "lean $cfg" ./vectors-$i 4000
        echo "vendor: $(cat lean-$i.out)"
    done
    ;;

dispatch)
    # The x86-64 run-time dispatch is the library's own (CPUID on the first
    # call, cached with a relaxed atomic): no ifunc, no constructor, no
    # libgcc CPU model in the object, at -O2 with gcc and clang...
    fresh dispatch impl.c tsan.c
    for c in gcc clang; do
        $c -std=c99 -O2 $STRICT_C -c impl.c -o impl-$c.o
        if nm impl-$c.o | grep -E ' i |__cpu_model|__cpu_indicator_init'; then
            echo "vendor: dispatch: $c: an ifunc or libgcc's CPU model in the object"; exit 1
        fi
        if readelf -SW impl-$c.o | grep -E 'init_array|\.ctors'; then
            echo "vendor: dispatch: $c: the object has a constructor"; exit 1
        fi
        nm impl-$c.o | grep -q 'prefloss__k_hinge_blocks_avx2' || {
            echo "vendor: dispatch: $c: no AVX2 variant of the catalogue kernels"; exit 1; }
    done
    echo "vendor: dispatch: gcc and clang -O2 objects: AVX2 variants, no ifunc, no constructor, no __cpu_model"
    # ... and the default build runs under clang's ThreadSanitizer, threads
    # racing on the first calls (before, it crashed at load in an ifunc
    # resolver).
    clang -std=c99 -O2 -g -fsanitize=thread -c impl.c -o impl-tsan.o
    clang -std=c99 -O2 -g -fsanitize=thread $TESTW tsan.c impl-tsan.o -lpthread -o tsan
    TSAN_OPTIONS="halt_on_error=1 exitcode=66" ./tsan > tsan.out 2>&1 || {
        cat tsan.out; echo "vendor: dispatch: ThreadSanitizer run failed"; exit 1; }
    grep -q '^tsan: ok$' tsan.out
    echo "vendor: dispatch: clang -fsanitize=thread, 4 threads through every kind: no report, results agree"
    ;;

*)
    echo "usage: vendor.sh dropin|modes|freestanding|m4f|cross|measure|traps|dispatch|lean|docs HEADER OUTDIR" >&2
    exit 2
    ;;
esac
