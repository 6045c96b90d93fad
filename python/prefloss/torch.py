"""PyTorch autograd forms of the libprefloss losses (CPU float32 tensors).

    import prefloss.torch as plt
    losses = plt.dpo_loss(pc, pr, rc, rr, beta=0.1)   # replaces -F.logsigmoid(beta * logits)
    losses.mean().backward()

The library runs on the CPU: tensors on a GPU go through ``.cpu()`` and the
result back with ``.to(device)`` (autograd follows both copies).

How it works. The forward is one library call that writes the losses and,
when an input requires grad, their gradients at an upstream gradient of 1;
the backward scales those by the upstream gradient in place (no library
call; a second backward through a retained graph recomputes them). The
exceptions are the batch-coupled "aot"/"aot_pair" and ``sequence_logps``,
whose backward is one library call.

Autograd rules kept by every function here:

* every tensor input is saved with ``ctx.save_for_backward``: changing one
  in place between forward and backward raises PyTorch's usual error;
* every input that requires grad gets its gradient: the policy log-probs,
  the reference log-probs (minus the policy's, where the loss depends on
  ``pc - rc`` and ``pr - rr``), per-pair ``weights`` (the unweighted loss
  times the upstream gradient), the margin of ``bt_loss``, KTO's ``kl`` and
  ``pair_loss_mix``'s mix weights given as tensors. Any other parameter
  given as a tensor that requires grad (``beta``, ``label_smoothing``, ...)
  is refused with ArgumentTypeError (a TypeError): no gradient is computed
  for it;
* second derivatives (``create_graph=True``: ``torch.autograd.functional.
  hessian``, gradient penalties): ``dpo_loss``, ``ipo_loss``, ``bt_loss``,
  ``sequence_logps`` and ``pair_loss`` with "sigmoid" or "ipo" give them
  (the first derivative is the library's, its derivative PyTorch's formula);
  every other function raises NotImplementedError when its gradient is
  differentiated -- never a silent zero;
* a non-finite input gives one NonFiniteWarning per call, at the caller's line.
"""
import ctypes as _ct
import warnings as _warnings
from typing import Any, Callable, Dict, Optional, Sequence, Tuple, Union

import torch as _torch
from torch import Tensor
from torch.autograd import Function as _Function

from . import _lib
from . import losses as _losses
from ._errors import ArgumentError, ArgumentTypeError, NonFiniteWarning, ParameterError
from ._lib import number as _num

__all__ = [
    "dpo_loss", "ipo_loss", "bt_loss", "sequence_logps", "pair_loss", "pair_loss_mix",
    "orpo_loss", "kto_loss", "aot_loss",
    "DPOLoss", "IPOLoss", "BTLoss", "SequenceLogps", "PairLoss", "PairLossMix", "ORPOLoss",
    "KTOLoss", "AOTLoss",
    "pair_loss_from_logits",
]

_F32 = _torch.float32
_STRIDED = _torch.strided
_empty = _torch.empty
_empty_like = _torch.empty_like
_is_grad_enabled = _torch.is_grad_enabled


def _bad_tensor(x: Any, name: str) -> None:
    """Raise the error that explains why x is not a usable tensor."""
    if not isinstance(x, Tensor):
        raise ArgumentTypeError("%s: prefloss.torch takes torch tensors, got %s"
                                % (name, type(x).__name__))
    if x.layout != _STRIDED:
        raise ArgumentError("%s: only dense (strided) tensors are supported, got %s"
                            % (name, x.layout))
    if x.device.type != "cpu":
        raise ArgumentError("%s: the tensor is on %s; libprefloss runs on the CPU: pass "
                            "%s.cpu() and move the result back with .to(device)"
                            % (name, x.device, name))
    if x.dtype != _F32:
        raise ArgumentError("%s: dtype must be torch.float32, got %s; convert explicitly "
                            "with .float()" % (name, x.dtype))
    if not x.is_contiguous():
        raise ArgumentError("%s: the tensor is not contiguous; pass %s.contiguous() "
                            "explicitly" % (name, name))
    raise ArgumentError("%s: unusable tensor" % name)


def _usable(x: Any) -> bool:
    """x is a dense float32 CPU contiguous tensor (the fast check)."""
    return ((type(x) is Tensor or isinstance(x, Tensor)) and x.dtype is _F32
            and x.is_cpu and x.layout is _STRIDED  # type: ignore[attr-defined]
            and x.is_contiguous())


def _ptr(x: Tensor, name: str, shape: Any) -> int:
    """The address of a float32 CPU contiguous tensor of the given shape."""
    if not _usable(x):
        _bad_tensor(x, name)
    if x.shape != shape:
        raise ArgumentError("%s has shape %s but policy_chosen_logps has shape %s"
                            % (name, tuple(x.shape), tuple(shape)))
    return x.data_ptr()


def _opt_ptr(x: Optional[Tensor], name: str, shape: Any) -> Optional[int]:
    return None if x is None else _ptr(x, name, shape)


def _refs(rc: Optional[Tensor], rr: Optional[Tensor]) -> None:
    if (rc is None) != (rr is None):
        raise ArgumentError("ref_chosen_logps and ref_rejected_logps: pass both or neither "
                            "(got only %s)" % ("ref_chosen_logps" if rr is None
                                               else "ref_rejected_logps"),
                            _lib.ERR_NULL, "PREFLOSS_ERR_NULL")


def _upstream(grad: Tensor) -> Tensor:
    """The upstream gradient as the library wants it: float32, contiguous
    (loss.mean().backward() hands over an expanded, stride-0 tensor)."""
    return grad.to(dtype=_F32).contiguous()


class _NoSecondOrder(_Function):
    """Carries first-order gradients that have no second derivative here:
    they are its forward's outputs, and differentiating them raises."""

    @staticmethod
    def forward(ctx: Any, what: str, grads: Tuple[Tensor, ...],  # type: ignore[override]
                *anchors: Tensor) -> Any:
        ctx.what = what
        return tuple(g.clone() for g in grads)

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        raise NotImplementedError(
            "%s: second derivatives are not implemented; its gradient was differentiated "
            "(create_graph=True: torch.autograd.functional.hessian, a gradient penalty, ...). "
            "dpo_loss, ipo_loss, bt_loss, sequence_logps and pair_loss with 'sigmoid' or "
            "'ipo' support it." % ctx.what)


