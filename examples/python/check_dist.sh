#!/bin/sh
# check_dist.sh PYTHON OUT — runs examples/python/train_dist.py (gloo on
# loopback) for world sizes 1-4 with unequal shards and an empty one, and
# fails unless every run matches one process on the concatenated batch
# within 1e-4 (per-step losses, metrics, gradients, final parameters), and
# unless the naive per-rank mean is caught (off by more than 1e-2 for each
# loss on unequal shards). World 2 is started the way
# torch.distributed.run starts workers (RANK, WORLD_SIZE, MASTER_ADDR,
# MASTER_PORT in the environment); the others with torch.multiprocessing.
# Writes the DIST lines to OUT.
set -u
py=$1 out=$2
dir=$(dirname "$0")
logdir=$(dirname "$out")
export MASTER_ADDR=127.0.0.1 GLOO_SOCKET_IFNAME=lo OMP_NUM_THREADS=1
fails=0
: > "$out"
# check NAME WANT_EXIT RC SHARES REDUCE
check() {
    log=$logdir/dist-gloo-$1.log
    lines=$(grep -c '^DIST engine=gloo' "$log")
    grep '^DIST engine=gloo' "$log" | sed "s/\$/ shares=$4 reduce=$5/" | tee -a "$out"
    if [ "$3" -ne "$2" ] || [ "$lines" -ne 3 ]; then
        echo "FAILED: $1: exit $3 (want $2), $lines DIST lines (want 3); see $log"
        fails=$((fails + 1))
    fi
}
# spawn NAME WORLD SHARES REDUCE BOUND WANT_EXIT
spawn() {
    "$py" "$dir/train_dist.py" --world "$2" --shares "$3" --reduce "$4" --bound "$5" \
        > "$logdir/dist-gloo-$1.log" 2>&1
    check "$1" "$6" $? "$3" "$4"
}
free_port() {
    "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
spawn w1 1 1 exact 1e-4 0
# world 2 as torch.distributed.run would start it
port=$(free_port)
MASTER_PORT=$port RANK=1 WORLD_SIZE=2 LOCAL_RANK=1 \
    "$py" "$dir/train_dist.py" --shares 2,1 > "$logdir/dist-gloo-w2-rank1.log" 2>&1 &
pid=$!
MASTER_PORT=$port RANK=0 WORLD_SIZE=2 LOCAL_RANK=0 \
    "$py" "$dir/train_dist.py" --shares 2,1 > "$logdir/dist-gloo-w2.log" 2>&1
rc=$?
wait $pid || rc=$?
check w2 0 $rc 2,1 exact
spawn w3 3 3,0,1 exact 1e-4 0
spawn w4 4 1,3,0,2 exact 1e-4 0
# the pitfall (unequal shards, none empty: an empty one makes it NaN)
spawn w3-naive 3 3,1,2 naive 1e-2 1
caught=$(grep 'reduce=naive' "$out" | awk '{ split($7, a, "="); if (a[2] == "nan" || a[2] + 0 > 1e-2) n++ } END { print n + 0 }')
if [ "$caught" -ne 3 ]; then
    echo "FAILED: the naive mean differs by more than 1e-2 for $caught of the 3 losses, not all"
    fails=$((fails + 1))
fi
if [ "$fails" -eq 0 ]; then
    echo "check-dist-gloo: every world size 1-4 equals one process within 1e-4; the naive mean is caught"
fi
[ "$fails" -eq 0 ]
