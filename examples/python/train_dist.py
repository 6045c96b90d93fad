"""Data-parallel preference training with torch.distributed (gloo, CPU,
loopback) and libprefloss, compared with one process on the concatenated
batch.

The model is a bigram language model (a V x V table of logits; the row is
picked by the previous token) wrapped in DistributedDataParallel; the
reference model is its initial copy. Each step takes a global batch of B
pairs; rank r takes its share of it (shares may be unequal or 0), computes
sequence log-probs with ``prefloss.torch.sequence_logps`` and the losses with
``prefloss.torch.dpo_loss`` / ``ipo_loss`` / ``kto_loss``, and:

  * takes the SUM of its per-sample losses divided by the GLOBAL count (the
    upstream gradient 1/global_count), and lets DDP all-reduce the gradient
    with a SUM comm hook (DDP's default hook averages over ranks, which is
    only the global mean when every rank holds the same number of samples);
  * all-reduces the batch means (loss, reward margin and accuracy, and
    KTO's KL baseline, which every rank needs before its losses) as exact
    libprefloss partials: 16 int64 words each (``prefloss_partial``), summed
    with ``dist.all_reduce`` and finished by the library, so they are
    bitwise the same for any split.

With ``--reduce naive`` it does what is commonly done instead: each rank's
own mean loss (and its own KL), averaged by DDP.

Rank 0 then trains alone on the concatenated batches (no DDP) and compares
per-step losses, metrics and gradients and the final parameters; it prints,
per loss,

  DIST engine=gloo world=K loss=dpo steps=S pairs=B max_rel_diff_vs_single=X

with X the largest relative difference (|a-b|/|b| for a scalar,
max|a-b|/max|b| for a vector). Exit status 1 when X exceeds --bound.

  python3 train_dist.py --world 4 --shares 1,3,0,2            # spawns 4 ranks
  python3 -m torch.distributed.run --nproc_per_node=4 train_dist.py --shares 1,3,0,2

``import prefloss`` is found through PREFLOSS_PYTHONPATH (a directory), else
the package directory ``python/`` of the source tree, else this directory.
"""
import argparse
import ctypes
import math
import os
import socket
import sys


def _find_prefloss():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    for d in (os.environ.get("PREFLOSS_PYTHONPATH"), os.path.join(root, "python"), here):
        if d and (os.path.isfile(os.path.join(d, "prefloss", "__init__.py"))
                  or os.path.isfile(os.path.join(d, "prefloss.py"))):
            sys.path.insert(0, d)
            return
    raise SystemExit("train_dist: prefloss not found (set PREFLOSS_PYTHONPATH)")


_find_prefloss()
import prefloss  # noqa: E402
import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402
from torch.nn.parallel import DistributedDataParallel as DDP  # noqa: E402

V, LMAX = 6, 8
LOSSES = ("dpo", "ipo", "kto")
WORDS = 16   # PREFLOSS_PARTIAL_WORDS (checked against prefloss_partial_words())


# ---------------------------------------------------------------------------
# The library's exact partials, through ctypes on the library prefloss loaded
# ---------------------------------------------------------------------------

def _library():
    """The libprefloss the binding uses (prefloss.load()), else PREFLOSS_LIBRARY,
    else the build directory of the source tree."""
    load = getattr(prefloss, "load", None)
    if load is not None:
        return load()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return ctypes.CDLL(os.environ.get("PREFLOSS_LIBRARY")
                       or os.path.join(root, "build", "libprefloss.so.1"))