def _no_second_order(what: str, grads: Tuple[Optional[Tensor], ...],
                     anchors: Sequence[Optional[Tensor]]) -> Tuple[Optional[Tensor], ...]:
    """In a create_graph backward: the gradients, attached to the graph so
    that differentiating them raises instead of giving zeros."""
    a = [t for t in anchors if t is not None and t.requires_grad]
    present = [g for g in grads if g is not None]
    if not a or not present:
        return grads
    it = iter(_NoSecondOrder.apply(what, tuple(present), *a))
    return tuple(None if g is None else next(it) for g in grads)


def _grads(ctx: Any) -> Tuple[Tensor, Tensor]:
    """The forward's two gradient buffers (at upstream 1); recomputed by one
    library call from the saved inputs (unchanged: the saved-tensor check has
    run) when an earlier backward through a retained graph consumed them."""
    g = ctx.g
    if g is None:
        recall = ctx.recall
        f, pre, post, shape = recall(ctx) if callable(recall) else recall
        g = (_empty(shape, dtype=_F32), _empty(shape, dtype=_F32))
        f(None, g[0].data_ptr(), g[1].data_ptr(), *pre, None, *post)
    return g


def _consume(ctx: Any, grad: Tensor) -> Tuple[Tensor, Tensor]:
    """The forward's gradients times the upstream gradient, scaled in place:
    the buffers are this node's own, so a backward allocates nothing."""
    gc, gr = _grads(ctx)
    ctx.g = None
    gc.mul_(grad)
    gr.mul_(grad)
    return gc, gr


def _need(ctx: Any, k: int) -> Tuple[bool, ...]:
    """ctx.needs_input_grad, padded with False to k entries (apply() may be
    given fewer arguments than forward takes)."""
    need = ctx.needs_input_grad
    return need if len(need) >= k else need + (False,) * (k - len(need))


def _pair_forward(ctx: Any, f: Any, fname: str, pc: Tensor, pr: Tensor,
                  rc: Optional[Tensor], rr: Optional[Tensor], params: Tuple[Any, ...],
                  rules: Callable[[], Any]) -> Tensor:
    shape = pc.shape
    if rc is None or rr is None:
        _refs(rc, rr)
        if not (_usable(pc) and _usable(pr) and pr.shape == shape):
            _ptr(pc, "policy_chosen_logps", shape)
            _ptr(pr, "policy_rejected_logps", shape)
        c = d = None
    else:
        if not (_usable(pc) and _usable(pr) and _usable(rc) and _usable(rr)
                and pr.shape == shape and rc.shape == shape and rr.shape == shape):
            _ptr(pc, "policy_chosen_logps", shape)
            _ptr(pr, "policy_rejected_logps", shape)
            _ptr(rc, "ref_chosen_logps", shape)
            _ptr(rr, "ref_rejected_logps", shape)
        c, d = rc.data_ptr(), rr.data_ptr()
    n = pc.numel()
    losses = _empty(shape, dtype=_F32)
    need = _need(ctx, 4)
    if need[0] or need[1] or need[2] or need[3]:
        g = (_empty(shape, dtype=_F32), _empty(shape, dtype=_F32))
        gp, gq = g[0].data_ptr(), g[1].data_ptr()
        st = f(losses.data_ptr(), gp, gq, pc.data_ptr(), pr.data_ptr(), c, d, None, n,
               *params)
    else:
        g = None
        st = f(losses.data_ptr(), None, None, pc.data_ptr(), pr.data_ptr(), c, d, None, n,
               *params)
    if st:
        _lib.check(st, fname, rules)
    ctx.g = g
    ctx.recall = (f, (pc.data_ptr(), pr.data_ptr(), c, d), (n,) + params, shape)
    ctx.save_for_backward(pc, pr, rc, rr)
    return losses


def _pair_backward(ctx: Any, grad: Tensor, dh: Optional[Callable[..., Tensor]],
                   what: str) -> Tuple[Optional[Tensor], ...]:
    """Gradients of a loss of h = (pc - rc) - (pr - rr): (dpc, dpr, drc, drr).
    dh(pc, pr, rc, rr) is PyTorch's dL/dh for second derivatives."""
    pc, pr, rc, rr = ctx.saved_tensors  # PyTorch's in-place check
    need = _need(ctx, 4)
    if _is_grad_enabled():  # create_graph=True
        g = _grads(ctx)
        gl = g[0]
        if dh is not None:
            gt = dh(pc, pr, rc, rr)
            gl = gl + (gt - gt.detach())  # the library's value, PyTorch's derivative
            dc = grad * gl
            return dc, -dc, (-dc if need[2] else None), (dc if need[3] else None)
        dc, dr = grad * g[0], grad * g[1]
        out = (dc, dr, -dc if need[2] else None, -dr if need[3] else None)
        return _no_second_order(what, out, (pc, pr, rc, rr, grad))
    dc, dr = _consume(ctx, grad)
    if need[2] or need[3]:
        return dc, dr, (-dc if need[2] else None), (-dr if need[3] else None)
    return dc, dr, None, None


def _h(pc: Tensor, pr: Tensor, rc: Optional[Tensor], rr: Optional[Tensor]) -> Tensor:
    return (pc - pr) if rc is None else (pc - rc) - (pr - rr)


def _dpo_dh(beta: float, eps: float) -> Callable[..., Tensor]:
    def dh(pc: Tensor, pr: Tensor, rc: Optional[Tensor], rr: Optional[Tensor]) -> Tensor:
        return beta * (_torch.sigmoid(beta * _h(pc, pr, rc, rr)) - (1.0 - eps))
    return dh


def _ipo_dh(beta: float) -> Callable[..., Tensor]:
    def dh(pc: Tensor, pr: Tensor, rc: Optional[Tensor], rr: Optional[Tensor]) -> Tensor:
        return 2.0 * (_h(pc, pr, rc, rr) - 0.5 / beta)
    return dh


def _dpo_recall(ctx: Any) -> Tuple[Any, ...]:
    """The DPO call of a forward, from its saved inputs (see _grads)."""
    pc, pr, rc, rr = ctx.saved_tensors
    return (_dpo_fn(), (pc.data_ptr(), pr.data_ptr(), rc.data_ptr(), rr.data_ptr()),
            (pc.numel(),) + ctx.params, pc.shape)


