"""The package's promises to PyTorch and Python users: autograd that is never
silently wrong (second derivatives, in-place changes, out= into tracked
tensors, gradients for every input that requires grad), errors that name the
parameter, no silent conversion, every TRL loss_type, nll_weight, one warning
per call, the library lookup order and the package layout."""
import inspect
import os
import shutil
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from reference import HERE, prefloss

PT = prefloss.torch
ROOT = os.path.normpath(os.path.join(HERE, os.pardir, os.pardir))
PR = torch.tensor([-3.0, -1.0])


def dpo_torch(pc, pr, rc=None, rr=None, beta=0.1, eps=0.0):
    h = (pc - pr) if rc is None else (pc - rc) - (pr - rr)
    return -(1 - eps) * F.logsigmoid(beta * h) - eps * F.logsigmoid(-beta * h)


def refs():
    return torch.tensor([-1.5, -1.0]), torch.tensor([-2.0, -2.0])


# --- second derivatives ------------------------------------------------------

@pytest.mark.parametrize("eps", [0.0, 0.2])
def test_hessian_dpo_equals_pytorch(eps):
    rc, rr = refs()
    x = torch.tensor([-1.0, -2.5], requires_grad=True)
    got = torch.autograd.functional.hessian(
        lambda a: PT.dpo_loss(a, PR, rc, rr, beta=0.5, label_smoothing=eps).sum(), x)
    want = torch.autograd.functional.hessian(
        lambda a: dpo_torch(a, PR, rc, rr, 0.5, eps).sum(), x)
    assert got.abs().max() > 0.01  # not the silent zeros
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7)


def test_hessian_ipo_bt_and_pair_loss():
    rc, rr = refs()
    x = torch.tensor([-1.0, -2.5], requires_grad=True)
    for got_fn, want_fn in (
            (lambda a: PT.ipo_loss(a, PR, rc, rr, beta=0.5),
             lambda a: ((a - rc) - (PR - rr) - 1.0) ** 2),
            (lambda a: PT.pair_loss("sigmoid", a, PR, rc, rr, beta=0.5),
             lambda a: dpo_torch(a, PR, rc, rr, 0.5)),
            (lambda a: PT.pair_loss("ipo", a, PR, rc, rr, beta=0.5),
             lambda a: ((a - rc) - (PR - rr) - 1.0) ** 2),
            (lambda a: PT.bt_loss(a, PR, None, 0.01),
             lambda a: -F.logsigmoid(a - PR) + 0.01 * (a + PR) ** 2)):
        got = torch.autograd.functional.hessian(lambda a: got_fn(a).sum(), x)
        want = torch.autograd.functional.hessian(lambda a: want_fn(a).sum(), x)
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7)


def test_gradient_penalty_create_graph():
    def penalised(fn):
        pc = torch.tensor([-1.0, -2.0], requires_grad=True)
        loss = fn(pc).sum()
        (g,) = torch.autograd.grad(loss, pc, create_graph=True)
        (loss + (g ** 2).sum() * 100).backward()
        return pc.grad
    got = penalised(lambda a: PT.dpo_loss(a, PR))
    want = penalised(lambda a: dpo_torch(a, PR))
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-8)


def test_hessian_through_sequence_logps():
    t = torch.randn(2, 5, generator=torch.Generator().manual_seed(1)) - 3
    mask = torch.tensor([[1, 1, 0, 1, 1], [1, 0, 1, 1, 0]], dtype=torch.bool)

    def f_lib(x):
        s = PT.sequence_logps(x, mask, "mean")
        return PT.dpo_loss(s[:1], s[1:], beta=0.7).sum()

    def f_torch(x):
        m = mask.float()
        s = (x * m).sum(-1) / m.sum(-1)
        return dpo_torch(s[:1], s[1:], beta=0.7).sum()
    got = torch.autograd.functional.hessian(f_lib, t)
    want = torch.autograd.functional.hessian(f_torch, t)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("call", [
    lambda a: PT.pair_loss("hinge", a, PR),
    lambda a: PT.pair_loss("discopop", a, PR),
    lambda a: PT.pair_loss_mix(["sigmoid", "ipo"], [0.5, 0.5], a, PR),
    lambda a: PT.orpo_loss(a - 5.0, PR - 5.0),
    lambda a: PT.pair_loss("aot", a, PR),
])
def test_no_second_derivative_is_an_error_not_zero(call):
    x = torch.tensor([-1.0, -2.5], requires_grad=True)
    with pytest.raises(NotImplementedError, match="second derivatives"):
        torch.autograd.functional.hessian(lambda a: call(a).sum(), x)
    # a create_graph backward that is not differentiated again is fine
    (g,) = torch.autograd.grad(call(x).sum(), x, create_graph=True)
    assert torch.isfinite(g).all()


