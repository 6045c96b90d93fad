"""prefloss.torch: the autograd wrappers.

What is checked, honestly:
  * the wrappers' gradients against torch.autograd of the float64 TRL
    formulas, within the float32 accuracy budget (the real accuracy check);
  * the backward's use of the upstream gradient (weighted sums, .mean(), a
    stride-0 expanded gradient) and that the reference gets no gradient;
  * torch.autograd.gradcheck on a float64 wrapper that casts to float32 and
    back. The library is float32-only, so this can only confirm, to float32
    finite-difference precision (eps = 1e-3, tolerances ~1e-3), that the
    backward is the derivative of the forward — it is not a float64-accurate
    check, which is what the comparison with the float64 reference is for.
"""
import unittest
import warnings

import numpy as np
import torch
import torch.nn.functional as F

from reference import (prefloss, f32, t64, trl_sigmoid, trl_ipo, with_grads,
                       check_budget, kappa_sigmoid_grad, exact_h)

PT = prefloss.torch


def batch(seed, n=256, ref=True):
    g = torch.Generator().manual_seed(seed)
    pc = -torch.rand(n, generator=g) * 400 - 50
    pr = -torch.rand(n, generator=g) * 400 - 50
    if not ref:
        return pc, pr, None, None
    rc = pc + torch.randn(n, generator=g) * 5
    rr = pr + torch.randn(n, generator=g) * 5
    return pc, pr, rc, rr