def _dpo_fn() -> Any:
    """prefloss_dpo_loss of the loaded library (cached until another is loaded)."""
    f = _lib._state.get("dpo")
    if f is None:
        f = _lib._state["dpo"] = _lib.L().prefloss_dpo_loss
    return f


class DPOLoss(_Function):
    """Per-pair DPO loss with autograd:
    ``DPOLoss.apply(pc, pr, rc, rr, beta, label_smoothing)`` (rc, rr may be None)."""

    @staticmethod
    def forward(ctx: Any, pc: Tensor, pr: Tensor, rc: Optional[Tensor] = None,  # type: ignore[override]
                rr: Optional[Tensor] = None, beta: float = 0.1,
                label_smoothing: float = 0.0) -> Tensor:
        ctx.params = (beta, label_smoothing)
        need = ctx.needs_input_grad
        shape = pc.shape
        # The training step's case, inline (at 1,024 pairs each helper call,
        # attribute lookup and allocation here is a measurable part of the
        # step): plain, unnamed float32 CPU contiguous tensors of one shape,
        # gradients for the policy log-probs only. Everything else, and
        # every error message, goes through _pair_forward.
        if (len(need) == 6 and (need[0] or need[1]) and not (need[2] or need[3])
                and type(pc) is Tensor and type(pr) is Tensor and type(rc) is Tensor
                and type(rr) is Tensor and pc.dtype is _F32 and pr.dtype is _F32
                and rc.dtype is _F32 and rr.dtype is _F32
                and pc.is_cpu and pr.is_cpu  # type: ignore[attr-defined]
                and rc.is_cpu and rr.is_cpu  # type: ignore[attr-defined]
                and pc.layout is _STRIDED and pr.layout is _STRIDED
                and rc.layout is _STRIDED and rr.layout is _STRIDED
                and pc.is_contiguous() and pr.is_contiguous()
                and rc.is_contiguous() and rr.is_contiguous()
                and pr.shape == shape and rc.shape == shape
                and rr.shape == shape and not pc.has_names()):
            # empty_like of such a tensor is a contiguous float32 CPU tensor
            # of its shape, as torch.empty(shape, dtype=float32) is, and costs
            # about a quarter less (fewer arguments to parse)
            losses = _empty_like(pc)
            gc = _empty_like(pc)
            gr = _empty_like(pc)
            st = _dpo_fn()(losses.data_ptr(), gc.data_ptr(), gr.data_ptr(), pc.data_ptr(),
                           pr.data_ptr(), rc.data_ptr(), rr.data_ptr(),
                           None, pc.numel(), beta, label_smoothing)
            if st:
                _lib.check(st, "prefloss.torch.dpo_loss",
                           lambda: [("beta", beta, "positive"),
                                    ("label_smoothing", label_smoothing, "eps")])
            ctx.g = (gc, gr)
            ctx.recall = _dpo_recall
            ctx.save_for_backward(pc, pr, rc, rr)
            return losses
        return _pair_forward(ctx, _dpo_fn(), "prefloss.torch.dpo_loss",
                             pc, pr, rc, rr, ctx.params,
                             lambda: [("beta", beta, "positive"),
                                      ("label_smoothing", label_smoothing, "eps")])

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:  # type: ignore[override]
        if _is_grad_enabled():
            return _pair_backward(ctx, grad, _dpo_dh(*ctx.params), "dpo_loss") + (None, None)
        need = ctx.needs_input_grad
        if len(need) == 6 and not (need[2] or need[3]):
            ctx.saved_tensors  # PyTorch's in-place check
            gc, gr = _consume(ctx, grad)
            return gc, gr, None, None, None, None
        return _pair_backward(ctx, grad, None, "dpo_loss") + (None, None)


class IPOLoss(_Function):
    """Per-pair IPO loss (TRL scale) with autograd: ``IPOLoss.apply(pc, pr, rc, rr, beta)``."""

    @staticmethod
    def forward(ctx: Any, pc: Tensor, pr: Tensor, rc: Optional[Tensor] = None,  # type: ignore[override]
                rr: Optional[Tensor] = None, beta: float = 0.1) -> Tensor:
        ctx.params = (beta,)
        return _pair_forward(ctx, _lib.L().prefloss_ipo_loss, "prefloss.torch.ipo_loss",
                             pc, pr, rc, rr, ctx.params, lambda: [("beta", beta, "positive")])

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:  # type: ignore[override]
        dh = _ipo_dh(*ctx.params) if _is_grad_enabled() else None
        return _pair_backward(ctx, grad, dh, "ipo_loss") + (None,)


def dpo_loss(policy_chosen_logps: Tensor, policy_rejected_logps: Tensor,
             ref_chosen_logps: Optional[Tensor] = None,
             ref_rejected_logps: Optional[Tensor] = None, beta: float = 0.1,
             label_smoothing: float = 0.0) -> Tensor:
    """Per-pair DPO losses ``-(1-eps) log sigma(beta h) - eps log sigma(-beta h)``,
    ``h = (pc - rc) - (pr - rr)``: a tensor that backpropagates through
    libprefloss. Replaces ``-F.logsigmoid(beta * logits)`` (cDPO with
    label_smoothing). beta: finite > 0; label_smoothing: in [0, 0.5]."""
    if type(beta) is not float:
        beta = _num(beta, "beta")
    if type(label_smoothing) is not float:
        label_smoothing = _num(label_smoothing, "label_smoothing")
    return DPOLoss.apply(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps,
                         ref_rejected_logps, beta, label_smoothing)


def ipo_loss(policy_chosen_logps: Tensor, policy_rejected_logps: Tensor,
             ref_chosen_logps: Optional[Tensor] = None,
             ref_rejected_logps: Optional[Tensor] = None, beta: float = 0.1) -> Tensor:
    """Per-pair IPO losses ``(h - 1/(2 beta))**2`` (TRL scale) with autograd."""
    return IPOLoss.apply(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps,
                         ref_rejected_logps, _num(beta, "beta"))


# ---------------------------------------------------------------------------
# Bradley–Terry
# ---------------------------------------------------------------------------

