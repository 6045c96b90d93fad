"""Every function of the binding against float64 PyTorch references of the
published formulas (TRL v0.26), on random and extreme inputs, with the
accuracy budget of docs/numerics.md: error <= (4 + kappa/2) ulp wherever the
reference is a normal float32 (kappa the condition number of the output with
respect to the loss's scalar argument)."""
import math
import unittest
import warnings
from fractions import Fraction

import numpy as np
import torch

from reference import (prefloss, f32, t64, trl_sigmoid, trl_ipo, ipo_general, trl_bt,
                       with_grads, check_budget, ulp, ulp_error, kappa_sigmoid_loss,
                       kappa_sigmoid_grad, exact_h)

F32 = np.float32


def typical(rng, n, ref=True):
    """Sequence log-probs of the usual size: -500..-50, policy near reference."""
    pc = -rng.uniform(50, 500, n)
    pr = -rng.uniform(50, 500, n)
    out = [pc.astype(F32), pr.astype(F32)]
    if ref:
        out += [(pc + rng.normal(0, 5, n)).astype(F32), (pr + rng.normal(0, 5, n)).astype(F32)]
    else:
        out += [None, None]
    return out


def adversarial(rng, n):
    """Log-probs -1e4..-50 whose log-ratios differ by little: the cancellation
    in (pc - pr) - (rc - rr) that costs PyTorch float32 most of its digits."""
    pc = -rng.uniform(50, 1e4, n).astype(F32)
    pr = -rng.uniform(50, 1e4, n).astype(F32)
    rc = (pc.astype(np.float64) + rng.uniform(-0.05, 0.05, n)).astype(F32)
    rr = (pr.astype(np.float64) + rng.uniform(-0.05, 0.05, n)).astype(F32)
    return [pc, pr, rc, rr]


def wide(rng, n):
    """Reference-free pairs whose h = pc - pr spans 1e-3 .. 1e4 in size, so
    that beta*h reaches +-1e4 (saturated tails of the sigmoid)."""
    h = np.exp(rng.uniform(math.log(1e-3), math.log(1e4), n)) * rng.choice([-1, 1], n)
    pr = -rng.uniform(1e4, 2e4, n)
    return [(pr + h).astype(F32), pr.astype(F32), None, None]


def refs64(inputs):
    return [None if x is None else t64(x) for x in inputs]


