"""The loss catalogue (libprefloss >= 1.1): prefloss.pair_loss,
bco_update_delta, loss_types and prefloss.torch.pair_loss / PairLoss.

Accuracy: every loss_type against the float64 TRL v0.26 formulas of
reference.trl_catalogue (gradients by torch.autograd), budget (4 + kappa/2)
ulp with kappa the condition number w.r.t. the quantities the library forms
exactly (reference.catalogue_with_kappa). Gradients that are beta times an
underflowed dL/dz get an absolute floor of 64*beta*2^-149 (the subnormal's
own absolute error, scaled). No output has a looser bound.

Decision: an unknown loss_type *name* raises ValueError (a bad argument
value, as ``reduction``); an unknown integer kind reaches the library and
raises prefloss.Error (PREFLOSS_ERR_PARAM), as every bad parameter does.
"""
import math
import os
import subprocess
import sys
import tempfile
import unittest
import warnings

import numpy as np
import torch

from reference import (prefloss, f32, t64, ulp, FLT_MIN, catalogue_with_kappa, trl_catalogue,
                       with_grads, HERE)

U = 2.0 ** -24
PT = prefloss.torch
TYPES = ["sigmoid", "ipo", "hinge", "robust", "exo_pair", "nca_pair", "bco_pair", "sppo_hard",
         "apo_zero", "apo_down", "discopop", "js_divergence", "alpha_divergence", "simpo", "cpo"]


def params(beta, eps=0.0, tau=0.05, alpha=1.0, gamma=0.5, delta=0.0):
    return dict(beta=f32(beta), label_smoothing=f32(eps), discopop_tau=f32(tau),
                alpha=f32(alpha), simpo_gamma=f32(gamma), bco_delta=f32(delta))


def data(seed, n, mode):
    g = np.random.default_rng(seed)
    if mode == "random":
        pc, pr = -g.uniform(50, 400, n), -g.uniform(50, 400, n)
        rc, rr = pc + g.normal(0, 5, n), pr + g.normal(0, 5, n)
    elif mode == "tiny":  # log-probs -1e4..-50 differing by a few ulps; beta up to 1e5: |z| ~ 1e3
        pc = -np.exp(g.uniform(math.log(50), math.log(1e4), n)).astype(np.float32)
        sp = np.spacing(pc).astype(np.float64)
        pr, rc, rr = (pc + g.integers(-8, 9, n) * sp for _ in range(3))
    else:  # "large": |h| up to ~1e4, beta 0.1: |z| up to ~1e3
        pc, pr, rc, rr = (-g.uniform(50, 1e4, n) for _ in range(4))
    return [np.asarray(x, np.float32) for x in (pc, pr, rc, rr)]


CASES = [("random", 0.1), ("random", 0.5), ("tiny", 0.1), ("tiny", 1e3), ("tiny", 1e5),
         ("large", 0.1), ("large", 0.01)]
PARAMS = [dict(), dict(eps=0.1, delta=0.3, alpha=0.5, tau=0.2, gamma=1.5)]


class Accuracy(unittest.TestCase):
    maxDiff = None

    def check(self, lt, x, P, label):
        got = prefloss.pair_loss(lt, *x, **P)
        refs, kaps = catalogue_with_kappa(lt, *(t64(v) for v in x), P)
        for what, g, r, k in zip(("loss", "dc", "dr"), got, refs, kaps):
            g = g.astype(np.float64)
            self.assertTrue(np.all(np.isfinite(g)), "%s %s %s: non-finite" % (lt, label, what))
            err = np.abs(g - r)
            allowed = np.where(np.abs(r) >= FLT_MIN, (4 + k / 2) * ulp(r), FLT_MIN)
            if what != "loss":
                allowed = allowed + 64 * P["beta"] * 2.0 ** -149  # underflowed dL/dz x beta
            bad = np.nonzero(~(err <= allowed))[0]
            if len(bad):
                i = bad[np.argmax(err[bad] / allowed[bad])]
                self.fail("%s %s %s: %d of %d outside the bound; worst: pc=%r pr=%r rc=%r "
                          "rr=%r params=%s got %r ref %r (%.3g ulp, kappa %.3g, allowed %.3g ulp)"
                          % (lt, label, what, len(bad), len(r), *(float(v[i]) for v in x), P,
                             g[i], r[i], err[i] / ulp(r[i]), k[i], allowed[i] / ulp(r[i])))