class Wrappers(unittest.TestCase):

    def test_namespace(self):
        for name in ("DPOLoss", "IPOLoss", "BTLoss", "SequenceLogps", "dpo_loss", "ipo_loss",
                     "bt_loss", "sequence_logps"):
            self.assertTrue(hasattr(PT, name), name)
        self.assertTrue(issubclass(PT.DPOLoss, torch.autograd.Function))
        with self.assertRaises(AttributeError):
            PT.nonexistent

    def test_dpo_forward_equals_binding(self):
        pc, pr, rc, rr = batch(1)
        losses = PT.dpo_loss(pc, pr, rc, rr, beta=0.1, label_smoothing=0.1)
        np.testing.assert_array_equal(
            losses.numpy(), prefloss.dpo_loss(pc, pr, rc, rr, 0.1, 0.1)[0].numpy())
        self.assertEqual(losses.dtype, torch.float32)

    def test_dpo_backward_mean(self):
        # loss.mean().backward() hands the backward a stride-0 expanded gradient.
        for eps in (0.0, 0.2):
            pc, pr, rc, rr = batch(2)
            pc.requires_grad_(True)
            pr.requires_grad_(True)
            rc.requires_grad_(True)
            rr.requires_grad_(True)
            losses = PT.DPOLoss.apply(pc, pr, rc, rr, 0.1, eps)
            losses.mean().backward()
            # the references get minus the policy's gradients (h has pc - rc, pr - rr)
            self.assertTrue(torch.equal(rc.grad, -pc.grad) and torch.equal(rr.grad, -pr.grad))
            x64 = [t64(x.detach()) for x in (pc, pr, rc, rr)]
            n = pc.shape[0]
            ref_loss, (gc, gr) = with_grads(
                lambda a, b: trl_sigmoid(a, b, x64[2], x64[3], f32(0.1), f32(eps)), x64[:2],
                upstream=torch.full((n,), 1.0 / n, dtype=torch.float64))
            z = f32(0.1) * exact_h(*x64)
            budget = 4 + kappa_sigmoid_grad(z, f32(eps)).numpy() / 2 + 1
            check_budget(self, pc.grad.numpy(), gc, budget, "DPOLoss grad_chosen")
            check_budget(self, pr.grad.numpy(), gr, budget, "DPOLoss grad_rejected")
            # and bit-identical to the binding with dlosses = 1/n
            up = torch.full((n,), 1.0 / n)
            _, dc, dr = prefloss.dpo_loss(*(x.detach() for x in (pc, pr, rc, rr)), 0.1, eps,
                                          dlosses=up)
            np.testing.assert_array_equal(pc.grad.numpy(), dc.numpy())
            np.testing.assert_array_equal(pr.grad.numpy(), dr.numpy())

    def test_dpo_inline_case_equals_general_path(self):
        # DPOLoss.forward handles plain tensors inline and everything else
        # (nn.Parameter, named tensors, ...) through the general path: the
        # same losses and gradients, bit for bit, and the same kind of output.
        pc, pr, rc, rr = batch(5)
        up = torch.randn(pc.shape[0], generator=torch.Generator().manual_seed(6))

        def run(a, b):
            losses = PT.dpo_loss(a, b, rc, rr, beta=0.1)
            (losses * up).sum().backward()
            return losses, a.grad, b.grad

        plain = run(pc.clone().requires_grad_(True), pr.clone().requires_grad_(True))
        param = run(torch.nn.Parameter(pc.clone()), torch.nn.Parameter(pr.clone()))
        for x, y in zip(plain, param):
            self.assertIs(type(x), torch.Tensor)
            self.assertTrue(x.is_contiguous() and x.dtype == torch.float32)
            np.testing.assert_array_equal(x.detach().numpy(), y.detach().numpy())
        self.assertIsNone(plain[0]._base)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # named tensors are experimental
            named = PT.dpo_loss(pc.refine_names("N"), pr.refine_names("N"), rc, rr, beta=0.1)
        self.assertEqual(named.names, (None,))
        np.testing.assert_array_equal(named.numpy(), plain[0].detach().numpy())
        # a contiguous tensor with an unusual stride on a size-1 dimension
        a = pc.clone().as_strided((pc.shape[0], 1), (1, 7)).requires_grad_(True)
        b = pr.clone().reshape(-1, 1).requires_grad_(True)
        losses = PT.dpo_loss(a, b, rc.reshape(-1, 1), rr.reshape(-1, 1), beta=0.1)
        (losses * up.reshape(-1, 1)).sum().backward()
        np.testing.assert_array_equal(losses.detach().reshape(-1).numpy(),
                                      plain[0].detach().numpy())
        np.testing.assert_array_equal(a.grad.reshape(-1).numpy(), plain[1].numpy())
        np.testing.assert_array_equal(b.grad.reshape(-1).numpy(), plain[2].numpy())

    def test_dpo_weighted_upstream_and_reference_free(self):
        pc, pr, _, _ = batch(3, ref=False)
        w = torch.randn(pc.shape[0], generator=torch.Generator().manual_seed(9))
        pc.requires_grad_(True)
        pr.requires_grad_(True)
        (PT.dpo_loss(pc, pr, beta=0.5) * w).sum().backward()
        x64 = [t64(x.detach()) for x in (pc, pr)]
        _, (gc, gr) = with_grads(lambda a, b: trl_sigmoid(a, b, None, None, f32(0.5)), x64,
                                 upstream=w.double())
        z = f32(0.5) * exact_h(x64[0], x64[1], None, None)
        budget = 4 + kappa_sigmoid_grad(z, 0.0).numpy() / 2 + 1
        check_budget(self, pc.grad.numpy(), gc, budget, "weighted grad_chosen")
        check_budget(self, pr.grad.numpy(), gr, budget, "weighted grad_rejected")

    def test_replaces_logsigmoid_in_a_trainer(self):
        # TRL: losses = -F.logsigmoid(beta * logits); here one call instead.
        torch.manual_seed(4)
        lin = torch.nn.Linear(3, 1)
        x = torch.randn(64, 2, 3)
        rc, rr = torch.randn(64), torch.randn(64)

        def grads(use_lib):
            lin.zero_grad()
            logps = lin(x).squeeze(-1)
            pc, pr = logps[:, 0].contiguous(), logps[:, 1].contiguous()
            if use_lib:
                loss = PT.dpo_loss(pc, pr, rc, rr, beta=0.1).mean()
            else:
                logits = (pc - pr) - (rc - rr)
                loss = -F.logsigmoid(0.1 * logits).mean()
            loss.backward()
            return loss.item(), [p.grad.clone() for p in lin.parameters()]

        l1, g1 = grads(True)
        l2, g2 = grads(False)
        self.assertAlmostEqual(l1, l2, delta=1e-6)
        for a, b in zip(g1, g2):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)

    def test_ipo(self):
        pc, pr, rc, rr = batch(5)
        pc.requires_grad_(True)
        pr.requires_grad_(True)
        (PT.ipo_loss(pc, pr, rc, rr, beta=0.1) * 2).sum().backward()
        x64 = [t64(x.detach()) for x in (pc, pr, rc, rr)]
        _, (gc, gr) = with_grads(lambda a, b: 2 * trl_ipo(a, b, x64[2], x64[3], f32(0.1)),
                                 x64[:2])
        h = exact_h(*x64).numpy()
        c = 1 / (2 * f32(0.1))
        budget = 4 + (np.abs(h) + c) / np.abs(h - c) / 2 + 1
        check_budget(self, pc.grad.numpy(), gc, budget, "IPOLoss grad_chosen")
        check_budget(self, pr.grad.numpy(), gr, budget, "IPOLoss grad_rejected")

    def test_bt(self):
        g = torch.Generator().manual_seed(6)
        sw = torch.randn(200, generator=g).requires_grad_(True)
        sl = torch.randn(200, generator=g).requires_grad_(True)
        m = torch.rand(200, generator=g).requires_grad_(True)
        loss = PT.bt_loss(sw, sl, m, 0.01).mean()
        loss.backward()
        a, b = sw.detach().double().requires_grad_(True), sl.detach().double().requires_grad_(True)
        m64 = m.detach().double().requires_grad_(True)
        ref = (-F.logsigmoid(a - b - m64)).mean() + f32(0.01) * torch.mean((a + b) ** 2)
        ref.backward()
        # the margin requires grad: it gets sigma(-(sw - sl - m)) / n
        torch.testing.assert_close(m.grad.double(), m64.grad, rtol=1e-6, atol=1e-9)
        self.assertAlmostEqual(loss.item(), ref.item(), delta=1e-6)
        torch.testing.assert_close(sw.grad.double(), a.grad, rtol=1e-6, atol=1e-9)
        torch.testing.assert_close(sl.grad.double(), b.grad, rtol=1e-6, atol=1e-9)

    def test_sequence_logps(self):
        g = torch.Generator().manual_seed(7)
        t = (-torch.rand(6, 40, generator=g) * 5).requires_grad_(True)
        mask = torch.rand(6, 40, generator=g) > 0.3
        mask[0] = False
        w = torch.randn(6, generator=g)
        for red in ("sum", "mean"):
            t.grad = None
            s = PT.sequence_logps(t, mask, red)
            (s * w).sum().backward()
            td = t.detach().double().requires_grad_(True)
            r = (td * mask).sum(-1)
            if red == "mean":
                r = r / mask.sum(-1).clamp(min=1)
            (r * w.double()).sum().backward()
            torch.testing.assert_close(s.double(), r.detach(), rtol=2e-7, atol=1e-12)
            torch.testing.assert_close(t.grad.double(), td.grad, rtol=2e-7, atol=1e-12)

    def test_full_pipeline(self):
        # token log-probs -> sequence log-probs -> DPO loss -> backward
        g = torch.Generator().manual_seed(8)
        tok = (-torch.rand(8, 30, generator=g) * 3).requires_grad_(True)
        mask = torch.rand(8, 30, generator=g) > 0.2
        ref = -torch.rand(8, 30, generator=g) * 3
        seq = PT.sequence_logps(tok, mask)
        rseq = prefloss.sequence_logps(ref, mask)
        loss = PT.dpo_loss(seq[:4], seq[4:], rseq[:4], rseq[4:], beta=0.2).mean()
        loss.backward()
        td = tok.detach().double().requires_grad_(True)
        s = (td * mask).sum(-1)
        rs = (ref.double() * mask).sum(-1)
        rl = trl_sigmoid(s[:4], s[4:], rs[:4], rs[4:], f32(0.2)).mean()
        rl.backward()
        self.assertAlmostEqual(loss.item(), rl.item(), delta=1e-6)
        torch.testing.assert_close(tok.grad.double(), td.grad, rtol=1e-5, atol=1e-9)

    def test_errors(self):
        pc, pr, rc, rr = batch(9, n=8)
        with self.assertRaises(TypeError):
            PT.dpo_loss(pc.numpy(), pr.numpy())
        with self.assertRaisesRegex(ValueError, "contiguous"):
            big = torch.randn(16)
            PT.dpo_loss(big[::2], big[1::2])
        with self.assertRaisesRegex(ValueError, "float32"):
            PT.dpo_loss(pc.double(), pr.double())
        with self.assertRaises(prefloss.Error):
            PT.dpo_loss(pc, pr, rc, rr, beta=-1.0)
        with self.assertRaises(prefloss.Error):
            PT.dpo_loss(pc, pr, rc, None)
        with self.assertRaises(prefloss.Error):
            PT.sequence_logps(torch.zeros(2, 3), None, 5)
        with self.assertWarns(RuntimeWarning):
            PT.ipo_loss(torch.tensor([float("nan")]), torch.tensor([0.0]))

    def test_no_double_backward(self):
        # a kind without second derivatives raises when its gradient is differentiated
        pc, pr, _, _ = batch(10, n=4, ref=False)
        pc.requires_grad_(True)
        loss = PT.pair_loss("hinge", pc, pr).sum()
        (g,) = torch.autograd.grad(loss, pc, create_graph=True)
        with self.assertRaisesRegex(NotImplementedError, "second derivatives"):
            g.sum().backward()