class DPOParity(unittest.TestCase):

    def check_dpo(self, inputs, beta, eps, upstream=None, what="dpo"):
        pc, pr, rc, rr = inputs
        b32, e32 = f32(beta), f32(eps)
        x64 = refs64(inputs)
        up64 = None if upstream is None else t64(upstream)
        ref_loss, (ref_dc, ref_dr) = with_grads(
            lambda a, b: trl_sigmoid(a, b, x64[2], x64[3], b32, e32), x64[:2], upstream=up64)
        loss, dc, dr = prefloss.dpo_loss(pc, pr, rc, rr, beta=beta, label_smoothing=eps,
                                         dlosses=upstream)
        z = b32 * exact_h(*x64 if rc is not None else (x64[0], x64[1], None, None))
        extra = 0 if upstream is None else 1  # the product with dlosses rounds once more
        kl = kappa_sigmoid_loss(z, e32).numpy()
        kg = kappa_sigmoid_grad(z, e32).numpy()
        check_budget(self, loss, ref_loss, 4 + kl / 2, what + " loss")
        check_budget(self, dc, ref_dc, 4 + kg / 2 + extra, what + " grad_chosen")
        check_budget(self, dr, ref_dr, 4 + kg / 2 + extra, what + " grad_rejected")
        np.testing.assert_array_equal(dc, -dr)
        return loss, dc, dr

    def test_typical_betas(self):
        rng = np.random.default_rng(1)
        for beta in (0.01, 0.1, 0.5, 1.0, 5.0):
            with self.subTest(beta=beta):
                self.check_dpo(typical(rng, 2000), beta, 0.0)

    def test_label_smoothing(self):
        rng = np.random.default_rng(2)
        for eps in (0.0, 0.1, 0.25, 0.5):
            with self.subTest(eps=eps):
                self.check_dpo(typical(rng, 2000), 0.1, eps)

    def test_reference_free(self):
        rng = np.random.default_rng(3)
        self.check_dpo(typical(rng, 2000, ref=False), 0.1, 0.0)
        self.check_dpo(typical(rng, 2000, ref=False), 0.1, 0.2)

    def test_upstream_gradient(self):
        rng = np.random.default_rng(4)
        up = rng.normal(0, 1, 2000).astype(F32)
        self.check_dpo(typical(rng, 2000), 0.1, 0.1, upstream=up)

    def test_adversarial_cancellation(self):
        rng = np.random.default_rng(5)
        for beta in (0.1, 1.0, 30.0):
            with self.subTest(beta=beta):
                self.check_dpo(adversarial(rng, 2000), beta, 0.0)

    def test_saturated_tails(self):
        rng = np.random.default_rng(6)
        for beta in (0.1, 1.0):
            for eps in (0.0, 0.3):
                with self.subTest(beta=beta, eps=eps):
                    loss, dc, dr = self.check_dpo(wide(rng, 3000), beta, eps)
                    self.assertTrue(np.all(loss >= 0))

    def test_tail_is_not_zero(self):
        # z = 20..80: 1 + e^-z rounds to 1 in float, the loss is ~e^-z, not 0.
        z = np.arange(20, 81, 5, dtype=np.float64)
        pc = (-1000 + z).astype(F32)
        pr = np.full_like(pc, -1000)
        loss, _, _ = self.check_dpo([pc, pr, None, None], 1.0, 0.0)
        self.assertTrue(np.all(loss > 0))
        np.testing.assert_allclose(loss, np.exp(-(pc.astype(np.float64) + 1000)), rtol=1e-6)

    def test_beats_torch_float32(self):
        """On the adversarial batch the library is within its budget and
        strictly better than the same TRL formula in PyTorch float32."""
        rng = np.random.default_rng(7)
        inputs = adversarial(rng, 4000)
        beta = 1.0
        loss, dc, _ = self.check_dpo(inputs, beta, 0.0)
        x64 = refs64(inputs)
        ref_loss, (ref_dc, _) = with_grads(
            lambda a, b: trl_sigmoid(a, b, x64[2], x64[3], beta), x64[:2])
        x32 = [torch.from_numpy(x) for x in inputs]
        t_loss, (t_dc, _) = with_grads(
            lambda a, b: trl_sigmoid(a, b, x32[2], x32[3], beta), x32[:2])
        lib_err = ulp_error(loss, ref_loss).max()
        torch_err = ulp_error(t_loss.numpy(), ref_loss).max()
        lib_gerr = ulp_error(dc, ref_dc).max()
        torch_gerr = ulp_error(t_dc.numpy(), ref_dc).max()
        self.assertLess(lib_err, torch_err)
        self.assertLess(lib_gerr, torch_gerr)
        self.assertLessEqual(lib_err, 5.0)
        self.assertGreater(torch_err, 100.0)  # the premise: float32 PyTorch is far off

    def test_matches_trl_float32_on_benign_inputs(self):
        # Where float32 PyTorch is accurate the two agree to float32 precision.
        rng = np.random.default_rng(8)
        pc = rng.normal(-3, 1, 500).astype(F32)
        pr = rng.normal(-3, 1, 500).astype(F32)
        loss, _, _ = prefloss.dpo_loss(pc, pr, beta=0.5)
        t = trl_sigmoid(torch.from_numpy(pc), torch.from_numpy(pr), None, None, 0.5)
        np.testing.assert_allclose(loss, t.numpy(), rtol=2e-6, atol=0)

    def test_empty(self):
        e = np.zeros(0, F32)
        out = prefloss.dpo_loss(e, e, e, e)
        self.assertEqual([o.shape for o in out], [(0,)] * 3)

    def test_nonfinite_inputs(self):
        rng = np.random.default_rng(9)
        pc, pr, rc, rr = typical(rng, 8)
        clean = prefloss.dpo_loss(pc, pr, rc, rr)
        for arr, val in ((pc, np.nan), (pr, np.inf), (rc, -np.inf), (rr, np.nan)):
            a = [x.copy() for x in (pc, pr, rc, rr)]
            idx = [i for i, x in enumerate((pc, pr, rc, rr)) if x is arr][0]
            a[idx][3] = val
            with self.subTest(input=idx, value=val):
                with self.assertWarns(RuntimeWarning) as cm:
                    out = prefloss.dpo_loss(*a)
                self.assertIn(prefloss.strerror(prefloss.NONFINITE), str(cm.warning))
                for o, c in zip(out, clean):
                    self.assertTrue(np.isnan(o[3]))
                    keep = np.arange(8) != 3
                    np.testing.assert_array_equal(o[keep], c[keep])

    def test_nonfinite_upstream(self):
        rng = np.random.default_rng(10)
        pc, pr, rc, rr = typical(rng, 6)
        up = np.ones(6, F32)
        clean = prefloss.dpo_loss(pc, pr, rc, rr, dlosses=up)
        up[2] = np.nan
        with self.assertWarns(RuntimeWarning):
            loss, dc, dr = prefloss.dpo_loss(pc, pr, rc, rr, dlosses=up)
        self.assertTrue(np.isnan(dc[2]) and np.isnan(dr[2]))
        keep = np.arange(6) != 2
        np.testing.assert_array_equal(dc[keep], clean[1][keep])
        np.testing.assert_array_equal(loss[keep], clean[0][keep])