def _make(lt):
    def test(self):
        for ci, (mode, beta) in enumerate(CASES):
            for pi, kw in enumerate(PARAMS):
                P = params(beta, **kw)
                self.check(lt, data(100 * ci + pi, 600, mode), P, "%s beta=%g" % (mode, beta))
    test.__name__ = "test_" + lt
    return test


for _lt in TYPES:
    setattr(Accuracy, "test_" + _lt, _make(_lt))


class Catalogue(unittest.TestCase):
    X = [[-10.0, -20.5, -3.25, -7.0], [-11.0, -19.0, -4.0, -6.5],
         [-10.5, -20.0, -3.0, -7.25], [-10.0, -19.5, -3.5, -7.0]]

    def test_loss_types(self):
        self.assertEqual(prefloss.loss_types(), TYPES + ["aot", "aot_pair"])

    def test_integer_kind_equals_name(self):
        x = [np.asarray(v, np.float32) for v in self.X]
        for k, lt in enumerate(TYPES):
            a = prefloss.pair_loss(lt, *x, beta=0.3)
            b = prefloss.pair_loss(k, *x, beta=0.3)
            for u, v in zip(a, b):
                np.testing.assert_array_equal(u, v)

    def test_sigmoid_and_ipo_equal_the_dedicated_functions(self):
        x = [np.asarray(v, np.float32) for v in self.X]
        for u, v in zip(prefloss.pair_loss("sigmoid", *x, beta=0.2, label_smoothing=0.1),
                        prefloss.dpo_loss(*x, 0.2, 0.1)):
            np.testing.assert_array_equal(u, v)
        for u, v in zip(prefloss.pair_loss("ipo", *x, beta=0.2), prefloss.ipo_loss(*x, 0.2)):
            np.testing.assert_array_equal(u, v)

    def test_kinds_returned(self):
        for conv, typ in ((lambda v: np.asarray(v, np.float32), np.ndarray),
                          (torch.tensor, torch.Tensor), (lambda v: v, list)):
            out = prefloss.pair_loss("nca_pair", *(conv(v) for v in self.X))
            for o in out:
                self.assertIsInstance(o, typ)
        o = [np.empty(4, np.float32) for _ in range(3)]
        r = prefloss.pair_loss("hinge", *(np.asarray(v, np.float32) for v in self.X), out=tuple(o))
        self.assertIs(r[0], o[0])

    def test_weights_and_upstream(self):
        x = [np.asarray(v, np.float32) for v in self.X]
        w = np.asarray([0.5, 2.0, 0.0, -1.0], np.float32)
        up = np.asarray([1.0, 0.25, 3.0, 2.0], np.float32)
        for lt in TYPES:
            l0, c0, r0 = prefloss.pair_loss(lt, *x, beta=0.3)
            l1, c1, r1 = prefloss.pair_loss(lt, *x, beta=0.3, weights=w, dlosses=up)
            # multiplications by powers of two and 0, -1: exact
            np.testing.assert_array_equal(l1, l0 * w)
            np.testing.assert_allclose(c1, c0 * w * up, rtol=2 * U, atol=0)
            np.testing.assert_allclose(r1, r0 * w * up, rtol=2 * U, atol=0)

    def test_nonfinite_weight_is_nan_and_warns(self):
        x = [np.asarray(v, np.float32) for v in self.X]
        w = np.asarray([1.0, np.inf, np.nan, 1.0], np.float32)
        with self.assertWarns(RuntimeWarning):
            out = prefloss.pair_loss("robust", *x, weights=w)
        for o in out:
            self.assertEqual(np.isnan(o).tolist(), [False, True, True, False])

    def test_nonfinite_input_warns(self):
        x = [np.asarray(v, np.float32) for v in self.X]
        x[0][1] = np.nan
        with self.assertWarns(RuntimeWarning):
            l, _, _ = prefloss.pair_loss("sppo_hard", *x)
        self.assertTrue(np.isnan(l[1]) and np.all(np.isfinite(l[[0, 2, 3]])))

    def test_refless_kinds_ignore_references(self):
        x = [np.asarray(v, np.float32) for v in self.X]
        for lt in ("simpo", "cpo"):
            for u, v in zip(prefloss.pair_loss(lt, *x), prefloss.pair_loss(lt, x[0], x[1])):
                np.testing.assert_array_equal(u, v)

    def test_errors(self):
        x = [np.asarray(v, np.float32) for v in self.X]
        with self.assertRaisesRegex(ValueError, "loss_type must be one of sigmoid.*aot_pair, "
                                                "got 'aot_pairs'"):
            prefloss.pair_loss("aot_pairs", *x)
        with self.assertRaises(ValueError):
            prefloss.pair_loss("sigmoid\0", *x)
        with self.assertRaises(TypeError):
            prefloss.pair_loss(1.5, *x)
        with self.assertRaises(TypeError):
            prefloss.pair_loss(True, *x)
        msg = prefloss.strerror(prefloss.ERR_PARAM)
        bad = [(99, {}), (-1, {}), (2 ** 40, {}), ("sigmoid", dict(beta=0.0)),
               ("sigmoid", dict(beta=float("nan"))), ("sigmoid", dict(label_smoothing=0.6)),
               ("robust", dict(label_smoothing=0.5)), ("discopop", dict(discopop_tau=0.0)),
               ("discopop", dict(discopop_tau=1.5)), ("alpha_divergence", dict(alpha=0.0)),
               ("simpo", dict(simpo_gamma=float("inf"))), ("bco_pair", dict(bco_delta=float("nan")))]
        for lt, kw in bad:
            with self.assertRaises(prefloss.Error) as cm:
                prefloss.pair_loss(lt, *x, **kw)
            self.assertEqual(cm.exception.status, prefloss.ERR_PARAM, (lt, kw))
            self.assertIn(msg, str(cm.exception))
        # a parameter a kind does not use is not checked
        prefloss.pair_loss("hinge", *x, label_smoothing=0.9, discopop_tau=5.0)
        with self.assertRaises(prefloss.Error) as cm:
            prefloss.pair_loss("sigmoid", x[0], x[1], x[2], None)
        self.assertEqual(cm.exception.status, prefloss.ERR_NULL)
        self.assertIn(prefloss.strerror(prefloss.ERR_NULL), str(cm.exception))
        with self.assertRaises(prefloss.Error) as cm:
            prefloss.pair_loss("sigmoid", x[0], x[1], out=(x[0], None, None))
        self.assertEqual(cm.exception.status, prefloss.ERR_OVERLAP)
        with self.assertRaises(ValueError):
            prefloss.pair_loss("ipo", x[0], x[1][:3])
        with self.assertRaises(ValueError):
            prefloss.pair_loss("ipo", x[0], x[1], weights=np.ones(3, np.float32))
        with self.assertRaises(TypeError):
            prefloss.pair_loss("ipo", x[0], x[1], weights=[1.0] * 4)
        with self.assertRaisesRegex(ValueError, "float32"):
            prefloss.pair_loss("ipo", x[0].astype(np.float64), x[1])
        with self.assertRaises(TypeError):
            prefloss.pair_loss("ipo", x[0], x[1], beta="big")
        self.assertEqual([len(o) for o in prefloss.pair_loss("ipo", [], [])], [0, 0, 0])