@pytest.mark.parametrize("call", [
    lambda a, r: PT.dpo_loss(a, PR, *r),
    lambda a, r: PT.dpo_loss(a, PR),
    lambda a, r: PT.ipo_loss(a, PR, *r),
    lambda a, r: PT.pair_loss("hinge", a, PR, *r, beta=2.0),
    lambda a, r: PT.pair_loss_mix(["sigmoid", "apo_zero"], [0.3, 0.7], a, PR, *r),
])
def test_retain_graph_second_backward_is_the_same(call):
    # the first backward scales the forward's gradient buffers in place; a
    # second one through the retained graph recomputes them
    pc = torch.tensor([-1.0, -2.0], requires_grad=True)
    r = [x.requires_grad_(True) for x in refs()]
    loss = (call(pc, r) * torch.tensor([0.5, -3.0])).sum()
    loss.backward(retain_graph=True)
    first = [pc.grad.clone(), r[0].grad]
    pc.grad = r[0].grad = None
    loss.backward(retain_graph=True)
    assert torch.equal(first[0], pc.grad)
    assert (first[1] is None and r[0].grad is None) or torch.equal(first[1], r[0].grad)
    (g,) = torch.autograd.grad(loss, pc, create_graph=True)  # and the unscaled buffers
    assert torch.equal(g.detach(), first[0])


# --- in-place changes and out= -------------------------------------------------

def test_inplace_change_of_an_input_is_caught():
    rc, rr = refs()
    pc = torch.tensor([-1.0, -2.0], requires_grad=True)
    loss = PT.dpo_loss(pc, PR, rc, rr)
    rc.add_(50)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.sum().backward()


def test_inplace_change_of_the_mask_is_caught():
    t = torch.randn(2, 4, requires_grad=True)
    mask = torch.ones(2, 4, dtype=torch.bool)
    s = PT.sequence_logps(t, mask)
    mask[0, 0] = False
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        s.sum().backward()


def test_out_refuses_a_tensor_autograd_tracks():
    rc, rr = refs()
    x = torch.tensor([1.0, 1.0], requires_grad=True)
    z = (x * 2).exp()
    with pytest.raises(ValueError, match="requires grad"):
        prefloss.dpo_loss(torch.tensor([-1.0, -2.0]), PR, rc, rr, out=(z, None, None))
    z.sum().backward()
    torch.testing.assert_close(x.grad, 2 * torch.exp(torch.tensor([2.0, 2.0])))


def test_out_into_a_saved_tensor_is_recorded_as_inplace():
    w = torch.tensor([1.0, 2.0])
    y = torch.tensor([1.0, 1.0], requires_grad=True)
    q = (y * w).sum()  # autograd saved w
    prefloss.dpo_loss(torch.tensor([-1.0, -2.0]), PR, out=(w, None, None))
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        q.backward()


# --- gradients for every input that requires grad -------------------------------

def test_references_and_weights_get_their_gradients():
    g = torch.Generator().manual_seed(4)
    pc, pr, rc, rr = (torch.randn(6, generator=g) * 3 - 20 for _ in range(4))
    w = torch.rand(6, generator=g) + 0.5
    up = torch.randn(6, generator=g)
    leaves = [x.clone().requires_grad_(True) for x in (pc, pr, rc, rr, w)]
    (PT.pair_loss("sigmoid", *leaves, beta=0.3, nll_weight=0.25) * up).sum().backward()
    ref = [x.double().requires_grad_(True) for x in (pc, pr, rc, rr, w)]
    a, b, c, d, ww = ref
    ((dpo_torch(a, b, c, d, 0.3) - 0.25 * a) * ww * up.double()).sum().backward()
    for got, want in zip(leaves, ref):
        torch.testing.assert_close(got.grad.double(), want.grad, rtol=1e-5, atol=1e-7)


def test_dpo_references_get_minus_the_policy_gradient():
    rc, rr = (x.requires_grad_(True) for x in refs())
    pc = torch.tensor([-1.0, -2.0], requires_grad=True)
    PT.dpo_loss(pc, PR.clone().requires_grad_(True), rc, rr).sum().backward()
    assert torch.equal(rc.grad, -pc.grad)