class GradCheck(unittest.TestCase):
    """gradcheck on float64 wrappers that cast to the library's float32.
    Inputs are kept O(1) so a 1e-3 step is represented to ~1e-4 relative
    in float32; tolerances are float32 finite-difference precision."""

    KW = dict(eps=1e-3, atol=2e-4, rtol=2e-3, check_undefined_grad=True,
              check_batched_grad=False)

    def inputs(self, seed, n=6):
        g = torch.Generator().manual_seed(seed)
        return [(torch.rand(n, generator=g, dtype=torch.float64) * 4 - 4) for _ in range(4)]

    def test_dpo(self):
        pc, pr, rc, rr = self.inputs(1)
        for eps in (0.0, 0.3):
            f = lambda a, b: PT.DPOLoss.apply(a.float(), b.float(), rc.float(), rr.float(),
                                              1.0, eps).double()
            self.assertTrue(torch.autograd.gradcheck(
                f, (pc.requires_grad_(True), pr.requires_grad_(True)), **self.KW))
        f = lambda a, b: PT.dpo_loss(a.float(), b.float(), beta=2.0).double()
        self.assertTrue(torch.autograd.gradcheck(f, (pc, pr), **self.KW))

    def test_ipo(self):
        pc, pr, rc, rr = self.inputs(2)
        f = lambda a, b: PT.IPOLoss.apply(a.float(), b.float(), rc.float(), rr.float(),
                                          0.5).double()
        self.assertTrue(torch.autograd.gradcheck(
            f, (pc.requires_grad_(True), pr.requires_grad_(True)), **self.KW))

    def test_bt(self):
        sw, sl, m, _ = self.inputs(3)
        f = lambda a, b: PT.BTLoss.apply(a.float(), b.float(), m.float(), 0.05).double()
        self.assertTrue(torch.autograd.gradcheck(
            f, (sw.requires_grad_(True), sl.requires_grad_(True)), **self.KW))

    def test_sequence_logps(self):
        g = torch.Generator().manual_seed(4)
        t = (torch.rand(3, 5, generator=g, dtype=torch.float64) * -2).requires_grad_(True)
        mask = torch.rand(3, 5, generator=g) > 0.4
        for red in ("sum", "mean"):
            f = lambda x: PT.sequence_logps(x.float(), mask, red).double()
            self.assertTrue(torch.autograd.gradcheck(f, (t,), **self.KW))

    def test_gradcheck_detects_a_wrong_backward(self):
        # The check has teeth: a backward off by 1% is caught at these tolerances.
        class Wrong(torch.autograd.Function):
            @staticmethod
            def forward(ctx, a, b):
                ctx.save_for_backward(a, b)
                return PT.DPOLoss.apply(a, b, None, None, 1.0, 0.0)

            @staticmethod
            def backward(ctx, grad):
                a, b = ctx.saved_tensors
                _, dc, dr = prefloss.dpo_loss(a, b, beta=1.0, dlosses=grad.contiguous())
                return dc * 1.01, dr * 1.01

        pc, pr, _, _ = self.inputs(5)
        f = lambda a, b: Wrong.apply(a.float(), b.float()).double()
        self.assertFalse(torch.autograd.gradcheck(
            f, (pc.requires_grad_(True), pr.requires_grad_(True)), raise_exception=False,
            **self.KW))


if __name__ == "__main__":
    unittest.main()