class BCODelta(unittest.TestCase):

    def test_running_mean_over_batches(self):
        g = np.random.default_rng(5)
        delta, count, seen = 0.0, 0.0, []
        beta = f32(0.1)
        for n in (7, 32, 1, 100):
            pc, pr = (-g.uniform(50, 400, n).astype(np.float32) for _ in range(2))
            rc, rr = ((v + g.normal(0, 5, n)).astype(np.float32) for v in (pc, pr))
            delta, count = prefloss.bco_update_delta(delta, count, pc, pr, rc, rr, beta=0.1)
            seen += list(beta * (pc.astype(np.float64) - rc)) + \
                list(beta * (pr.astype(np.float64) - rr))
            self.assertEqual(count, len(seen))
            ref = math.fsum(seen) / len(seen)
            self.assertLessEqual(abs(delta - ref), 4 * ulp(ref) + 1e-7 * max(map(abs, seen)),
                                 (delta, ref))
        # used as bco_pair's delta
        l1 = prefloss.pair_loss("bco_pair", pc, pr, rc, rr, bco_delta=delta)[0]
        l2 = trl_catalogue("bco_pair", t64(pc), t64(pr), t64(rc), t64(rr),
                           params(0.1, delta=delta))
        np.testing.assert_allclose(l1, l2.numpy(), rtol=1e-6)

    def test_reference_free_and_errors(self):
        self.assertEqual(prefloss.bco_update_delta(0.0, 0.0, [-1.0, -2.0], [-3.0, -4.0], beta=1.0),
                         (-2.5, 4.0))
        self.assertEqual(prefloss.bco_update_delta(1.0, 2.0, [], []), (1.0, 2.0))
        for kw in (dict(beta=0.0), dict(delta=float("nan")), dict(count=-1.0)):
            a = dict(delta=0.0, count=0.0, beta=0.1)
            a.update(kw)
            with self.assertRaises(prefloss.Error) as cm:
                prefloss.bco_update_delta(a["delta"], a["count"], [-1.0], [-2.0], beta=a["beta"])
            self.assertEqual(cm.exception.status, prefloss.ERR_PARAM)
        with self.assertRaises(prefloss.Error):
            prefloss.bco_update_delta(0.0, 0.0, [-1.0], [-2.0], [-1.0], None)
        with self.assertWarns(RuntimeWarning):
            r = prefloss.bco_update_delta(0.5, 3.0, [float("inf")], [-2.0])
        self.assertEqual(r, (0.5, 3.0))  # unchanged