def test_aot_pair_references_and_aot_refusal():
    g = torch.Generator().manual_seed(5)
    pc, pr, rc, rr = (torch.randn(8, generator=g) - 10 for _ in range(4))
    a, b, c, d = (x.clone().requires_grad_(True) for x in (pc, pr, rc, rr))
    PT.pair_loss("aot_pair", a, b, c, d).sum().backward()
    assert torch.equal(c.grad, -a.grad) and torch.equal(d.grad, -b.grad)
    with pytest.raises(ValueError, match="aot"):
        PT.pair_loss("aot", pc.requires_grad_(True), pr, rc.requires_grad_(True), rr)


def test_tensor_parameter_that_requires_grad_is_refused():
    beta = torch.tensor(0.1, requires_grad=True)
    with pytest.raises(TypeError, match="beta is a tensor that requires grad"):
        PT.dpo_loss(torch.tensor([-1.0, -2.0], requires_grad=True), PR, beta=beta)
    with pytest.raises(TypeError, match="beta"):
        prefloss.pair_loss("ipo", [-1.0], [-2.0], beta=beta)
    # a tensor that does not require grad is a number
    a = PT.dpo_loss(torch.tensor([-1.0, -2.0]), PR, beta=torch.tensor(0.25))
    b = PT.dpo_loss(torch.tensor([-1.0, -2.0]), PR, beta=0.25)
    assert torch.equal(a, b)


# --- errors -----------------------------------------------------------------

@pytest.mark.parametrize("kw,pattern", [
    (dict(beta=0), r"beta must be a finite number > 0, got 0\b"),
    (dict(beta=float("nan")), r"beta must be a finite number > 0, got nan"),
    (dict(beta=1e-40), r"beta must be a finite number > 0 \(at least"),
    (dict(label_smoothing=1.5), r"label_smoothing must be in \[0, 0.5\], got 1.5"),
])
def test_parameter_errors_name_the_parameter_and_range(kw, pattern):
    for call in (lambda: prefloss.dpo_loss([-1.0], [-2.0], **kw),
                 lambda: prefloss.pair_loss("sigmoid", [-1.0], [-2.0], **kw),
                 lambda: PT.dpo_loss(torch.tensor([-1.0]), torch.tensor([-2.0]), **kw)):
        with pytest.raises(prefloss.ParameterError, match=pattern) as info:
            call()
        assert isinstance(info.value, ValueError) and isinstance(info.value, prefloss.Error)
        assert info.value.status == prefloss.ERR_PARAM


def test_other_parameter_messages():
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 0.5\) for loss_type "
                                         r"'robust', got 0.5"):
        prefloss.pair_loss("robust", [-1.0], [-2.0], label_smoothing=0.5)
    with pytest.raises(ValueError, match=r"discopop_tau must be in \(0, 1\], got 2"):
        prefloss.pair_loss("discopop", [-1.0], [-2.0], discopop_tau=2)
    with pytest.raises(ValueError, match=r"kl must be a finite number >= 0, got -1"):
        prefloss.kto_loss([-1.0], [-2.0], [True], kl=-1)
    with pytest.raises(ValueError, match=r"mix_weights\[1\] must be a finite number"):
        prefloss.pair_loss_mix(["sigmoid", "ipo"], [1.0, float("inf")], [-1.0], [-2.0])
    with pytest.raises(ValueError, match=r"reduction must be 'sum' or 'mean', got 'max'"):
        prefloss.sequence_logps([[1.0]], reduction="max")
    with pytest.raises(ValueError, match="pass both or neither"):
        PT.dpo_loss(torch.tensor([-1.0]), torch.tensor([-2.0]), torch.tensor([-1.0]))


@pytest.mark.parametrize("bad", ["0.1", b"0.1", True, False, None, [0.1]])
def test_no_silent_conversion_of_parameters(bad):
    with pytest.raises(TypeError, match="beta must be a real number"):
        prefloss.dpo_loss([-1.0], [-2.0], beta=bad)
    with pytest.raises(TypeError, match="beta must be a real number"):
        PT.dpo_loss(torch.tensor([-1.0]), torch.tensor([-2.0]), beta=bad)


def test_no_silent_conversion_in_lists():
    with pytest.raises(TypeError, match="numbers, got bool"):
        prefloss.dpo_loss([True, -1.0], [-2.0, -2.0])
    with pytest.raises(TypeError, match="numbers, got str"):
        prefloss.dpo_loss(["-1.0"], [-2.0])
    # bools are the values of a mask list
    assert prefloss.sequence_logps([[-1.0, -2.0]], [[True, False]]) == [-1.0]