class BTLoss(_Function):
    """Per-pair Bradley–Terry loss with autograd w.r.t. both scores and the
    margin: ``BTLoss.apply(rewards_chosen, rewards_rejected, margin, coef)``."""

    @staticmethod
    def forward(ctx: Any, sw: Tensor, sl: Tensor, margin: Optional[Tensor] = None,  # type: ignore[override]
                coef: float = 0.0) -> Tensor:
        shape = sw.shape
        a = _ptr(sw, "rewards_chosen", shape)
        b = _ptr(sl, "rewards_rejected", shape)
        m = _opt_ptr(margin, "margin", shape)
        n = sw.numel()
        losses = _empty(shape, dtype=_F32)
        need = _need(ctx, 3)
        g = None
        f = _lib.L().prefloss_bt_loss
        if need[0] or need[1] or need[2]:
            g = (_empty(shape, dtype=_F32), _empty(shape, dtype=_F32))
            gp, gq = g[0].data_ptr(), g[1].data_ptr()
            st = f(losses.data_ptr(), gp, gq, a, b, m, None, n, coef)
        else:
            st = f(losses.data_ptr(), None, None, a, b, m, None, n, coef)
        if st:
            _lib.check(st, "prefloss.torch.bt_loss",
                       lambda: [("center_rewards_coefficient", coef, "nonneg")])
        ctx.g = g
        ctx.coef = coef
        ctx.save_for_backward(sw, sl, margin)
        return losses

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:  # type: ignore[override]
        sw, sl, margin = ctx.saved_tensors
        need = _need(ctx, 3)
        if _is_grad_enabled():
            g = ctx.g
            d = sw - sl if margin is None else sw - sl - margin
            s = _torch.sigmoid(-d)
            c2 = (2.0 * ctx.coef) * (sw + sl)
            gw, gl = -s + c2, s + c2
            gw = g[0] + (gw - gw.detach())
            gl = g[1] + (gl - gl.detach())
            dw, dl = grad * gw, grad * gl
        else:
            g = ctx.g
            dw, dl = g[0] * grad, g[1] * grad
        dm = (dl - dw) * 0.5 if need[2] else None
        return dw, dl, dm, None


def bt_loss(rewards_chosen: Tensor, rewards_rejected: Tensor, margin: Optional[Tensor] = None,
            center_rewards_coefficient: Optional[float] = 0.0) -> Tensor:
    """Per-pair Bradley–Terry losses ``-log sigma(sw - sl - margin) + c (sw + sl)**2``
    with autograd (the margin gets ``sigma(-(sw - sl - margin))``)."""
    c = 0.0 if center_rewards_coefficient is None else \
        _num(center_rewards_coefficient, "center_rewards_coefficient")
    return BTLoss.apply(rewards_chosen, rewards_rejected, margin, c)


# ---------------------------------------------------------------------------
# Sequence log-probs
# ---------------------------------------------------------------------------

class SequenceLogps(_Function):
    """(batch, seq_len) token log-probs -> (batch,) sequence log-probs
    (masked sum or mean) with autograd: ``SequenceLogps.apply(token_logps,
    mask, reduction)``."""

    @staticmethod
    def forward(ctx: Any, token_logps: Tensor, mask: Optional[Tensor] = None,  # type: ignore[override]
                reduction: Union[str, int] = "sum") -> Tensor:
        if not isinstance(token_logps, Tensor):
            _bad_tensor(token_logps, "token_logps")
        if mask is not None and not isinstance(mask, Tensor):
            raise ArgumentTypeError("mask: prefloss.torch takes torch tensors, got %s"
                                    % type(mask).__name__)
        ctx.red = _losses.reduction_code(reduction)
        seq = _losses.sequence_logps(token_logps.detach(), mask, reduction)
        ctx.save_for_backward(token_logps, mask)
        ctx.shape = tuple(token_logps.shape)
        return seq

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:  # type: ignore[override]
        token_logps, mask = ctx.saved_tensors  # PyTorch's in-place check (the mask too)
        if _is_grad_enabled():  # linear in grad: PyTorch's expression is exact
            m = _torch.ones(ctx.shape, dtype=grad.dtype) if mask is None else mask.to(grad.dtype)
            dt = grad.unsqueeze(-1) * m
            if ctx.red == _lib.REDUCE_MEAN:
                dt = dt / m.sum(-1, keepdim=True).clamp(min=1)
            return dt, None, None
        dt = _losses.sequence_logps_backward(_upstream(grad), mask, ctx.red, seq_len=ctx.shape[1])
        return dt, None, None


def sequence_logps(token_logps: Tensor, mask: Optional[Tensor] = None,
                   reduction: str = "sum") -> Tensor:
    """(batch,) sequence log-probs of (batch, seq_len) token log-probs (masked
    sum, or mean for IPO), with autograd; ``mask`` bool/uint8 or None."""
    return SequenceLogps.apply(token_logps, mask, reduction)


# ---------------------------------------------------------------------------
# The catalogue
# ---------------------------------------------------------------------------

_PARAMS_CACHE: Dict[Tuple[Any, ...], Any] = {}


def _params(values: Tuple[Any, ...]) -> Any:
    """A filled PairParams for these values (None: the library's default),
    cached: the same parameters every step cost one dict lookup."""
    p = _PARAMS_CACHE.get(values)
    if p is None:
        if len(_PARAMS_CACHE) > 256:
            _PARAMS_CACHE.clear()
        p = _losses.make_params(*values)
        _PARAMS_CACHE[values] = p
    return p


def _no_reference(kind: int) -> bool:
    reads = _lib.kind_reads(kind, "reference")
    if reads is not None:
        return not reads
    return _lib.kind_names()[kind] in ("simpo", "cpo")  # libprefloss 1.1


def _given(values: Tuple[Any, ...]) -> Dict[str, Any]:
    return dict(zip(_lib.PAIR_PARAM_NAMES, values))