class Partials:
    """Exact (sum, count) partials: an int64 tensor of shape (k, 16) that
    dist.all_reduce sums; the library adds to it and finishes it."""

    def __init__(self):
        lib = _library()
        P, F, LL, SZ = ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t
        for name, args in (("prefloss_partial_add", (P, F, SZ)),
                           ("prefloss_partial_finish", (F, F, LL, P)),
                           ("prefloss_kto_kl_partial", (P, F, F, SZ)),
                           ("prefloss_kto_kl_finish", (F, P)),
                           ("prefloss_rewards_partial", (P, P, P, P, F, F, F, F, SZ,
                                                         ctypes.c_float))):
            fn = getattr(lib, name, None)
            if fn is None:
                raise SystemExit("train_dist: libprefloss has no %s (needs 1.2)" % name)
            fn.restype, fn.argtypes = ctypes.c_int, list(args)
        if lib.prefloss_partial_words() != WORDS:
            raise SystemExit("train_dist: unexpected prefloss_partial_words()")
        lib.prefloss_strerror.restype = ctypes.c_char_p
        lib.prefloss_strerror.argtypes = [ctypes.c_int]
        self.lib = lib

    @staticmethod
    def new(k):
        return torch.zeros((k, WORDS), dtype=torch.int64)

    def _ok(self, status, what):
        if status < 0:
            raise RuntimeError("%s: %s" % (what, self.lib.prefloss_strerror(status)))

    def add(self, parts, i, values):
        v = values.detach().contiguous().float()
        self._ok(self.lib.prefloss_partial_add(parts[i].data_ptr(), v.data_ptr(), v.numel()),
                 "prefloss_partial_add")

    def add_kl(self, parts, i, policy, ref):
        p, r = policy.detach().contiguous().float(), ref.detach().contiguous().float()
        self._ok(self.lib.prefloss_kto_kl_partial(parts[i].data_ptr(), p.data_ptr(), r.data_ptr(),
                                                  p.numel()), "prefloss_kto_kl_partial")

    def add_rewards(self, parts, i, pc, pr, rc, rr, beta):
        """parts[i]: margins, parts[i + 1]: accuracies."""
        t = [x.detach().contiguous().float() for x in (pc, pr, rc, rr)]
        self._ok(self.lib.prefloss_rewards_partial(None, None, parts[i].data_ptr(),
                                                   parts[i + 1].data_ptr(),
                                                   *[x.data_ptr() for x in t], t[0].numel(),
                                                   beta), "prefloss_rewards_partial")

    def mean(self, parts, i):
        out = ctypes.c_float()
        self._ok(self.lib.prefloss_partial_finish(ctypes.addressof(out), None, None,
                                                  parts[i].data_ptr()), "prefloss_partial_finish")
        return out.value

    def kl(self, parts, i):
        out = ctypes.c_float()
        self._ok(self.lib.prefloss_kto_kl_finish(ctypes.addressof(out), parts[i].data_ptr()),
                 "prefloss_kto_kl_finish")
        return out.value


# ---------------------------------------------------------------------------
# Data and model
# ---------------------------------------------------------------------------

def make_data(n_pairs, seed=7):
    """Pairs (prompt, chosen, rejected): the completion with more tokens that
    follow the chain t -> t+1 (mod V) is chosen. The same on every rank."""
    g = torch.Generator().manual_seed(seed)
    prompt = torch.randint(0, V, (n_pairs,), generator=g)
    tok = torch.randint(0, V, (n_pairs, 2, LMAX), generator=g)
    lens = torch.randint(3, LMAX + 1, (n_pairs, 2), generator=g)
    follow = torch.rand((n_pairs, 2, LMAX), generator=g) < 0.35
    for j in range(LMAX):            # make some tokens follow the chain
        prev = prompt[:, None] if j == 0 else tok[:, :, j - 1]
        tok[:, :, j] = torch.where(follow[:, :, j], (prev + 1) % V, tok[:, :, j])
    prev = torch.cat([prompt[:, None, None].expand(-1, 2, 1), tok[:, :, :-1]], dim=2)
    mask = torch.arange(LMAX)[None, None, :] < lens[:, :, None]
    score = (((prev + 1) % V == tok) & mask).sum(-1)
    swap = score[:, 1] > score[:, 0]
    idx = torch.stack([swap.long(), 1 - swap.long()], dim=1)   # chosen first
    take = lambda x: torch.gather(x, 1, idx.view(n_pairs, 2, *([1] * (x.dim() - 2))).expand_as(x))
    return dict(prompt=prompt, tok=take(tok), prev=take(prev), mask=take(mask))