class IPOParity(unittest.TestCase):

    def check_ipo(self, inputs, beta, upstream=None, what="ipo"):
        pc, pr, rc, rr = inputs
        b32 = f32(beta)
        x64 = refs64(inputs)
        up64 = None if upstream is None else t64(upstream)
        ref_loss, (ref_dc, ref_dr) = with_grads(
            lambda a, b: trl_ipo(a, b, x64[2], x64[3], b32), x64[:2], upstream=up64)
        loss, dc, dr = prefloss.ipo_loss(pc, pr, rc, rr, beta=beta, dlosses=upstream)
        h = exact_h(*x64).numpy() if rc is not None else exact_h(x64[0], x64[1], None, None).numpy()
        c = 1 / (2 * b32)
        with np.errstate(divide="ignore", invalid="ignore"):
            kh = (np.abs(h) + abs(c)) / np.abs(h - c)
        extra = 0 if upstream is None else 1
        check_budget(self, loss, ref_loss, 4 + kh, what + " loss")  # kappa = 2 kh
        check_budget(self, dc, ref_dc, 4 + kh / 2 + extra, what + " grad_chosen")
        np.testing.assert_array_equal(dc, -dr)
        return loss, dc, dr

    def test_typical(self):
        rng = np.random.default_rng(11)
        for beta in (0.05, 0.1, 0.5, 2.0):
            with self.subTest(beta=beta):
                self.check_ipo(typical(rng, 2000), beta)

    def test_mean_logps_and_reference_free(self):
        rng = np.random.default_rng(12)
        pc = -rng.uniform(0.5, 3, 1000).astype(F32)
        pr = -rng.uniform(0.5, 3, 1000).astype(F32)
        self.check_ipo([pc, pr, None, None], 0.1)
        self.check_ipo([pc, pr, (pc - 0.01).astype(F32), (pr + 0.02).astype(F32)], 0.5)

    def test_adversarial(self):
        rng = np.random.default_rng(13)
        self.check_ipo(adversarial(rng, 2000), 0.1)
        self.check_ipo(adversarial(rng, 2000), 20.0)

    def test_near_target(self):
        # h within a few ulps of 1/(2 beta): the loss is tiny and still accurate.
        beta = 0.5
        base = np.float32(-700.0)
        d = np.arange(-20, 21, dtype=np.float64) * 2.0 ** -14
        pc = np.full(d.shape, base, F32)
        pr = (base - 1 + d).astype(F32)  # h = pc - pr = 1 - d (exactly representable)
        self.check_ipo([pc, pr, None, None], beta)

    def test_upstream(self):
        rng = np.random.default_rng(14)
        self.check_ipo(typical(rng, 1000), 0.1, upstream=rng.normal(0, 2, 1000).astype(F32))

    def test_general_form_paper_choice_is_trl_times_beta_squared(self):
        # alpha1 = 0, alpha2 = 1: (beta h - 1/2)^2 = beta^2 (h - 1/(2 beta))^2
        rng = np.random.default_rng(17)
        inputs = typical(rng, 500)
        g = prefloss.ipo_general_loss(*inputs, beta=0.5, alpha1=0.0, alpha2=1.0)[0]
        t = prefloss.ipo_loss(*inputs, beta=0.5)[0]
        np.testing.assert_allclose(g, 0.25 * t.astype(np.float64), rtol=3e-6)

    def test_general_form(self):
        rng = np.random.default_rng(15)
        inputs = typical(rng, 1000)
        x64 = refs64(inputs)
        for beta, a1, a2 in ((0.1, 0.0, 1.0), (0.5, -0.25, 2.0), (2.0, 1.5, 1.5),
                             (0.3, -1e3, 1e3)):
            b32, s = f32(beta), f32(a2) - f32(a1)  # the target is s/2
            ref_loss, (ref_dc, _) = with_grads(
                lambda a, b: ipo_general(a, b, x64[2], x64[3], b32, f32(a1), f32(a2)), x64[:2])
            loss, dc, dr = prefloss.ipo_general_loss(*inputs, beta=beta, alpha1=a1, alpha2=a2)
            bh = b32 * exact_h(*x64).numpy()
            k = (np.abs(bh) + abs(s / 2)) / np.abs(bh - s / 2)
            with self.subTest(beta=beta, a1=a1, a2=a2):
                check_budget(self, loss, ref_loss, 4 + k, "ipo_general loss")
                check_budget(self, dc, ref_dc, 4 + k / 2, "ipo_general grad")
                np.testing.assert_array_equal(dc, -dr)

    def test_general_depends_on_the_difference_only(self):
        rng = np.random.default_rng(16)
        inputs = typical(rng, 500)
        outs = [prefloss.ipo_general_loss(*inputs, beta=0.3, alpha1=a1, alpha2=a2)
                for a1, a2 in ((0.0, 1.0), (1.0, 2.0), (0.25, 1.25), (-3.0, -2.0))]
        for o in outs[1:]:
            for a, b in zip(outs[0], o):
                np.testing.assert_array_equal(a, b)