class _Spec:
    """What a PairLoss / PairLossMix call computes (fixed at forward)."""
    __slots__ = ("kinds", "mix", "params", "values", "what", "dh", "no_ref", "nll")

    def __init__(self, kinds: Sequence[int], mix: Optional[Sequence[float]],
                 values: Tuple[Any, ...], what: str) -> None:
        self.kinds = kinds
        self.mix = mix
        self.values = values
        self.params = _params(values)
        self.what = what
        self.nll = self.params.nll_weight
        names = _lib.kind_names()
        self.no_ref = mix is None and _no_reference(kinds[0])
        self.dh = None
        if mix is None and 0 <= kinds[0] < len(names):
            name = names[kinds[0]]
            beta, eps = self.params.beta, self.params.label_smoothing
            if name == "sigmoid":
                self.dh = lambda h: beta * (_torch.sigmoid(beta * h) - (1.0 - eps))
            elif name == "ipo":
                self.dh = lambda h: 2.0 * (h - 0.5 / beta)


def _catalogue_forward(ctx: Any, need: Tuple[bool, ...], spec: _Spec, pc: Tensor, pr: Tensor,
                       rc: Optional[Tensor], rr: Optional[Tensor], w: Optional[Tensor],
                       mix_grad: bool) -> Tensor:
    """need: needs_input_grad of (pc, pr, rc, rr, w)."""
    shape = pc.shape
    a = _ptr(pc, "policy_chosen_logps", shape)
    b = _ptr(pr, "policy_rejected_logps", shape)
    _refs(rc, rr)
    c = _opt_ptr(rc, "ref_chosen_logps", shape)
    d = _opt_ptr(rr, "ref_rejected_logps", shape)
    wp = _opt_ptr(w, "weights", shape)
    n = pc.numel()
    losses = _empty(shape, dtype=_F32)
    g = None
    pp = _ct.addressof(spec.params)
    if spec.mix is None:
        f = _lib.fn("prefloss_pair_loss")
        tail: Tuple[Any, ...] = (n, spec.kinds[0], pp)
    else:
        f = _lib.fn("prefloss_pair_loss_mix")
        k = len(spec.kinds)
        tail = (n, (_ct.c_int * k)(*spec.kinds) if k else None,
                (_ct.c_float * k)(*spec.mix) if k else None, k, pp)
    if need[0] or need[1] or need[2] or need[3]:
        g = (_empty(shape, dtype=_F32), _empty(shape, dtype=_F32))
        gp, gq = g[0].data_ptr(), g[1].data_ptr()
        st = f(losses.data_ptr(), gp, gq, a, b, c, d, wp, None, *tail)
    else:
        st = f(losses.data_ptr(), None, None, a, b, c, d, wp, None, *tail)
    if st:
        _lib.check(st, spec.what, lambda: _losses.param_rules(
            spec.kinds, _given(spec.values), spec.mix or ()))
    lu = lk = None
    if w is not None and need[4]:  # dL/dw: the loss without the weights
        lu = _empty(shape, dtype=_F32)
        f(lu.data_ptr(), None, None, a, b, c, d, None, None, *tail)
    if mix_grad:  # dL/dmix_k: each kind's (weighted) loss
        lk = _empty((len(spec.kinds),) + tuple(shape), dtype=_F32)
        pl = _lib.fn("prefloss_pair_loss")
        for i, kind in enumerate(spec.kinds):
            pl(lk[i].data_ptr(), None, None, a, b, c, d, wp, None, n, kind, pp)
    ctx.g, ctx.lu, ctx.lk, ctx.spec = g, lu, lk, spec
    ctx.recall = (f, (a, b, c, d, wp), tail, shape)
    ctx.save_for_backward(pc, pr, rc, rr, w)
    return losses


def _catalogue_backward(ctx: Any, need: Tuple[bool, ...],
                        grad: Tensor) -> Tuple[Optional[Tensor], ...]:
    """(dpc, dpr, drc, drr, dw, dmix)."""
    pc, pr, rc, rr, w = ctx.saved_tensors
    spec = ctx.spec
    second = _is_grad_enabled()
    dc = dr = None
    if need[0] or need[1] or need[2] or need[3]:
        if second:
            g = _grads(ctx)
            if spec.dh is not None and not need[4]:
                gt = spec.dh(_h(pc, pr, rc, rr))
                if w is not None:
                    gt = gt * w
                dc = grad * (g[0] + (gt - gt.detach()))
                dr = grad * (g[1] - (gt - gt.detach()))
            else:
                dc, dr = g[0] * grad, g[1] * grad
        else:
            dc, dr = _consume(ctx, grad)
    drc = drr = None
    if (need[2] or need[3]) and not spec.no_ref and dc is not None:
        # the reference enters as minus the policy, except in the NLL term -nll_weight*pc
        if need[2]:
            drc = -dc  # type: ignore[operator]
            if spec.nll != 0.0:
                drc = drc - spec.nll * (grad if w is None else grad * w)
        drr = -dr if need[3] else None  # type: ignore[operator]
    dw = grad * ctx.lu if ctx.lu is not None else None
    dmix = (ctx.lk.reshape(len(spec.kinds), -1) @ grad.reshape(-1).to(_F32)) \
        if ctx.lk is not None else None
    out: Tuple[Optional[Tensor], ...] = (dc, dr, drc, drr, dw, dmix)
    if second and (spec.dh is None or need[4] or dmix is not None):
        out = _no_second_order(spec.what, out, (pc, pr, rc, rr, w, grad))
    return out


def _as_spec(loss_type: Any, mix: Any, values: Tuple[Any, ...], what: str) -> _Spec:
    if isinstance(loss_type, _Spec):
        return loss_type
    if mix is None:
        if isinstance(loss_type, str) and loss_type in _losses.AOT_TYPES:
            raise ParameterError("%s: %r is batch-coupled: use prefloss.torch.pair_loss or "
                                 "AOTLoss" % (what, loss_type))
        return _spec((_losses.loss_kind(loss_type),), None, _values(*values), what)
    kinds, kw, aot = _losses.split_mix(loss_type, mix)
    if aot:
        raise ParameterError("%s: %r is batch-coupled: use prefloss.torch.pair_loss_mix"
                             % (what, aot[0][0]))
    return _spec(tuple(kinds), tuple(kw), _values(*values), what)