@pytest.mark.parametrize("make", [
    lambda: np.ones(3, np.float32), lambda: torch.ones(3), lambda: [1.0, 1.0, 1.0]])
def test_sequence_logps_ld_backward_bad_seq_len(make):
    for bad, exc in ((-1, ValueError), (True, TypeError), (2.5, TypeError), ("3", TypeError)):
        with pytest.raises(exc, match="seq_len"):
            prefloss.sequence_logps_ld_backward(make(), [1, 1, 1], 0.5, seq_len=bad)


# --- every TRL loss_type -------------------------------------------------------

def test_aot_through_pair_loss_and_mix():
    g = torch.Generator().manual_seed(6)
    x = [(torch.randn(16, generator=g) - 10) for _ in range(4)]
    for t in ("aot", "aot_pair"):
        direct = prefloss.aot_loss(*x, beta=0.2, label_smoothing=0.1, loss_type=t)
        routed = prefloss.pair_loss(t, *x, beta=0.2, label_smoothing=0.1)
        for u, v in zip(direct, routed):
            assert torch.equal(u, v)
        a, b = x[0].clone().requires_grad_(True), x[1].clone().requires_grad_(True)
        up = torch.randn(16, generator=g)
        losses = PT.pair_loss(t, a, b, x[2], x[3], beta=0.2, label_smoothing=0.1)
        assert torch.equal(losses, direct[0])
        (losses * up).sum().backward()
        _, dc, dr = prefloss.aot_loss(*x, beta=0.2, label_smoothing=0.1, loss_type=t, dlosses=up)
        assert torch.equal(a.grad, dc) and torch.equal(b.grad, dr)
    mix = prefloss.pair_loss_mix(["sigmoid", "aot"], [0.5, 2.0], *x, beta=0.2)[0]
    want = 0.5 * prefloss.pair_loss("sigmoid", *x, beta=0.2)[0] \
        + 2.0 * prefloss.pair_loss("aot", *x, beta=0.2)[0]
    torch.testing.assert_close(mix, want, rtol=1e-6, atol=0)
    a = x[0].clone().requires_grad_(True)
    PT.pair_loss_mix(["sigmoid", "aot"], [0.5, 2.0], a, *x[1:], beta=0.2).sum().backward()
    dc = 0.5 * prefloss.pair_loss("sigmoid", *x, beta=0.2)[1] \
        + 2.0 * prefloss.pair_loss("aot", *x, beta=0.2)[1]
    torch.testing.assert_close(a.grad, dc, rtol=1e-6, atol=1e-9)


def test_every_loss_type_in_every_entry_point():
    x = [torch.tensor([-10.0, -20.5, -3.25]), torch.tensor([-11.0, -19.0, -4.0]),
         torch.tensor([-10.5, -20.0, -3.0]), torch.tensor([-10.0, -19.5, -3.5])]
    assert prefloss.loss_types()[-2:] == ["aot", "aot_pair"]
    for t in prefloss.loss_types():
        plain = prefloss.pair_loss(t, *x)[0]
        mixed = prefloss.pair_loss_mix([t], [1.0], *x)[0]
        a = x[0].clone().requires_grad_(True)
        auto = PT.pair_loss(t, a, *x[1:])
        auto.sum().backward()
        assert torch.isfinite(a.grad).all(), t
        torch.testing.assert_close(plain, mixed, rtol=0, atol=0, msg=t)
        torch.testing.assert_close(plain, auto.detach(), rtol=0, atol=0, msg=t)


def test_nll_weight():
    x = [torch.tensor([-10.0, -20.5]), torch.tensor([-11.0, -19.0]),
         torch.tensor([-10.5, -20.0]), torch.tensor([-10.0, -19.5])]
    base, bc, br = prefloss.pair_loss("sigmoid", *x)
    rpo, rc, rr = prefloss.pair_loss("sigmoid", *x, nll_weight=0.5)
    torch.testing.assert_close(rpo, base - 0.5 * x[0])
    torch.testing.assert_close(rc, bc - 0.5)
    assert torch.equal(rr, br)
    a = x[0].clone().requires_grad_(True)
    PT.pair_loss("sigmoid", a, *x[1:], nll_weight=0.5).sum().backward()
    assert torch.equal(a.grad, rc)
    mix = prefloss.pair_loss_mix(["sigmoid"], [1.0], *x, nll_weight=0.5)[0]
    assert torch.equal(mix, rpo)