class BTParity(unittest.TestCase):

    def check_bt(self, sw, sl, margin, center, upstream=None):
        c32 = f32(center)
        x = [t64(sw), t64(sl)]
        m64 = None if margin is None else t64(margin)
        up64 = None if upstream is None else t64(upstream)
        ref_loss, (ref_dw, ref_dl) = with_grads(
            lambda a, b: trl_bt(a, b, m64, c32), x, upstream=up64)
        loss, dw, dl = prefloss.bt_loss(sw, sl, margin, center, dlosses=upstream)
        s64 = [np.asarray(v, np.float64) for v in (sw, sl)]
        m = np.zeros_like(s64[0]) if margin is None else np.asarray(margin, np.float64)
        xx = torch.tensor([math.fsum((a, -b, -c)) for a, b, c in zip(s64[0], s64[1], m)],
                          dtype=torch.float64)
        sp = torch.nn.functional.softplus(-xx).numpy()
        sig = torch.sigmoid(-xx).numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            k_loss = np.abs(xx.numpy()) * sig / sp
        k_sig = np.abs(xx.numpy()) * torch.sigmoid(xx).numpy()
        cen = c32 * (s64[0] + s64[1]) ** 2
        dcen = 2 * c32 * (s64[0] + s64[1])
        extra = 0 if upstream is None else 1
        if c32 == 0:
            check_budget(self, loss, ref_loss, 4 + k_loss / 2, "bt loss")
            check_budget(self, dw, ref_dw, 4 + k_sig / 2 + extra, "bt grad_chosen")
            check_budget(self, dl, ref_dl, 4 + k_sig / 2 + extra, "bt grad_rejected")
        else:
            # Two terms: each within its own budget, plus the rounding of the sum.
            up = 1.0 if upstream is None else np.abs(np.asarray(upstream, np.float64))
            floor_l = (4 + k_loss / 2) * ulp(sp) + 5 * ulp(cen)
            floor_g = ((4 + k_sig / 2) * ulp(sig) + 5 * ulp(dcen)) * up
            check_budget(self, loss, ref_loss, 1, "bt loss", abs_floor=floor_l)
            check_budget(self, dw, ref_dw, 1 + extra, "bt grad_chosen", abs_floor=floor_g)
            check_budget(self, dl, ref_dl, 1 + extra, "bt grad_rejected", abs_floor=floor_g)

    def test_plain(self):
        rng = np.random.default_rng(21)
        sw = rng.normal(0, 3, 2000).astype(F32)
        sl = rng.normal(0, 3, 2000).astype(F32)
        self.check_bt(sw, sl, None, 0.0)

    def test_margin_center_upstream(self):
        rng = np.random.default_rng(22)
        sw = rng.normal(1, 3, 2000).astype(F32)
        sl = rng.normal(0, 3, 2000).astype(F32)
        m = rng.uniform(0, 2, 2000).astype(F32)
        self.check_bt(sw, sl, m, 0.0)
        self.check_bt(sw, sl, m, 0.01)
        self.check_bt(sw, sl, None, 0.01, upstream=rng.normal(0, 1, 2000).astype(F32))

    def test_extreme_scores(self):
        rng = np.random.default_rng(23)
        n = 2000
        sw = (rng.uniform(-1, 1, n) * 10.0 ** rng.uniform(-3, 4, n)).astype(F32)
        sl = (sw.astype(np.float64) - rng.uniform(-1, 1, n) * 10.0 ** rng.uniform(-3, 4, n)).astype(F32)
        self.check_bt(sw, sl, None, 0.0)
        # Large scores with tiny differences: x = sw - sl - m must be formed exactly.
        big = rng.uniform(1e3, 1e4, n).astype(F32)
        other = (big.astype(np.float64) + rng.uniform(-0.1, 0.1, n)).astype(F32)
        m = rng.uniform(-0.05, 0.05, n).astype(F32)
        self.check_bt(big, other, m, 0.0)

    def test_trl_reward_trainer_mean(self):
        # TRL: loss = -logsigmoid(rc - rr - margin).mean() + c * mean((rc + rr)**2)
        rng = np.random.default_rng(24)
        sw = rng.normal(0, 1, 64).astype(F32)
        sl = rng.normal(0, 1, 64).astype(F32)
        m = rng.uniform(0, 1, 64).astype(F32)
        c = 0.01
        loss, _, _ = prefloss.bt_loss(sw, sl, m, center_rewards_coefficient=c)
        a, b, mm = t64(sw), t64(sl), t64(m)
        trl = -torch.nn.functional.logsigmoid(a - b - mm).mean() + f32(c) * torch.mean((a + b) ** 2)
        self.assertAlmostEqual(float(np.mean(loss.astype(np.float64))), float(trl), delta=1e-6)