class PairLoss(_Function):
    """Per-pair loss of the catalogue with autograd:
    ``PairLoss.apply(loss_type, pc, pr, rc, rr, weights, beta, label_smoothing,
    discopop_tau, alpha, simpo_gamma, bco_delta, nll_weight)`` (every
    argument after pr may be omitted from the end; None takes the library's
    default). ``pair_loss`` is the same with keywords."""

    @staticmethod
    def forward(ctx: Any, loss_type: Any, pc: Tensor, pr: Tensor,  # type: ignore[override]
                rc: Optional[Tensor] = None, rr: Optional[Tensor] = None,
                weights: Optional[Tensor] = None, beta: Optional[float] = None,
                label_smoothing: Optional[float] = None, discopop_tau: Optional[float] = None,
                alpha: Optional[float] = None, simpo_gamma: Optional[float] = None,
                bco_delta: Optional[float] = None, nll_weight: Optional[float] = None) -> Tensor:
        spec = _as_spec(loss_type, None, (beta, label_smoothing, discopop_tau, alpha,
                                          simpo_gamma, bco_delta, nll_weight),
                        "prefloss.torch.pair_loss(%r)" % (loss_type,))
        return _catalogue_forward(ctx, _need(ctx, 6)[1:6], spec, pc, pr, rc, rr,
                                  weights, False)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:  # type: ignore[override]
        out = _catalogue_backward(ctx, _need(ctx, 6)[1:6], grad)
        return (None,) + out[:5] + (None,) * 7


class PairLossMix(_Function):
    """Weighted sum of catalogue losses with autograd:
    ``PairLossMix.apply(loss_types, mix_weights, pc, pr, rc, rr, weights,
    beta, label_smoothing, discopop_tau, alpha, simpo_gamma, bco_delta,
    nll_weight)`` (every argument after pr may be omitted from the end). The
    mixture is fixed at forward time; ``mix_weights`` as a tensor that
    requires grad gets its gradient (each kind's loss times the upstream
    gradient, summed)."""

    @staticmethod
    def forward(ctx: Any, loss_types: Any, mix_weights: Any, pc: Tensor,  # type: ignore[override]
                pr: Tensor, rc: Optional[Tensor] = None, rr: Optional[Tensor] = None,
                weights: Optional[Tensor] = None, beta: Optional[float] = None,
                label_smoothing: Optional[float] = None, discopop_tau: Optional[float] = None,
                alpha: Optional[float] = None, simpo_gamma: Optional[float] = None,
                bco_delta: Optional[float] = None, nll_weight: Optional[float] = None) -> Tensor:
        mix = mix_weights
        if isinstance(mix, Tensor):
            mix = mix.detach()
        spec = _as_spec(loss_types, None if isinstance(loss_types, _Spec) else mix,
                        (beta, label_smoothing, discopop_tau, alpha, simpo_gamma, bco_delta,
                         nll_weight), "prefloss.torch.pair_loss_mix")
        need = _need(ctx, 7)
        ctx.mix_shape = tuple(mix_weights.shape) if isinstance(mix_weights, Tensor) else None
        return _catalogue_forward(ctx, need[2:7], spec, pc, pr, rc, rr, weights, need[1])

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:  # type: ignore[override]
        out = _catalogue_backward(ctx, _need(ctx, 7)[2:7], grad)
        dmix = out[5]
        if dmix is not None and ctx.mix_shape is not None:
            dmix = dmix.reshape(ctx.mix_shape)
        return (None, dmix) + out[:5] + (None,) * 7


class AOTLoss(_Function):
    """AOT ("aot"/"aot_pair", batch-coupled) with autograd:
    ``AOTLoss.apply(paired, pc, pr, rc, rr, beta, label_smoothing)``. The
    backward is one library call with the upstream gradient (the ranks'
    permutations are recomputed). "aot_pair" gives the references minus the
    policy's gradients; "aot" gives them none (refused if they require grad)."""

    @staticmethod
    def forward(ctx: Any, paired: bool, pc: Tensor, pr: Tensor,  # type: ignore[override]
                rc: Optional[Tensor], rr: Optional[Tensor], beta: float,
                label_smoothing: float) -> Tensor:
        shape = pc.shape
        a = _ptr(pc, "policy_chosen_logps", shape)
        b = _ptr(pr, "policy_rejected_logps", shape)
        _refs(rc, rr)
        c = _opt_ptr(rc, "ref_chosen_logps", shape)
        d = _opt_ptr(rr, "ref_rejected_logps", shape)
        need = _need(ctx, 5)
        if not paired and (need[3] or need[4]):
            raise ArgumentError("ref_chosen_logps/ref_rejected_logps require grad, but "
                                "loss_type 'aot' matches sort(rc - rr) by rank and gives the "
                                "references no gradient: detach them (or use 'aot_pair')")
        n = pc.numel()
        losses = _empty(shape, dtype=_F32)
        ws = (_ct.c_size_t * max(2 * n, 1))()
        st = _lib.fn("prefloss_aot_loss")(losses.data_ptr(), None, None, a, b, c, d, None, n,
                                          beta, label_smoothing, 1 if paired else 0, ws)
        if st:
            _lib.check(st, "prefloss.torch.aot_loss",
                       lambda: [("beta", beta, "positive"),
                                ("label_smoothing", label_smoothing, "eps")])
        ctx.params = (beta, label_smoothing, 1 if paired else 0)
        ctx.save_for_backward(pc, pr, rc, rr)
        return losses

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:  # type: ignore[override]
        pc, pr, rc, rr = ctx.saved_tensors
        need = _need(ctx, 5)
        n = pc.numel()
        up = _upstream(grad)
        g = (_empty(pc.shape, dtype=_F32), _empty(pc.shape, dtype=_F32))
        gp, gq = g[0].data_ptr(), g[1].data_ptr()
        ws = (_ct.c_size_t * max(2 * n, 1))()
        with _torch.no_grad():
            st = _lib.fn("prefloss_aot_loss")(
                None, gp, gq, pc.data_ptr(), pr.data_ptr(),
                None if rc is None else rc.data_ptr(), None if rr is None else rr.data_ptr(),
                up.data_ptr(), n, *ctx.params, ws)
        if st < 0:
            _lib.check(st, "prefloss.torch.aot_loss")
        dc, dr = g[0], g[1]
        out: Tuple[Optional[Tensor], ...] = (dc, dr, -dc if need[3] else None,
                                               -dr if need[4] else None)
        if _is_grad_enabled():
            out = _no_second_order("aot_loss", out, (pc, pr, rc, rr, grad))
        return (None,) + out + (None, None)