class Bigram(torch.nn.Module):
    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(12345)
        self.logits = torch.nn.Parameter(torch.rand((V, V), generator=g) - 0.5)

    def forward(self, prev, tok, mask, reduction):
        """Sequence log-probs of completions: (n, LMAX) -> (n,)."""
        logp = torch.log_softmax(self.logits[prev], dim=-1)          # (n, L, V)
        t = torch.gather(logp, -1, tok[..., None])[..., 0]
        return prefloss.torch.sequence_logps(t.contiguous(), mask.contiguous(), reduction)


def shard(batch, shares, rank):
    total = sum(shares)
    before = sum(shares[:rank])
    return batch * before // total, batch * (before + shares[rank]) // total


def sum_hook(process_group, bucket):
    """DDP comm hook: all-reduce SUM (the default hook divides by the world size)."""
    group = process_group if process_group is not None else dist.group.WORLD
    fut = dist.all_reduce(bucket.buffer(), group=group, async_op=True).get_future()
    return fut.then(lambda f: f.value()[0])


# ---------------------------------------------------------------------------
# One training run
# ---------------------------------------------------------------------------

def train(args, loss_name, data, rank, world, shares, distributed, reduce):
    torch.manual_seed(0)
    model = Bigram()
    ref_model = Bigram()                      # the frozen initial copy
    ref_model.requires_grad_(False)
    if distributed:
        model = DDP(model)
        if reduce != "naive":
            model.register_comm_hook(None, sum_hook)
    params = model.module.logits if distributed else model.logits
    opt = torch.optim.SGD([params], lr=args.lr)
    parts = Partials()
    B, N, beta = args.batch, args.pairs, args.beta
    red = "mean" if loss_name == "ipo" else "sum"
    lo, hi = shard(B, shares, rank)
    n = hi - lo
    rec = dict(loss=[], metric=[], grad=[], kl=[])
    for step in range(args.steps):
        pos = torch.arange(lo, hi)
        g = (step * B + pos) % N                        # this rank's pairs
        gn = (step * B + (pos + 1) % B) % N             # KTO's mismatched completions
        pc_in = (data["prev"][g, 0], data["tok"][g, 0], data["mask"][g, 0])
        pr_in = (data["prev"][g, 1], data["tok"][g, 1], data["mask"][g, 1])
        seq = [torch.cat([a, b]) for a, b in zip(pc_in, pr_in)]
        pol = model(*seq, red)
        with torch.no_grad():
            ref = ref_model(*seq, red)
        pc, pr, rc, rr = pol[:n], pol[n:], ref[:n], ref[n:]
        part = Partials.new(4)     # 0 loss, 1 margins, 2 accuracies, 3 KL
        if loss_name == "kto":
            # the KL baseline over the GLOBAL batch: mismatched pairs (prompt
            # of position j, chosen completion of position j+1 of the global
            # batch), reduced before the losses
            kprev = torch.cat([data["prompt"][g][:, None], data["tok"][gn, 0][:, :-1]], dim=1)
            kin = (kprev, data["tok"][gn, 0], data["mask"][gn, 0])
            with torch.no_grad():
                kp, kr = (model.module if distributed else model)(*kin, "sum"), ref_model(*kin, "sum")
            if reduce == "naive":
                kl = torch.tensor([prefloss.kto_kl(kp, kr) if n else 0.0])
                if distributed:
                    dist.all_reduce(kl)
                    kl /= world
                kl = max(0.0, float(kl))
            else:
                parts.add_kl(part, 3, kp, kr)
                if distributed:
                    dist.all_reduce(part[3])
                kl = parts.kl(part, 3)
            rec["kl"].append(kl)
            des = torch.cat([torch.ones(n, dtype=torch.bool), torch.zeros(n, dtype=torch.bool)])
            losses = prefloss.torch.kto_loss(pol, ref, des, beta=beta, kl=kl)
            count = 2 * B
        else:
            f = prefloss.torch.dpo_loss if loss_name == "dpo" else prefloss.torch.ipo_loss
            losses = f(pc, pr, rc, rr, beta=beta)
            parts.add_rewards(part, 1, pc, pr, rc, rr, beta)
            count = B
        parts.add(part, 0, losses)
        if reduce == "naive":
            loss = losses.mean()                 # NaN on an empty shard
        else:
            loss = losses.sum() / count          # upstream gradient 1/global_count
        opt.zero_grad()
        loss.backward()
        if reduce == "naive":
            m = torch.tensor([loss.item(), parts.mean(part, 1), parts.mean(part, 2)])
            if distributed:
                dist.all_reduce(m)
                m /= world
            rec["loss"].append(float(m[0]))
            rec["metric"].append([float(m[1]), float(m[2])])
        else:
            if distributed:
                dist.all_reduce(part[:3])        # one all-reduce of int64 words
            rec["loss"].append(parts.mean(part, 0))
            rec["metric"].append([parts.mean(part, 1), parts.mean(part, 2)])
        rec["grad"].append(params.grad.detach().clone())
        opt.step()
    rec["param"] = params.detach().clone()
    return rec