def frac(x):
    return Fraction(float(x))


def assert_rounded_once(tc, got, exact, what):
    """|got - exact| <= 1/2 ulp(exact), in exact rational arithmetic."""
    for i, (g, e) in enumerate(zip(got, exact)):
        u = Fraction(float(ulp(float(e))))
        if abs(frac(g) - e) > u / 2:
            tc.fail("%s #%d: got %r, exact %r (%.3g ulp off)"
                    % (what, i, float(g), float(e), float(abs(frac(g) - e) / u)))


class RewardsParity(unittest.TestCase):

    def check_rewards(self, inputs, beta):
        pc, pr, rc, rr = inputs
        cr, rj, mg, acc = prefloss.rewards(pc, pr, rc, rr, beta=beta)
        b = frac(f32(beta))
        z = [np.zeros_like(pc)] * 2 if rc is None else [rc, rr]
        uc = [frac(a) - frac(c) for a, c in zip(pc, z[0])]
        ur = [frac(a) - frac(c) for a, c in zip(pr, z[1])]
        assert_rounded_once(self, cr, [b * u for u in uc], "chosen_rewards")
        assert_rounded_once(self, rj, [b * u for u in ur], "rejected_rewards")
        assert_rounded_once(self, mg, [b * (u - v) for u, v in zip(uc, ur)], "margins")
        np.testing.assert_array_equal(acc, [1.0 if u > v else 0.0 for u, v in zip(uc, ur)])
        # and TRL's float64 formula beta * (policy - reference)
        x64 = refs64(inputs)
        if rc is not None:
            np.testing.assert_allclose(cr, (f32(beta) * (x64[0] - x64[2])).numpy(), rtol=1.2e-7,
                                       atol=1e-30)

    def test_typical(self):
        rng = np.random.default_rng(31)
        self.check_rewards(typical(rng, 1000), 0.1)
        self.check_rewards(typical(rng, 1000, ref=False), 0.5)

    def test_adversarial(self):
        rng = np.random.default_rng(32)
        inputs = adversarial(rng, 1000)
        inputs[2][:10] = inputs[0][:10]  # ties: uc == ur == 0 exactly for some
        inputs[3][:10] = inputs[1][:10]
        self.check_rewards(inputs, 0.1)
        self.check_rewards(inputs, 3.0)

    def test_nonfinite(self):
        pc = np.array([-1, np.nan, -3], F32)
        pr = np.array([-2, -2, -2], F32)
        with self.assertWarns(RuntimeWarning):
            out = prefloss.rewards(pc, pr, beta=0.1)
        for o in out:
            self.assertTrue(np.isnan(o[1]))
            self.assertTrue(np.isfinite(o[0]) and np.isfinite(o[2]))


