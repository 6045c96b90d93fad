#!/bin/sh
# check.sh OUTPUT — asserts the bandit experiment's claims on the output of
# build/bandit (used by `make check-bandit`; POSIX sh and awk only):
#   - every RESULT line has the exact documented format, and there are 24
#     (4 betas x 2 methods x 3 data regimes);
#   - population runs: TV(learned, own analytic optimum) < 1e-3;
#   - sampled runs: TV < 0.05;
#   - IPO on deterministic preferences settles at its optimum (TV < 1e-3);
#   - for every beta the DPO and IPO optima differ (TV between them > 0.05).
set -eu
out=${1:?usage: check.sh bandit-output}

awk '
function fail(msg) { print "check-bandit: FAIL: " msg; failed = 1 }
# half the L1 distance between two "a,b,c" strings
function tv(x, y,    a, b, i, d, s) {
    split(x, a, ","); split(y, b, ","); s = 0
    for (i = 1; i <= 3; i++) { d = a[i] - b[i]; s += d < 0 ? -d : d }
    return s / 2
}
/^RESULT/ {
    n++
    P = "[01]\\.[0-9][0-9][0-9][0-9]"
    F = "[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?"
    re = "^RESULT beta=[0-9]+(\\.[0-9]+)? method=(dpo|ipo) " \
         "data=(population|sampled|deterministic) " \
         "learned=" P "," P "," P " analytic=" P "," P "," P " tv=" F "$"
    if ($0 !~ re) { fail("bad format: " $0); next }
    split($2, kb, "="); split($3, km, "="); split($4, kd, "=")
    split($5, kl, "="); split($6, ka, "="); split($7, kt, "=")
    beta = kb[2]; method = km[2]; data = kd[2]; t = kt[2] + 0
    if (data == "population" && t >= 1e-3) fail("population tv " t ": " $0)
    if (data == "sampled" && t >= 0.05) fail("sampled tv " t ": " $0)
    if (data == "deterministic" && method == "ipo" && t >= 1e-3)
        fail("deterministic ipo tv " t ": " $0)
    if (data == "population") { opt[beta, method] = ka[2]; betas[beta] = 1 }
    count[data]++
}
END {
    if (n != 24) fail("expected 24 RESULT lines, got " n)
    if (count["population"] != 8 || count["sampled"] != 8 || count["deterministic"] != 8)
        fail("expected 8 RESULT lines per data regime")
    for (b in betas) {
        if (!((b, "dpo") in opt) || !((b, "ipo") in opt)) { fail("beta " b " lacks a method"); continue }
        gap = tv(opt[b, "dpo"], opt[b, "ipo"])
        if (gap <= 0.05) fail("beta " b ": DPO and IPO optima too close (tv " gap ")")
        else printf "check-bandit: beta=%s TV(DPO optimum, IPO optimum) = %.4f\n", b, gap
    }
    if (failed) exit 1
    print "check-bandit: " n " RESULT lines OK"
}' "$out"