def rel_diff(a, b):
    a = torch.as_tensor(a, dtype=torch.float64).flatten()
    b = torch.as_tensor(b, dtype=torch.float64).flatten()
    num = (a - b).abs()
    if torch.isnan(num).any():
        return math.nan
    num = float(num.max())
    if num == 0.0:
        return 0.0
    den = float(b.abs().max())
    return num / den if den > 0 else math.inf


def compare(d, s):
    diffs = [rel_diff(d["param"], s["param"])]
    for k in range(len(s["loss"])):
        diffs += [rel_diff([d["loss"][k]], [s["loss"][k]]), rel_diff(d["metric"][k], s["metric"][k]),
                  rel_diff(d["grad"][k], s["grad"][k])]
    return math.nan if any(math.isnan(x) for x in diffs) else max(diffs)


def worker(rank, world, args):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    shares = args.shares or [1] * world
    if len(shares) != world:
        raise SystemExit("train_dist: --shares needs one share per rank (%d)" % world)
    data = make_data(args.pairs)
    fail = 0
    for loss_name in LOSSES:
        rec = train(args, loss_name, data, rank, world, shares, True, args.reduce)
        if rank == 0:
            single = train(args, loss_name, data, 0, 1, [1], False, "exact")
            x = compare(rec, single)
            if not args.quiet:
                extra = (" kl=%.7g (single: %.7g)" % (rec["kl"][-1], single["kl"][-1])
                         if loss_name == "kto" else " accuracy=%.4g" % rec["metric"][-1][1])
                print("# loss=%s reduce=%s shares=%s loss[0]=%.7g loss[%d]=%.7g (single: %.7g, %.7g)%s"
                      % (loss_name, args.reduce, ",".join(map(str, shares)), rec["loss"][0],
                         args.steps - 1, rec["loss"][-1], single["loss"][0], single["loss"][-1],
                         extra))
            print("DIST engine=gloo world=%d loss=%s steps=%d pairs=%d max_rel_diff_vs_single=%.3g"
                  % (world, loss_name, args.steps, args.batch, x), flush=True)
            if not (x <= args.bound):
                fail = 1
    flag = torch.tensor([fail])
    dist.broadcast(flag, 0)
    dist.destroy_process_group()
    return int(flag)


def _spawned(rank, world, args):
    if worker(rank, world, args):
        sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--world", type=int, default=2, help="ranks to spawn (without torch.distributed.run)")
    ap.add_argument("--shares", type=lambda s: [int(x) for x in s.split(",")], default=None)
    ap.add_argument("--reduce", choices=("exact", "naive"), default="exact")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=60)
    ap.add_argument("--pairs", type=int, default=150)
    ap.add_argument("--beta", type=float, default=0.1)
    ap.add_argument("--lr", type=float, default=2.0)
    ap.add_argument("--bound", type=float, default=1e-4)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    if args.shares is not None and (min(args.shares) < 0 or sum(args.shares) == 0):
        ap.error("--shares: non-negative, not all 0")
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    if "RANK" in os.environ:                     # started by torch.distributed.run
        sys.exit(worker(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), args))
    if "MASTER_PORT" not in os.environ:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            os.environ["MASTER_PORT"] = str(s.getsockname()[1])
    try:
        mp.spawn(_spawned, args=(args.world, args), nprocs=args.world, join=True)
    except mp.ProcessExitedException:
        sys.exit(1)


if __name__ == "__main__":
    main()