class SequenceParity(unittest.TestCase):

    def data(self, rng, B=16, T=700, signed=False):
        t = rng.uniform(-12, 0, (B, T))
        if signed:
            t = rng.normal(0, 1e3, (B, T)) * 10.0 ** rng.uniform(-4, 0, (B, T))
        lengths = rng.integers(0, T + 1, B)
        lengths[0], lengths[1] = 0, T
        start = rng.integers(0, T - lengths + 1)
        mask = np.zeros((B, T), bool)
        for b in range(B):
            mask[b, start[b]:start[b] + lengths[b]] = True
        return t.astype(F32), mask

    def exact_sums(self, t, mask):
        return np.array([math.fsum(row[m].astype(np.float64)) for row, m in zip(t, mask)])

    def test_sum_and_mean(self):
        rng = np.random.default_rng(41)
        t, mask = self.data(rng)
        s = prefloss.sequence_logps(t, mask, "sum")
        exact = self.exact_sums(t, mask)
        check_budget(self, s, exact, 1.0, "sum")
        # TRL: (per_token_logps * loss_mask).sum(-1), float64
        tt, mm = torch.from_numpy(t).double(), torch.from_numpy(mask)
        np.testing.assert_allclose(s, (tt * mm).sum(-1).numpy(), rtol=2e-7)
        cnt = mask.sum(1)
        mean = prefloss.sequence_logps(t, mask, "mean")
        ref = np.where(cnt > 0, exact / np.maximum(cnt, 1), 0.0)
        check_budget(self, mean, ref, 2.0, "mean")
        self.assertEqual(mean[0], 0.0)  # an all-masked row is 0 (documented)
        # uint8 masks and no mask
        np.testing.assert_array_equal(prefloss.sequence_logps(t, mask.astype(np.uint8)), s)
        full = prefloss.sequence_logps(t)
        check_budget(self, full, self.exact_sums(t, np.ones_like(mask)), 1.0, "sum, no mask")

    def test_signed_tokens(self):
        # Mixed signs and magnitudes: compensated summation, error bound
        # 1 ulp + (n eps)^2 sum|x| (Ogita–Rump–Oishi Sum2).
        rng = np.random.default_rng(42)
        t, mask = self.data(rng, B=8, T=2000, signed=True)
        s = prefloss.sequence_logps(t, mask, "sum")
        exact = self.exact_sums(t, mask)
        abs_sum = np.abs(t.astype(np.float64) * mask).sum(1)
        n = mask.sum(1)
        floor = (n * 2.0 ** -24) ** 2 * abs_sum * 2
        check_budget(self, s, exact, 1.0, "signed sum", abs_floor=floor)
        naive = np.array([np.float32(0) + np.cumsum(row[m], dtype=F32)[-1] if m.any() else 0
                          for row, m in zip(t, mask)])
        self.assertLessEqual(ulp_error(s, exact).max(), ulp_error(naive, exact).max())

    def test_backward(self):
        rng = np.random.default_rng(43)
        t, mask = self.data(rng, B=10, T=50)
        d = rng.normal(0, 1, 10).astype(F32)
        ds = prefloss.sequence_logps_backward(d, mask, "sum")
        np.testing.assert_array_equal(ds, np.where(mask, d[:, None], 0).astype(F32))
        dm = prefloss.sequence_logps_backward(d, mask, "mean")
        cnt = mask.sum(1)
        q = np.where(mask, d[:, None].astype(np.float64) / np.maximum(cnt, 1)[:, None], 0)
        check_budget(self, dm, q, 0.5 + 1e-6, "mean backward")
        self.assertTrue(np.all(dm[0] == 0))
        # no mask: every token counts; the shape comes from seq_len
        dn = prefloss.sequence_logps_backward(d, None, "mean", seq_len=50)
        np.testing.assert_allclose(dn, np.repeat(d[:, None] / 50, 50, 1), rtol=1.2e-7)
        # against torch.autograd of the float64 formula
        tt = torch.from_numpy(t).double().requires_grad_(True)
        mm = torch.from_numpy(mask)
        ((tt * mm).sum(-1) / mm.sum(-1).clamp(min=1) * torch.from_numpy(d).double()).sum().backward()
        np.testing.assert_allclose(dm, tt.grad.numpy(), rtol=1.2e-7, atol=0)

    def test_nonfinite(self):
        t = np.zeros((3, 4), F32)
        mask = np.ones((3, 4), bool)
        t[1, 2] = np.nan
        t[2, 3] = np.inf
        mask[2, 3] = False  # masked tokens are never read into the result
        with self.assertWarns(RuntimeWarning):
            s = prefloss.sequence_logps(t, mask)
        self.assertTrue(np.isnan(s[1]))
        self.assertEqual(s[0], 0.0)
        self.assertEqual(s[2], 0.0)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            prefloss.sequence_logps(t[[0, 2]], mask[[0, 2]])  # OK: no warning
        d = np.array([1, np.nan, 1], F32)
        with self.assertWarns(RuntimeWarning):
            g = prefloss.sequence_logps_backward(d, mask)
        self.assertTrue(np.all(np.isnan(g[1])))
        self.assertTrue(np.all(g[0] == 1))


if __name__ == "__main__":
    unittest.main()