def aot_loss(policy_chosen_logps: Tensor, policy_rejected_logps: Tensor,
             ref_chosen_logps: Optional[Tensor] = None,
             ref_rejected_logps: Optional[Tensor] = None, beta: Optional[float] = None,
             label_smoothing: Optional[float] = None, loss_type: str = "aot") -> Tensor:
    """AOT losses (TRL loss_type "aot" or "aot_pair"), one per rank, with
    autograd (see ``prefloss.aot_loss``). beta, label_smoothing: None takes
    the library's default."""
    if loss_type not in _losses.AOT_TYPES:
        raise ParameterError('loss_type must be "aot" or "aot_pair", got %r' % (loss_type,))
    d = _lib.pair_param_defaults()
    return AOTLoss.apply(loss_type == "aot_pair", policy_chosen_logps, policy_rejected_logps,
                         ref_chosen_logps, ref_rejected_logps,
                         d["beta"] if beta is None else _num(beta, "beta"),
                         d["label_smoothing"] if label_smoothing is None
                         else _num(label_smoothing, "label_smoothing"))


_SPECS: Dict[Tuple[Any, ...], _Spec] = {}


def _spec(kinds: Tuple[int, ...], mix: Optional[Tuple[float, ...]], values: Tuple[Any, ...],
          what: str) -> _Spec:
    key = (kinds, mix, values)
    s = _SPECS.get(key)
    if s is None:
        if len(_SPECS) > 256:
            _SPECS.clear()
        for name, v in zip(_lib.PAIR_PARAM_NAMES, values):
            if v is not None:
                _num(v, name)
        s = _SPECS[key] = _Spec(kinds, mix, values, what)
    return s


def _values(beta: Any, label_smoothing: Any, discopop_tau: Any, alpha: Any, simpo_gamma: Any,
            bco_delta: Any, nll_weight: Any) -> Tuple[Any, ...]:
    vals = (beta, label_smoothing, discopop_tau, alpha, simpo_gamma, bco_delta, nll_weight)
    for name, v in zip(_lib.PAIR_PARAM_NAMES, vals):
        if v is not None and type(v) is not float and type(v) is not int:
            return tuple(None if x is None else _num(x, n)
                         for n, x in zip(_lib.PAIR_PARAM_NAMES, vals))
    return vals


def pair_loss(loss_type: Union[str, int], policy_chosen_logps: Tensor,
              policy_rejected_logps: Tensor, ref_chosen_logps: Optional[Tensor] = None,
              ref_rejected_logps: Optional[Tensor] = None, weights: Optional[Tensor] = None,
              *, beta: Optional[float] = None, label_smoothing: Optional[float] = None,
              discopop_tau: Optional[float] = None, alpha: Optional[float] = None,
              simpo_gamma: Optional[float] = None, bco_delta: Optional[float] = None,
              nll_weight: Optional[float] = None) -> Tensor:
    """Per-pair losses of any TRL ``loss_type`` (``prefloss.loss_types()``,
    "aot"/"aot_pair" included) with autograd for every input that requires
    grad. Parameters as ``prefloss.pair_loss``; None takes the library's
    default. ``nll_weight`` adds ``-nll_weight * policy_chosen_logps`` (RPO)."""
    vals = _values(beta, label_smoothing, discopop_tau, alpha, simpo_gamma, bco_delta,
                   nll_weight)
    if type(loss_type) is str and loss_type in _losses.AOT_TYPES:
        if weights is not None:
            raise ArgumentError("weights: %r is batch-coupled (rank-matched over the batch); "
                                "it takes no per-pair weights" % loss_type)
        if nll_weight:
            raise ParameterError("nll_weight must be 0 for loss_type %r, got %r"
                                 % (loss_type, nll_weight))
        return aot_loss(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps,
                        ref_rejected_logps, beta, label_smoothing, loss_type)
    kind = _lib.kind_index().get(loss_type) if type(loss_type) is str else None
    if kind is None:
        kind = _losses.loss_kind(loss_type)
    spec = _spec((kind,), None, vals, "prefloss.torch.pair_loss(%r)" % (loss_type,))
    return PairLoss.apply(spec, policy_chosen_logps, policy_rejected_logps, ref_chosen_logps,
                          ref_rejected_logps, weights)


def pair_loss_mix(loss_types: Sequence[Union[str, int]], mix_weights: Any,
                  policy_chosen_logps: Tensor, policy_rejected_logps: Tensor,
                  ref_chosen_logps: Optional[Tensor] = None,
                  ref_rejected_logps: Optional[Tensor] = None, weights: Optional[Tensor] = None,
                  *, beta: Optional[float] = None, label_smoothing: Optional[float] = None,
                  discopop_tau: Optional[float] = None, alpha: Optional[float] = None,
                  simpo_gamma: Optional[float] = None, bco_delta: Optional[float] = None,
                  nll_weight: Optional[float] = None) -> Tensor:
    """Weighted sum of losses (``prefloss.pair_loss_mix``) with autograd: the
    catalogue kinds in one library call, "aot"/"aot_pair" terms added.
    ``mix_weights``: numbers, or a tensor (that gets its gradient when it
    requires grad)."""
    mw_tensor = mix_weights if isinstance(mix_weights, Tensor) else None
    mix = mix_weights.detach().tolist() if mw_tensor is not None else mix_weights
    kinds, kw, aot = _losses.split_mix(loss_types, mix)
    vals = _values(beta, label_smoothing, discopop_tau, alpha, simpo_gamma, bco_delta,
                   nll_weight)
    if aot and weights is not None:
        raise ArgumentError("weights: %r is batch-coupled (rank-matched over the batch); it "
                            "takes no per-pair weights" % aot[0][0])
    spec = _spec(tuple(kinds), tuple(kw), vals, "prefloss.torch.pair_loss_mix")
    types = list(loss_types)
    cat = [i for i, t in enumerate(types) if not (isinstance(t, str) and t in _losses.AOT_TYPES)]
    mw_cat = mw_tensor[cat] if mw_tensor is not None and len(cat) != len(types) else mw_tensor
    if not aot:
        return PairLossMix.apply(spec, mw_cat, policy_chosen_logps, policy_rejected_logps,
                                 ref_chosen_logps, ref_rejected_logps, weights)
    with _warnings.catch_warnings(record=True) as caught:  # one warning for the call
        _warnings.simplefilter("always", NonFiniteWarning)
        losses = PairLossMix.apply(spec, mw_cat, policy_chosen_logps, policy_rejected_logps,
                                   ref_chosen_logps, ref_rejected_logps, weights)
        for i, t in enumerate(types):
            if isinstance(t, str) and t in _losses.AOT_TYPES:
                m = mw_tensor[i] if mw_tensor is not None else mix[i]
                losses = losses + m * aot_loss(policy_chosen_logps, policy_rejected_logps,
                                               ref_chosen_logps, ref_rejected_logps,
                                               spec.params.beta, spec.params.label_smoothing, t)
    for w in caught:
        if not issubclass(w.category, NonFiniteWarning):
            _warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if any(issubclass(w.category, NonFiniteWarning) for w in caught):
        _warnings.warn("prefloss.torch.pair_loss_mix: %s" % _lib.strerror(_lib.NONFINITE),
                       NonFiniteWarning, stacklevel=2)
    return losses