class Autograd(unittest.TestCase):

    def batch(self, seed, n=64):
        g = torch.Generator().manual_seed(seed)
        pc = -torch.rand(n, generator=g) * 400 - 50
        pr = -torch.rand(n, generator=g) * 400 - 50
        return pc, pr, pc + torch.randn(n, generator=g) * 5, pr + torch.randn(n, generator=g) * 5

    def test_namespace(self):
        self.assertTrue(issubclass(PT.PairLoss, torch.autograd.Function))
        self.assertIn("pair_loss", dir(PT))
        with self.assertRaises(TypeError):
            PT.pair_loss("ipo", *self.batch(1), gamma=1.0)

    def test_every_kind_against_reference(self):
        g = torch.Generator().manual_seed(2)
        for lt in TYPES:
            pc, pr, rc, rr = self.batch(3)
            w = torch.rand(pc.shape[0], generator=g) + 0.5
            up = torch.randn(pc.shape[0], generator=g)
            pc.requires_grad_(True)
            pr.requires_grad_(True)
            rc.requires_grad_(True)
            w.requires_grad_(True)
            kw = dict(beta=0.2, label_smoothing=0.1, discopop_tau=0.1, alpha=0.7,
                      simpo_gamma=0.4, bco_delta=0.05)
            losses = PT.pair_loss(lt, pc, pr, rc, rr, w, **kw)
            (losses * up).sum().backward()
            # the reference gets minus the policy's gradient (none where the kind
            # ignores it), the weights the unweighted loss times the upstream gradient
            if lt in ("simpo", "cpo"):
                self.assertIsNone(rc.grad)
            else:
                self.assertTrue(torch.equal(rc.grad, -pc.grad), lt)
            unweighted = prefloss.pair_loss(lt, *(v.detach() for v in (pc, pr, rc, rr)), **kw)[0]
            self.assertTrue(torch.equal(w.grad, unweighted * up), lt)
            P = params(0.2, eps=0.1, tau=0.1, alpha=0.7, gamma=0.4, delta=0.05)
            x64 = [t64(v.detach()) for v in (pc, pr, rc, rr)]
            ref, (gc, gr) = with_grads(
                lambda a, b: trl_catalogue(lt, a, b, x64[2], x64[3], P) * t64(w.detach()),
                x64[:2], upstream=up.double())
            for got, r, what in ((losses.detach(), ref, "loss"), (pc.grad, gc, "dc"),
                                 (pr.grad, gr, "dr")):
                np.testing.assert_allclose(got.double().numpy(), r.numpy(), rtol=2e-5,
                                           atol=1e-6 * float(r.abs().max()),
                                           err_msg="%s %s" % (lt, what))
            # and bit-identical to the library's gradient (upstream 1, computed by the
            # forward) times the upstream gradient
            _, dc, dr = prefloss.pair_loss(lt, *(v.detach() for v in (pc, pr, rc, rr)),
                                           weights=w.detach(), **kw)
            self.assertTrue(torch.equal(pc.grad, dc * up) and torch.equal(pr.grad, dr * up), lt)

    def test_mean_backward_and_apply(self):
        pc, pr, rc, rr = self.batch(4)
        pc.requires_grad_(True)
        PT.PairLoss.apply("apo_zero", pc, pr, rc, rr).mean().backward()
        _, dc, _ = prefloss.pair_loss("apo_zero", pc.detach(), pr, rc, rr,
                                      dlosses=torch.full((64,), 1 / 64))
        self.assertTrue(torch.equal(pc.grad, dc))

    def test_gradcheck(self):
        KW = dict(eps=1e-3, atol=2e-4, rtol=2e-3, check_undefined_grad=True,
                  check_batched_grad=False)
        g = torch.Generator().manual_seed(5)
        pc, pr, rc, rr = [(torch.rand(5, generator=g, dtype=torch.float64) * 4 - 4)
                          for _ in range(4)]
        w = torch.rand(5, generator=g) + 0.5
        for lt in TYPES:
            if lt == "hinge":   # piecewise linear: keep away from the kink
                beta = 0.05
            else:
                beta = 1.0
            f = lambda a, b: PT.pair_loss(lt, a.float(), b.float(), rc.float(), rr.float(), w,
                                          beta=beta, label_smoothing=0.1).double()
            self.assertTrue(torch.autograd.gradcheck(
                f, (pc.clone().requires_grad_(True), pr.clone().requires_grad_(True)), **KW), lt)