def test_defaults_come_from_the_library():
    d = prefloss.pair_param_defaults()
    assert set(d) == {"beta", "label_smoothing", "discopop_tau", "alpha", "simpo_gamma",
                      "bco_delta", "nll_weight"}
    x = [[-10.0], [-11.0], [-10.5], [-10.0]]
    assert prefloss.pair_loss("sigmoid", *x) == prefloss.pair_loss("sigmoid", *x,
                                                                   beta=d["beta"])


# --- warnings ----------------------------------------------------------------

def test_one_nonfinite_warning_per_step_at_the_callers_line():
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        a = torch.tensor([float("nan"), -1.0], requires_grad=True)
        PT.dpo_loss(a, PR).sum().backward(); line = sys._getframe().f_lineno  # noqa: E702
        prefloss.pair_loss("hinge", [float("inf")], [-1.0])
    assert len(rec) == 2, [str(r.message) for r in rec]
    assert all(issubclass(r.category, RuntimeWarning) for r in rec)
    assert all(r.filename == __file__ for r in rec)
    assert rec[0].lineno == line
    assert a.grad[1] != 0 and torch.isnan(a.grad[0])


# --- the package -----------------------------------------------------------------

def test_signatures_show_the_parameters():
    for fn in (PT.pair_loss, PT.pair_loss_mix, prefloss.pair_loss):
        params = inspect.signature(fn).parameters
        for name in ("beta", "label_smoothing", "nll_weight"):
            assert name in params, (fn, name)
    assert "beta" in inspect.signature(PT.dpo_loss).parameters
    assert inspect.ismodule(PT) and PT.__name__ == "prefloss.torch"
    assert os.path.exists(os.path.join(os.path.dirname(prefloss.__file__), "py.typed"))


def run(code, env, cwd):
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)


def test_bundled_library_comes_first():
    # A copy of the package with the library inside it: that copy is used,
    # whatever PREFLOSS_LIBRARY says and wherever the process runs.
    with tempfile.TemporaryDirectory() as d:
        shutil.copytree(os.path.join(ROOT, "python", "prefloss"), os.path.join(d, "prefloss"),
                        ignore=shutil.ignore_patterns("__pycache__", "*.so*"))
        shutil.copyfile(os.path.join(ROOT, "build", "libprefloss.so.1"),
                        os.path.join(d, "prefloss", "libprefloss.so.1"))
        env = dict(os.environ, PYTHONPATH=d, PREFLOSS_LIBRARY="/nonexistent/libprefloss.so.1")
        r = run("import sys, prefloss; print(prefloss.load()._name); "
                "print('torch' in sys.modules, 'numpy' in sys.modules)", env, "/")
        assert r.returncode == 0, r.stdout
        assert r.stdout.splitlines()[0] == os.path.join(d, "prefloss", "libprefloss.so.1")
        assert r.stdout.splitlines()[1] == "False False"


def test_pytest_from_the_repository_root_needs_no_setup():
    # The conftest puts python/ on the path: a plain interpreter in the root
    # finds the same package as the tests.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PREFLOSS_LIBRARY")}
    r = run("import sys; sys.path.insert(0, 'tests/python'); import conftest, prefloss; "
            "print(prefloss.__file__)", env, ROOT)
    assert r.returncode == 0, r.stdout
    assert r.stdout.strip() == os.path.join(ROOT, "python", "prefloss", "__init__.py")


def test_one_warning_for_a_mix_with_aot():
    x = [float("nan"), -1.0], [-2.0, -2.0]
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        prefloss.pair_loss_mix(["sigmoid", "aot"], [1.0, 1.0], *x)
        a = torch.tensor(x[0], requires_grad=True)
        PT.pair_loss_mix(["sigmoid", "aot"], [1.0, 1.0], a, torch.tensor(x[1])).sum().backward()
    assert len(rec) == 2 and all(r.filename == __file__ for r in rec), \
        [(str(r.message), r.filename) for r in rec]


def test_status_constants_match_the_library():
    """Every status code the package names has the library's name for it."""
    import prefloss
    for name in ("OK", "NONFINITE", "ERR_NULL", "ERR_PARAM", "ERR_OVERLAP", "ERR_SIZE",
                 "ERR_ROUNDING", "ERR_UNSUPPORTED"):
        assert prefloss.status_name(getattr(prefloss, name)) == "PREFLOSS_" + name