# ---------------------------------------------------------------------------
# ORPO, KTO
# ---------------------------------------------------------------------------

class ORPOLoss(_Function):
    """Per-pair ORPO loss with autograd: ``ORPOLoss.apply(pc, pr, beta, nll_weight)``."""

    @staticmethod
    def forward(ctx: Any, pc: Tensor, pr: Tensor, beta: float = 0.1,  # type: ignore[override]
                nll_weight: float = 1.0) -> Tensor:
        shape = pc.shape
        a = _ptr(pc, "policy_chosen_logps", shape)
        b = _ptr(pr, "policy_rejected_logps", shape)
        n = pc.numel()
        losses = _empty(shape, dtype=_F32)
        g = (_empty(shape, dtype=_F32), _empty(shape, dtype=_F32))
        gp, gq = g[0].data_ptr(), g[1].data_ptr()
        f = _lib.fn("prefloss_orpo_loss")
        st = f(losses.data_ptr(), gp, gq, a, b, None, n, beta, nll_weight)
        if st:
            _lib.check(st, "prefloss.torch.orpo_loss",
                       lambda: [("beta", beta, "nonneg"), ("nll_weight", nll_weight, "finite")])
        ctx.g = g
        ctx.save_for_backward(pc, pr)
        return losses

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:  # type: ignore[override]
        pc, pr = ctx.saved_tensors
        if _is_grad_enabled():
            g = ctx.g
            out = _no_second_order("orpo_loss", (grad * g[0], grad * g[1]), (pc, pr, grad))
        else:
            g = ctx.g
            out = (g[0] * grad, g[1] * grad)
        return out + (None, None)


def orpo_loss(policy_chosen_logps: Tensor, policy_rejected_logps: Tensor, beta: float = 0.1,
              nll_weight: float = 1.0) -> Tensor:
    """Per-pair ORPO losses on mean log-probs (``prefloss.orpo_loss``) with autograd."""
    return ORPOLoss.apply(policy_chosen_logps, policy_rejected_logps, _num(beta, "beta"),
                          _num(nll_weight, "nll_weight"))


class KTOLoss(_Function):
    """Per-sample KTO loss with autograd w.r.t. the policy and reference
    log-probs, and ``kl`` when it is a tensor that requires grad (the loss
    depends on u - kl: its gradient is minus the sum of the policy's):
    ``KTOLoss.apply(policy, reference, desirable, beta, kl,
    desirable_weight, undesirable_weight)``."""

    @staticmethod
    def forward(ctx: Any, policy: Tensor, reference: Optional[Tensor] = None,  # type: ignore[override]
                desirable: Optional[Tensor] = None, beta: float = 0.1, kl: Any = 0.0,
                dw: float = 1.0, uw: float = 1.0) -> Tensor:
        shape = policy.shape
        _ptr(policy, "policy_logps", shape)
        _opt_ptr(reference, "reference_logps", shape)
        if desirable is not None and not isinstance(desirable, Tensor):
            raise ArgumentTypeError("desirable: prefloss.torch takes torch tensors, got %s"
                                    % type(desirable).__name__)
        need = _need(ctx, 5)
        ctx.kl_shape = None
        if isinstance(kl, Tensor):
            ctx.kl_shape = tuple(kl.shape)
            kl = _num(kl.detach(), "kl")
        losses, g = _losses.kto_loss(policy.detach(),
                                     None if reference is None else reference.detach(),
                                     desirable, beta, kl, dw, uw,
                                     _want=(True, need[0] or need[1] or need[4]))
        ctx.g = g
        ctx.save_for_backward(policy, reference, desirable)
        return losses

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Any:  # type: ignore[override]
        policy, reference, desirable = ctx.saved_tensors
        need = _need(ctx, 5)
        dp = ctx.g * grad
        dkl = -dp.sum().reshape(ctx.kl_shape) if need[4] else None
        out: Tuple[Optional[Tensor], ...] = (dp, -dp if need[1] else None, dkl)
        if _is_grad_enabled():
            out = _no_second_order("kto_loss", out, (policy, reference, grad))
        return out[:2] + (None, None, out[2], None, None)


def kto_loss(policy_logps: Tensor, reference_logps: Optional[Tensor] = None,
             desirable: Optional[Tensor] = None, beta: float = 0.1, kl: Any = 0.0,
             desirable_weight: float = 1.0, undesirable_weight: float = 1.0) -> Tensor:
    """Per-sample KTO losses (``prefloss.kto_loss``) with autograd;
    ``desirable`` a bool/uint8 tensor; ``kl`` a float or a one-element tensor
    (TRL detaches it; one that requires grad gets its gradient)."""
    if not isinstance(kl, Tensor):
        kl = _num(kl, "kl")
    elif kl.numel() != 1:
        raise ArgumentTypeError("kl must be a number or a one-element tensor, got shape %s"
                                % (tuple(kl.shape),))
    return KTOLoss.apply(policy_logps, reference_logps, desirable, _num(beta, "beta"),
                         kl, _num(desirable_weight, "desirable_weight"),
                         _num(undesirable_weight, "undesirable_weight"))


# The token stage's autograd form (python/prefloss/logits.py): any catalogue
# loss straight from the logits, whose backward fills the logits' gradient.
from .logits import pair_loss_from_logits  # noqa: E402
