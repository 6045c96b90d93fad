"""python/prefloss/logits.py (the token stage through ctypes) against
PyTorch's TRL path: log_softmax + gather, masked sums, the loss, backward."""
import importlib.util
import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import prefloss
import prefloss.logits as logits_mod
import prefloss.torch

IGN = -100


def trl_seq(x, labels, mean):
    mask = labels != IGN
    tok = torch.gather(x.double().log_softmax(-1), 2, labels.masked_fill(~mask, 0).unsqueeze(2)).squeeze(2)
    s = (tok * mask).sum(-1)
    return s / mask.sum(-1).clamp(min=1) if mean else s


def make(B=3, T=6, V=50, seed=0):
    g = torch.Generator().manual_seed(seed)
    xc = 3 * torch.randn(B, T, V, generator=g)
    xr = 3 * torch.randn(B, T, V, generator=g)
    lc = torch.randint(0, V, (B, T), generator=g)
    lr = torch.randint(0, V, (B, T), generator=g)
    lc[:, :2] = IGN
    lr[:, :1] = IGN
    return xc, xr, lc, lr


def test_token_logps_numpy_and_torch():
    xc, _, lc, _ = make()
    ref = torch.gather(xc.double().log_softmax(-1), 2, lc.clamp(min=0).unsqueeze(2)).squeeze(2)
    ref = torch.where(lc == IGN, torch.zeros_like(ref), ref)
    got_t = logits_mod.token_logps(xc, lc)
    got_n = logits_mod.token_logps(xc.numpy(), lc.numpy())
    assert isinstance(got_t, torch.Tensor) and isinstance(got_n, np.ndarray)
    assert torch.allclose(got_t.double(), ref, rtol=1e-6, atol=1e-6)
    assert np.array_equal(got_n, got_t.numpy())


@pytest.mark.parametrize("loss_type,mean", [("sigmoid", False), ("ipo", True), ("hinge", False)])
def test_pair_loss_from_logits_matches_torch(loss_type, mean):
    xc, xr, lc, lr = make()
    rc = torch.tensor([-40.0, -35.0, -50.0])
    rr = torch.tensor([-41.0, -30.0, -52.0])
    beta = 0.1
    a = xc.clone().requires_grad_()
    b = xr.clone().requires_grad_()
    loss = logits_mod.pair_loss_from_logits(loss_type, a, lc, b, lr, rc, rr, beta=beta,
                                            average_log_prob=mean)
    loss.mean().backward()
    a2 = xc.clone().double().requires_grad_()
    b2 = xr.clone().double().requires_grad_()
    h = (trl_seq(a2, lc, mean) - rc.double()) - (trl_seq(b2, lr, mean) - rr.double())
    if loss_type == "sigmoid":
        ref = -F.logsigmoid(beta * h)
    elif loss_type == "ipo":
        ref = (h - 1 / (2 * beta)) ** 2
    else:
        ref = torch.relu(1 - beta * h)
    ref.mean().backward()
    assert torch.allclose(loss.double(), ref.detach(), rtol=1e-5, atol=1e-6)
    assert torch.allclose(a.grad.double(), a2.grad, rtol=1e-4, atol=1e-7)
    assert torch.allclose(b.grad.double(), b2.grad, rtol=1e-4, atol=1e-7)


def test_bad_labels_raise():
    xc, xr, lc, lr = make()
    lc[0, 3] = 50
    with pytest.raises(logits_mod.Error):
        logits_mod.token_logps(xc, lc)
    with pytest.raises(logits_mod.Error):
        logits_mod.pair_loss_from_logits("sigmoid", xc, lc, xr, lr)


def test_package_exports():
    """The package exposes the token stage: prefloss.token_logps and the
    autograd form prefloss.torch.pair_loss_from_logits."""
    assert prefloss.token_logps is logits_mod.token_logps
    assert prefloss.torch.pair_loss_from_logits is logits_mod.pair_loss_from_logits
    x = torch.randn(2, 3, 7)
    y = torch.tensor([[1, 2, -100], [0, 6, 3]])
    got = prefloss.token_logps(x, y)
    ref = torch.gather(x.double().log_softmax(-1), 2, y.clamp(min=0).unsqueeze(2)).squeeze(2)
    ref = ref.masked_fill(y == -100, 0)
    assert torch.allclose(got.double(), ref, atol=1e-6)
