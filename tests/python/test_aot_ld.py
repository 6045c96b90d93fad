"""AOT (aot, aot_pair) and LD-DPO sequence log-probs, against float64 PyTorch
versions of TRL's definitions (torch.sort over the batch; ties do not occur
in these random batches)."""
import unittest

import numpy as np
import torch
import torch.nn.functional as F

import prefloss


def trl_aot(pc, pr, rc, rr, beta, eps, paired):
    """TRL v0.26 dpo_loss, loss_type "aot" / "aot_pair", in float64 autograd."""
    pc = torch.tensor(pc, dtype=torch.float64, requires_grad=True)
    pr = torch.tensor(pr, dtype=torch.float64, requires_grad=True)
    rc = torch.tensor(rc, dtype=torch.float64)
    rr = torch.tensor(rr, dtype=torch.float64)
    if paired:
        delta = torch.sort(pc - rc, dim=0)[0] - torch.sort(pr - rr, dim=0)[0]
    else:
        delta = torch.sort(pc - pr, dim=0)[0] - torch.sort(rc - rr, dim=0)[0]
    losses = -F.logsigmoid(beta * delta) * (1 - eps) - F.logsigmoid(-beta * delta) * eps
    return losses, pc, pr


class AOT(unittest.TestCase):
    def setUp(self):
        rng = np.random.default_rng(7)
        n = 257
        self.rc = (-100 - 900 * rng.random(n)).astype(np.float32)
        self.rr = (-100 - 900 * rng.random(n)).astype(np.float32)
        self.pc = (self.rc + 20 * (rng.random(n) - 0.5)).astype(np.float32)
        self.pr = (self.rr + 20 * (rng.random(n) - 0.5)).astype(np.float32)
        self.up = (0.5 + rng.random(n)).astype(np.float32)

    def check(self, loss_type, eps):
        paired = loss_type == "aot_pair"
        l, gc, gr = prefloss.aot_loss(self.pc, self.pr, self.rc, self.rr, beta=0.1,
                                      label_smoothing=eps, loss_type=loss_type,
                                      dlosses=self.up)
        ref, tpc, tpr = trl_aot(self.pc, self.pr, self.rc, self.rr, 0.1, eps, paired)
        ref.backward(torch.tensor(self.up, dtype=torch.float64))
        np.testing.assert_allclose(l, ref.detach().numpy(), rtol=4e-7, atol=0)
        np.testing.assert_allclose(gc, tpc.grad.numpy(), rtol=4e-7, atol=0)
        np.testing.assert_allclose(gr, tpr.grad.numpy(), rtol=4e-7, atol=0)

    def test_aot(self):
        self.check("aot", 0.0)
        self.check("aot", 0.1)

    def test_aot_pair(self):
        self.check("aot_pair", 0.0)
        self.check("aot_pair", 0.25)

    def test_errors(self):
        with self.assertRaises(ValueError):
            prefloss.aot_loss(self.pc, self.pr, loss_type="sigmoid")
        with self.assertRaises(prefloss.Error):
            prefloss.aot_loss(self.pc, self.pr, beta=0.0)
        with self.assertRaises(prefloss.Error):
            prefloss.aot_loss(self.pc, self.pr, self.rc, None)

    def test_nonfinite_poisons_every_rank(self):
        pc = self.pc.copy()
        pc[3] = np.nan
        with self.assertWarns(RuntimeWarning):
            l, gc, gr = prefloss.aot_loss(pc, self.pr, self.rc, self.rr)
        self.assertTrue(np.isnan(l).all())


class LD(unittest.TestCase):
    def test_against_reference_and_backward(self):
        rng = np.random.default_rng(3)
        b, t = 6, 50
        tok = (-8 * rng.random((b, t))).astype(np.float32)
        mask = rng.random((b, t)) < 0.8
        pl = rng.integers(0, 60, size=b)
        alpha = 0.4
        got = prefloss.sequence_logps_ld(tok, pl, alpha, mask)
        tt = torch.tensor(tok, dtype=torch.float64, requires_grad=True)
        rank = torch.cumsum(torch.tensor(mask, dtype=torch.int64), dim=1) - 1
        weight = torch.where(rank < torch.tensor(pl)[:, None], 1.0, alpha) * torch.tensor(mask)
        ref = (tt * weight).sum(-1)
        np.testing.assert_allclose(got, ref.detach().numpy(), rtol=3e-7, atol=0)
        d = rng.random(b).astype(np.float32) - 0.5
        ref.backward(torch.tensor(d, dtype=torch.float64))
        dt = prefloss.sequence_logps_ld_backward(d, pl, alpha, mask, seq_len=t)
        np.testing.assert_allclose(dt, tt.grad.numpy().astype(np.float32), rtol=1e-7, atol=0)

    def test_torch_tensors_and_errors(self):
        tok = torch.tensor([[-1.0, -2.0, -3.0]], dtype=torch.float32)
        self.assertAlmostEqual(float(prefloss.sequence_logps_ld(tok, [1], 0.5)[0]), -1.0 - 2.5)
        with self.assertRaises(prefloss.Error):
            prefloss.sequence_logps_ld(tok, [1], 1.5)
        with self.assertRaises(ValueError):
            prefloss.sequence_logps_ld(tok, [1, 2], 0.5)


if __name__ == "__main__":
    unittest.main()
