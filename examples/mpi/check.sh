#!/bin/sh
# check.sh BIN OUT — runs the MPI trainer for world sizes 1-4 (unequal
# shards, an empty one), from log-probs and from logits, and fails unless
# every run matches one process on
# the concatenated batch: bitwise with exact reductions, within 1e-4 with
# float gradient sums; and unless the naive per-rank mean is caught (it
# must differ by more than 1e-2 on unequal shards). Writes the DIST lines
# to OUT.
set -u
bin=$1 out=$2
# loopback only, shared memory between the ranks; no single-copy (CMA)
# mechanism, which containers often forbid
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_oob_tcp_if_include=lo OMPI_MCA_btl_tcp_if_include=lo
mpirun="mpirun --allow-run-as-root --oversubscribe"
fails=0
: > "$out"
# run NAME NP SHARES REDUCE BOUND WANT_EXIT [INPUT]
run() {
    log=$(dirname "$out")/dist-mpi-$1.log
    $mpirun -np "$2" "$bin" --shares "$3" --reduce "$4" --bound "$5" --input "${7:-logps}" > "$log" 2>&1
    rc=$?
    lines=$(grep -c '^DIST engine=mpi' "$log")
    grep '^DIST engine=mpi' "$log" | sed "s/\$/ shares=$3 reduce=$4/" | tee -a "$out"
    if [ "$rc" -ne "$6" ] || [ "$lines" -ne 3 ]; then
        echo "FAILED: np=$2 shares=$3 reduce=$4 input=${7:-logps}: exit $rc (want $6), $lines DIST lines (want 3); see $log"
        fails=$((fails + 1))
    fi
}
run w1 1 1 exact 0 0
run w2 2 2,1 exact 0 0
run w3 3 3,0,1 exact 0 0
run w4 4 1,3,0,2 exact 0 0
run w4-equal 4 1,1,1,1 exact 0 0
run w4-float 4 1,3,0,2 float 1e-4 0
# from logits: the library's token stage and fused pair loss on each rank
run l1 1 1 exact 0 0 logits
run l2 2 2,1 exact 0 0 logits
run l3 3 3,0,1 exact 0 0 logits
run l4 4 1,3,0,2 exact 0 0 logits
run l4-float 4 1,3,0,2 float 1e-4 0 logits
# the pitfall: must be detected (exit 1), each loss off by more than 1e-2
run w4-naive 4 1,3,0,2 naive 1e-2 1
run l4-naive 4 1,3,0,2 naive 1e-2 1 logits
caught=$(grep 'reduce=naive' "$out" | awk '{ split($7, a, "="); if (a[2] + 0 > 1e-2) n++ } END { print n + 0 }')
if [ "$caught" -ne 6 ]; then
    echo "FAILED: the naive mean differs by more than 1e-2 for $caught of the 6 runs of a loss, not all"
    fails=$((fails + 1))
fi
if [ "$fails" -eq 0 ]; then
    echo "check-dist-mpi: every world size 1-4 equals one process, from log-probs and from logits (exact: bitwise; float sums: <= 1e-4); the naive mean is caught"
fi
[ "$fails" -eq 0 ]