class OldLibrary(unittest.TestCase):
    """With a 1.0 library the old functions work and only the catalogue raises."""

    def test_fake_1_0(self):
        fns = ["prefloss_sequence_logps", "prefloss_sequence_logps_backward",
               "prefloss_rewards", "prefloss_dpo_loss", "prefloss_ipo_loss",
               "prefloss_ipo_general_loss", "prefloss_bt_loss"]
        src = ("const char *prefloss_version(void){return \"1.0.0\";}\n"
               "int prefloss_version_number(void){return 10000;}\n"
               "int prefloss_abi_version(void){return 1;}\n"
               "const char *prefloss_strerror(int s){(void)s;return \"x\";}\n"
               "const char *prefloss_status_name(int s){(void)s;return 0;}\n"
               + "".join("int %s(void){return 0;}\n" % f for f in fns))
        code = ("import prefloss, sys\nprefloss.load(sys.argv[1])\n"
                "print('dpo', len(prefloss.dpo_loss([-1.0], [-2.0])[0]))\n"
                "for f in (lambda: prefloss.pair_loss('sigmoid', [-1.0], [-2.0]),\n"
                "          lambda: prefloss.loss_types(),\n"
                "          lambda: prefloss.bco_update_delta(0, 0, [-1.0], [-2.0])):\n"
                "    try:\n        f()\n    except prefloss.Error as e:\n        print('Error:', e)\n")
        with tempfile.TemporaryDirectory() as d:
            c, so = os.path.join(d, "fake.c"), os.path.join(d, "libprefloss.so.1")
            with open(c, "w") as fh:
                fh.write(src)
            subprocess.run([os.environ.get("CC", "cc"), "-shared", "-fPIC", "-o", so, c],
                           check=True)
            libs = [so]
            real = os.path.join(HERE, os.pardir, os.pardir, "build", "libprefloss.so.1.0.0")
            if os.path.exists(real):   # the real 1.0 build, when the tree has one
                libs.append(real)
            for lib in libs:
                env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(prefloss.__file__)))
                r = subprocess.run([sys.executable, "-c", code, lib], env=env, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
                self.assertEqual(r.returncode, 0, r.stdout)
                self.assertIn("dpo 1", r.stdout)
                self.assertEqual(r.stdout.count("needs libprefloss >= 1.1"), 3, r.stdout)
                self.assertIn("1.0.0", r.stdout)


if __name__ == "__main__":
    unittest.main()
