"""The losses on plain buffers (NumPy arrays, CPU tensors, array.array('f'),
lists): each function returns its outputs in the kind it was given. These
functions do not track autograd; ``prefloss.torch`` holds the autograd forms.
"""
import ctypes as _ct
import sys as _sys
from typing import Any, List, Optional, Sequence, Tuple, Union

from . import _lib
from ._buffers import (_Buf, _addr, _float_buf, _inputs, _kind_of, _list_shape, _mask_buf,
                       _new_like, _outputs, _result, bump_versions)
from ._errors import ArgumentError, ArgumentTypeError, ParameterError
from ._lib import check as _check, number as _num

__all__ = [
    "dpo_loss", "ipo_loss", "ipo_general_loss", "bt_loss", "rewards",
    "sequence_logps", "sequence_logps_backward", "pair_loss", "pair_loss_mix",
    "bco_update_delta", "loss_types", "orpo_loss", "kto_loss", "kto_kl", "aot_loss",
    "sequence_logps_ld", "sequence_logps_ld_backward",
]

#: The batch-coupled loss types (their own entry point, prefloss_aot_loss).
AOT_TYPES = ("aot", "aot_pair")

Buffer = Any  # a float32 NumPy array, CPU tensor, array.array('f') or a list
Outputs = Tuple[Any, ...]
LossType = Union[str, int]

_REDUCTIONS = {"sum": _lib.REDUCE_SUM, "mean": _lib.REDUCE_MEAN}


def _pairwise(cfunc: str, out_names: Sequence[str], args: Sequence[Tuple[str, Any]],
              params: Sequence[float], rules: Any, out: Any, want: Any = None) -> Outputs:
    bufs = _inputs(args)
    proto = bufs[0]
    outs = _outputs(proto, out, out_names, want)
    status = getattr(_lib.L(), cfunc)(*([_addr(o) for o in outs] + [_addr(b) for b in bufs]
                                        + [proto.n] + list(params)))
    _check(status, cfunc, rules)
    bump_versions(out)
    return tuple(None if o is None else _result(o) for o in outs)


_LOSS_OUT = ("losses", "grad_chosen", "grad_rejected")


def dpo_loss(policy_chosen_logps: Buffer, policy_rejected_logps: Buffer,
             ref_chosen_logps: Optional[Buffer] = None,
             ref_rejected_logps: Optional[Buffer] = None, beta: float = 0.1,
             label_smoothing: float = 0.0, *, dlosses: Optional[Buffer] = None,
             out: Optional[Sequence[Any]] = None, _want: Any = None) -> Outputs:
    """DPO loss (TRL loss_type="sigmoid"), cDPO with label_smoothing > 0.

    With h = (pc - rc) - (pr - rr) and z = beta*h:
    ``loss = -(1-eps) log sigma(z) - eps log sigma(-z)``. Reference-free when
    both reference arguments are None.

    Returns ``(losses, grad_chosen, grad_rejected)``: the per-pair losses and
    their gradients w.r.t. the policy log-probs, multiplied by ``dlosses``
    (the upstream gradient dTotal/dloss_i; None means ones). ``out`` may give
    the three output buffers (same kind and shape; None entries are
    allocated; a tensor that requires grad is refused).

    beta: finite > 0; label_smoothing: in [0, 0.5]."""
    b, e = _num(beta, "beta"), _num(label_smoothing, "label_smoothing")
    return _pairwise("prefloss_dpo_loss", _LOSS_OUT,
                     [("policy_chosen_logps", policy_chosen_logps),
                      ("policy_rejected_logps", policy_rejected_logps),
                      ("ref_chosen_logps", ref_chosen_logps),
                      ("ref_rejected_logps", ref_rejected_logps),
                      ("dlosses", dlosses)],
                     [b, e], lambda: [("beta", beta, "positive"),
                                      ("label_smoothing", label_smoothing, "eps")], out, _want)


def ipo_loss(policy_chosen_logps: Buffer, policy_rejected_logps: Buffer,
             ref_chosen_logps: Optional[Buffer] = None,
             ref_rejected_logps: Optional[Buffer] = None, beta: float = 0.1, *,
             dlosses: Optional[Buffer] = None, out: Optional[Sequence[Any]] = None,
             _want: Any = None) -> Outputs:
    """IPO loss in TRL's scale: ``loss = (h - 1/(2 beta))**2`` (beta finite > 0).

    TRL feeds IPO the mean token log-prob of each response (see
    ``sequence_logps(..., reduction="mean")``). Returns
    ``(losses, grad_chosen, grad_rejected)`` as ``dpo_loss``."""
    b = _num(beta, "beta")
    return _pairwise("prefloss_ipo_loss", _LOSS_OUT,
                     [("policy_chosen_logps", policy_chosen_logps),
                      ("policy_rejected_logps", policy_rejected_logps),
                      ("ref_chosen_logps", ref_chosen_logps),
                      ("ref_rejected_logps", ref_rejected_logps),
                      ("dlosses", dlosses)],
                     [b], lambda: [("beta", beta, "positive")], out, _want)


def ipo_general_loss(policy_chosen_logps: Buffer, policy_rejected_logps: Buffer,
                     ref_chosen_logps: Optional[Buffer] = None,
                     ref_rejected_logps: Optional[Buffer] = None, beta: float = 0.1,
                     alpha1: float = 0.0, alpha2: float = 1.0, *,
                     dlosses: Optional[Buffer] = None, out: Optional[Sequence[Any]] = None,
                     _want: Any = None) -> Outputs:
    """IPO in the derivation's general form, for a preference degree in
    [alpha1, alpha2]: ``loss = (beta*h - (alpha2 - alpha1)/2)**2`` (the
    target is the half-width of the range; alpha1 <= alpha2, both finite,
    their difference finite). The paper's choice alpha1=0, alpha2=1 is
    ``beta**2 * ipo_loss``. Returns ``(losses, grad_chosen, grad_rejected)``."""
    b, a1, a2 = _num(beta, "beta"), _num(alpha1, "alpha1"), _num(alpha2, "alpha2")

    def rules() -> List[Tuple[str, Any, str]]:
        r = [("beta", beta, "positive"), ("alpha1", alpha1, "finite"),
             ("alpha2", alpha2, "finite")]
        f1, f2 = _lib.f32(a1), _lib.f32(a2)
        if _lib.RULES["finite"][0](f1) and _lib.RULES["finite"][0](f2):
            if f1 > f2:
                r.append(("alpha2 - alpha1 (alpha1 <= alpha2)", a2 - a1, "nonneg"))
            else:
                r.append(("alpha2 - alpha1", _lib.f32(f2 - f1), "finite"))
        return r
    return _pairwise("prefloss_ipo_general_loss", _LOSS_OUT,
                     [("policy_chosen_logps", policy_chosen_logps),
                      ("policy_rejected_logps", policy_rejected_logps),
                      ("ref_chosen_logps", ref_chosen_logps),
                      ("ref_rejected_logps", ref_rejected_logps),
                      ("dlosses", dlosses)],
                     [b, a1, a2], rules, out, _want)


def bt_loss(rewards_chosen: Buffer, rewards_rejected: Buffer, margin: Optional[Buffer] = None,
            center_rewards_coefficient: Optional[float] = 0.0, *,
            dlosses: Optional[Buffer] = None, out: Optional[Sequence[Any]] = None,
            _want: Any = None) -> Outputs:
    """Bradley–Terry reward-model loss (TRL RewardTrainer):
    ``loss = -log sigma(rewards_chosen - rewards_rejected - margin)
    + center_rewards_coefficient * (rewards_chosen + rewards_rejected)**2``
    (coefficient finite >= 0; None means 0).

    Returns ``(losses, grad_chosen, grad_rejected)``: gradients w.r.t. the two
    scores, multiplied by ``dlosses``."""
    if center_rewards_coefficient is None:
        center_rewards_coefficient = 0.0
    c = _num(center_rewards_coefficient, "center_rewards_coefficient")
    return _pairwise("prefloss_bt_loss", _LOSS_OUT,
                     [("rewards_chosen", rewards_chosen),
                      ("rewards_rejected", rewards_rejected),
                      ("margin", margin), ("dlosses", dlosses)],
                     [c], lambda: [("center_rewards_coefficient", center_rewards_coefficient,
                                    "nonneg")], out, _want)


def rewards(policy_chosen_logps: Buffer, policy_rejected_logps: Buffer,
            ref_chosen_logps: Optional[Buffer] = None,
            ref_rejected_logps: Optional[Buffer] = None, beta: float = 0.1, *,
            out: Optional[Sequence[Any]] = None) -> Outputs:
    """The implicit rewards trainers log. Returns ``(chosen_rewards,
    rejected_rewards, margins, accuracies)``: ``beta*(pc - rc)``,
    ``beta*(pr - rr)``, their difference, and 1.0/0.0 for
    ``(pc - rc) > (pr - rr)`` — each exact for the float inputs, rounded once."""
    b = _num(beta, "beta")
    return _pairwise("prefloss_rewards",
                     ("chosen_rewards", "rejected_rewards", "margins", "accuracies"),
                     [("policy_chosen_logps", policy_chosen_logps),
                      ("policy_rejected_logps", policy_rejected_logps),
                      ("ref_chosen_logps", ref_chosen_logps),
                      ("ref_rejected_logps", ref_rejected_logps)],
                     [b], lambda: [("beta", beta, "positive")], out)


def reduction_code(reduction: Union[str, int]) -> int:
    if isinstance(reduction, str):
        if reduction in _REDUCTIONS:
            return _REDUCTIONS[reduction]
        raise ParameterError("reduction must be 'sum' or 'mean', got %r" % (reduction,))
    if isinstance(reduction, int) and not isinstance(reduction, bool):
        return reduction  # a library code; an unknown one gives ERR_PARAM
    raise ArgumentTypeError("reduction must be 'sum' or 'mean', got %s %r"
                            % (type(reduction).__name__, reduction))


def _reduction_rules(reduction: Any) -> Any:
    return lambda: [("reduction", reduction, "unit")]


def _seq_len(seq_len: Any) -> Optional[int]:
    if seq_len is None:
        return None
    if isinstance(seq_len, bool) or not hasattr(seq_len, "__index__"):
        raise ArgumentTypeError("seq_len must be an int, got %s %r"
                                % (type(seq_len).__name__, seq_len))
    v = seq_len.__index__()
    if v < 0:
        raise ParameterError("seq_len must be an int >= 0, got %r" % (seq_len,))
    return v


def _bt_shape(b: _Buf, seq_len: Optional[int], name: str) -> Tuple[int, int]:
    """(batch, seq_len) of a token buffer: 2-D arrays carry it; a flat
    array.array or list needs seq_len."""
    if len(b.shape) == 2:
        if seq_len is not None and seq_len != b.shape[1]:
            raise ArgumentError("seq_len=%d but %s has shape %s" % (seq_len, name, b.shape))
        return b.shape
    if len(b.shape) == 1 and seq_len is not None:
        if seq_len <= 0 or b.n % seq_len:
            raise ArgumentError("%s has %d elements, not a multiple of seq_len=%d"
                                % (name, b.n, seq_len))
        return (b.n // seq_len, seq_len)
    raise ArgumentError("%s must be 2-D (batch, seq_len), got shape %s (a flat buffer "
                        "needs seq_len=)" % (name, b.shape))


def sequence_logps(token_logps: Buffer, mask: Any = None, reduction: Union[str, int] = "sum",
                   *, seq_len: Optional[int] = None, out: Any = None) -> Any:
    """Sequence log-probs of a (batch, seq_len) buffer of per-token log-probs:
    the masked sum of each row (``reduction="sum"``, DPO) or that sum divided
    by the row's token count (``"mean"``, IPO in TRL; 0 for an empty row).

    ``mask``: bool or uint8 of the same kind and shape (a token counts when
    non-zero), None for all tokens. A flat ``array.array('f')`` needs
    ``seq_len``. Returns the (batch,) values."""
    red = reduction_code(reduction)
    seq_len = _seq_len(seq_len)
    b = _float_buf(token_logps, "token_logps")
    batch, T = _bt_shape(b, seq_len, "token_logps")
    maddr, mkeep = (None, None) if mask is None else \
        _mask_buf(mask, "mask", b.kind, b.shape)
    o = _outputs(_new_like(b, (batch,)), None if out is None else (out,), ("seq_logps",))[0]
    status = _lib.L().prefloss_sequence_logps(o.addr, b.addr, maddr, batch, T, red)
    _check(status, "prefloss_sequence_logps", _reduction_rules(reduction))
    bump_versions(None if out is None else (out,))
    del mkeep
    return _result(o)


def _mask_shape(mask: Any) -> Tuple[int, ...]:
    mk = _kind_of(mask)
    if mk in ("numpy", "torch"):
        return tuple(mask.shape)
    if mk == "list":
        return _list_shape(mask, "mask", allow_bool=True)
    if mk == "array" or isinstance(mask, (bytes, bytearray)):
        return (len(mask),)
    raise ArgumentTypeError("mask: expected a bool/uint8 array, tensor, bytes or list, got %s"
                            % type(mask).__name__)


def sequence_logps_backward(dseq_logps: Buffer, mask: Any = None,
                            reduction: Union[str, int] = "sum", *,
                            seq_len: Optional[int] = None, out: Any = None) -> Any:
    """Backward of ``sequence_logps``: the gradient w.r.t. each token,
    ``mask * dseq_logps[b]`` (divided by the row's token count for "mean").
    The (batch, seq_len) shape comes from ``mask`` or from ``seq_len``."""
    red = reduction_code(reduction)
    seq_len = _seq_len(seq_len)
    d = _float_buf(dseq_logps, "dseq_logps")
    if len(d.shape) != 1:
        raise ArgumentError("dseq_logps must be 1-D (batch,), got shape %s" % (d.shape,))
    batch = d.n
    if mask is not None:
        mshape = _mask_shape(mask)
        if len(mshape) == 2:
            T = mshape[1]
            if seq_len is not None and seq_len != T:
                raise ArgumentError("seq_len=%d but mask has shape %s" % (seq_len, mshape))
            tshape: Tuple[int, ...] = (batch, T)
        elif len(mshape) == 1 and seq_len is not None and seq_len > 0:
            T = seq_len
            tshape = (batch * T,)
        else:
            raise ArgumentError("mask must be 2-D (batch, seq_len), or flat with seq_len=; "
                                "got shape %s" % (mshape,))
        maddr, mkeep = _mask_buf(mask, "mask", d.kind, tshape)
    else:
        if seq_len is None:
            raise ArgumentError("without a mask, seq_len (tokens per row) is needed")
        T = seq_len
        maddr, mkeep = None, None
    oshape = (batch * T,) if d.kind == "array" else (batch, T)
    o = _outputs(_new_like(d, oshape), None if out is None else (out,), ("dtoken_logps",))[0]
    status = _lib.L().prefloss_sequence_logps_backward(o.addr, d.addr, maddr, batch, T, red)
    _check(status, "prefloss_sequence_logps_backward", _reduction_rules(reduction))
    bump_versions(None if out is None else (out,))
    del mkeep
    return _result(o)


# ---------------------------------------------------------------------------
# The loss catalogue (libprefloss >= 1.1)
# ---------------------------------------------------------------------------

def loss_types() -> List[str]:
    """Every TRL ``loss_type`` name ``pair_loss`` takes: the library's
    catalogue (``loss_types()[k]`` is the name of kind ``k``, read from
    ``prefloss_loss_kind_name``), then the batch-coupled "aot" and
    "aot_pair" (routed to ``aot_loss``)."""
    return list(_lib.kind_names()) + list(AOT_TYPES)


def loss_kind(loss_type: LossType) -> int:
    """A TRL loss_type name or a PREFLOSS_LOSS_* integer -> the kind.

    An unknown name raises ParameterError listing the valid ones; an integer
    is passed through as it is (an unknown kind is the library's
    PREFLOSS_ERR_PARAM, also a ParameterError)."""
    if isinstance(loss_type, str):
        k = _lib.kind_index().get(loss_type)
        if k is None:
            raise ParameterError("loss_type must be one of %s, got %r"
                                 % (", ".join(loss_types()), loss_type))
        return k
    if isinstance(loss_type, bool):
        raise ArgumentTypeError("loss_type must be a name (str) or a kind (int), got bool")
    try:
        kind = loss_type.__index__()
    except AttributeError:
        raise ArgumentTypeError("loss_type must be a name (str) or a kind (int), got %s"
                                % type(loss_type).__name__) from None
    # outside C int: no such kind either (the library says so for the value -1)
    return kind if -2 ** 31 <= kind < 2 ** 31 else -1


def param_rules(kinds: Sequence[int], given: dict,
                mix_weights: Sequence[float] = ()) -> List[Tuple[str, Any, str]]:
    """The parameters the catalogue kinds check, with their rules (for the
    message of a PREFLOSS_ERR_PARAM)."""
    names = _lib.kind_names()
    for kind in kinds:
        if not 0 <= kind < len(names):
            raise ParameterError("loss_type: unknown kind %d; the kinds are 0..%d (%s) "
                                 "(PREFLOSS_ERR_PARAM: %s)"
                                 % (kind, len(names) - 1, ", ".join(names),
                                    _lib.strerror(_lib.ERR_PARAM)),
                                 _lib.ERR_PARAM, "PREFLOSS_ERR_PARAM")
    r = [("beta", given["beta"], "positive")]
    if kinds and _lib.kind_reads(kinds[0], "beta") is not None:
        # libprefloss >= 1.2 says which parameters each kind reads
        def reads(field: str) -> bool:
            return any(_lib.kind_reads(k, field) for k in kinds)
        if reads("label_smoothing<1/2"):
            r.append(("label_smoothing", given["label_smoothing"], "eps_open"))
        if reads("label_smoothing"):
            r.append(("label_smoothing", given["label_smoothing"], "eps"))
        for field, rule in (("discopop_tau", "tau"), ("alpha", "positive"),
                            ("simpo_gamma", "finite"), ("bco_delta", "finite"),
                            ("nll_weight", "finite")):
            if reads(field):
                r.append((field, given[field], rule))
    else:  # libprefloss 1.1: its documented table
        used = {names[k] for k in kinds}
        if used & {"sigmoid", "exo_pair", "js_divergence", "alpha_divergence", "simpo",
                   "cpo"}:
            r.append(("label_smoothing", given["label_smoothing"], "eps"))
        if "robust" in used:
            r.append(("label_smoothing", given["label_smoothing"], "eps_open"))
        if "discopop" in used:
            r.append(("discopop_tau", given["discopop_tau"], "tau"))
        if "alpha_divergence" in used:
            r.append(("alpha", given["alpha"], "positive"))
        if "simpo" in used:
            r.append(("simpo_gamma", given["simpo_gamma"], "finite"))
        if "bco_pair" in used:
            r.append(("bco_delta", given["bco_delta"], "finite"))
        r.append(("nll_weight", given["nll_weight"], "finite"))
    r.extend(("mix_weights[%d]" % i, w, "finite") for i, w in enumerate(mix_weights))
    return [(n, _lib.pair_param_defaults()[n] if v is None and n in given else v, rule)
            for n, v, rule in r]


def make_params(beta: Any = None, label_smoothing: Any = None, discopop_tau: Any = None,
                alpha: Any = None, simpo_gamma: Any = None, bco_delta: Any = None,
                nll_weight: Any = None) -> _lib.PairParams:
    """A filled parameter block: the library's defaults
    (``prefloss_pair_params_init``), then each value that is not None."""
    p = _lib.PairParams()
    _check(_lib.fn("prefloss_pair_params_init")(_ct.byref(p), _ct.sizeof(p)),
           "prefloss_pair_params_init")
    for name, v in zip(_lib.PAIR_PARAM_NAMES, (beta, label_smoothing, discopop_tau, alpha,
                                               simpo_gamma, bco_delta, nll_weight)):
        if v is not None:  # None keeps the library's default
            setattr(p, name, _num(v, name))
    return p


def _given(beta: Any, label_smoothing: Any, discopop_tau: Any, alpha: Any, simpo_gamma: Any,
           bco_delta: Any, nll_weight: Any) -> dict:
    return dict(beta=beta, label_smoothing=label_smoothing, discopop_tau=discopop_tau,
                alpha=alpha, simpo_gamma=simpo_gamma, bco_delta=bco_delta,
                nll_weight=nll_weight)


def pair_loss(loss_type: LossType, policy_chosen_logps: Buffer, policy_rejected_logps: Buffer,
              ref_chosen_logps: Optional[Buffer] = None,
              ref_rejected_logps: Optional[Buffer] = None, beta: Optional[float] = None,
              label_smoothing: Optional[float] = None, weights: Optional[Buffer] = None,
              dlosses: Optional[Buffer] = None, discopop_tau: Optional[float] = None,
              alpha: Optional[float] = None, simpo_gamma: Optional[float] = None,
              bco_delta: Optional[float] = None, out: Any = None, _want: Any = None, *,
              nll_weight: Optional[float] = None) -> Outputs:
    """Any pairwise loss by TRL's ``loss_type`` name (see ``loss_types()``:
    "sigmoid", "ipo", "hinge", "robust", "exo_pair", "nca_pair", "bco_pair",
    "sppo_hard", "apo_zero", "apo_down", "discopop", "js_divergence",
    "alpha_divergence", "simpo", "cpo", and the batch-coupled "aot",
    "aot_pair", which go to ``aot_loss``) or by its PREFLOSS_LOSS_* kind.

    Each kind reads only the parameters it uses; a parameter left None takes
    the library's default (``prefloss.pair_param_defaults()``, TRL's: beta
    0.1, label_smoothing 0, discopop_tau 0.05, alpha 1, simpo_gamma 0.5,
    bco_delta 0, nll_weight 0). ``beta`` (all; finite > 0),
    ``label_smoothing`` (sigmoid, exo_pair -- where 0 means 1e-3 as in TRL --,
    js_divergence, alpha_divergence, simpo, cpo, aot: in [0, 0.5]; robust: in
    [0, 0.5)), ``discopop_tau`` (in (0, 1]), ``alpha`` (alpha_divergence,
    finite > 0), ``simpo_gamma`` (finite), ``bco_delta`` (bco_pair: the running
    mean of rewards, see ``bco_update_delta``), ``nll_weight`` (every kind but
    aot: adds ``-nll_weight * policy_chosen_logps``, RPO's rpo_alpha or the
    SFT term of CPO/SimPO; finite, default 0). "simpo" and "cpo" ignore the
    references (pass mean log-probs to simpo, as TRL's CPOTrainer).

    ``weights`` (optional, per pair) scales every output of the pair (a
    non-finite weight makes the pair NaN, with a NonFiniteWarning);
    ``dlosses`` is the upstream gradient (None means ones).

    Returns ``(losses, grad_chosen, grad_rejected)`` in the kind of the
    inputs: ``w*L``, ``w*dlosses*dL/dpc``, ``w*dlosses*dL/dpr``. A parameter
    out of its range or an unknown loss_type raises ParameterError (a
    ValueError) naming it."""
    if isinstance(loss_type, str) and loss_type in AOT_TYPES:
        if weights is not None:
            raise ArgumentError("weights: %r is batch-coupled (rank-matched over the batch); "
                                "it takes no per-pair weights" % loss_type)
        if nll_weight is not None and _num(nll_weight, "nll_weight") != 0:
            raise ParameterError("nll_weight must be 0 for loss_type %r, got %r"
                                 % (loss_type, nll_weight))
        d = _lib.pair_param_defaults()
        return aot_loss(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps,
                        ref_rejected_logps, d["beta"] if beta is None else beta,
                        d["label_smoothing"] if label_smoothing is None else label_smoothing,
                        loss_type,
                        dlosses=dlosses, out=out, _want=_want)
    f = _lib.fn("prefloss_pair_loss")
    kind = loss_kind(loss_type)
    params = make_params(beta, label_smoothing, discopop_tau, alpha, simpo_gamma, bco_delta,
                         nll_weight)
    bufs = _inputs([("policy_chosen_logps", policy_chosen_logps),
                    ("policy_rejected_logps", policy_rejected_logps),
                    ("ref_chosen_logps", ref_chosen_logps),
                    ("ref_rejected_logps", ref_rejected_logps),
                    ("weights", weights), ("dlosses", dlosses)])
    proto = bufs[0]
    outs = _outputs(proto, out, _LOSS_OUT, _want)
    status = f(*([_addr(o) for o in outs] + [_addr(b) for b in bufs]
                 + [proto.n, kind, _ct.addressof(params)]))
    _check(status, "prefloss_pair_loss", lambda: param_rules([kind], _given(
        beta, label_smoothing, discopop_tau, alpha, simpo_gamma, bco_delta, nll_weight)))
    bump_versions(out)
    return tuple(None if o is None else _result(o) for o in outs)


def bco_update_delta(delta: float, count: float, policy_chosen_logps: Buffer,
                     policy_rejected_logps: Buffer, ref_chosen_logps: Optional[Buffer] = None,
                     ref_rejected_logps: Optional[Buffer] = None,
                     beta: float = 0.1) -> Tuple[float, float]:
    """The running mean of rewards that "bco_pair" uses as ``bco_delta``
    (TRL's RunningMoments mean), updated with one batch: returns the new
    ``(delta, count)`` -- ``(count*delta + sum of the 2n rewards beta*(pc - rc)
    and beta*(pr - rr)) / (count + 2n)`` and ``count + 2n`` -- as Python
    floats (float32 values). Start from ``(0.0, 0.0)``. A batch with a
    non-finite input leaves the state unchanged (NonFiniteWarning)."""
    f = _lib.fn("prefloss_bco_update_delta")
    bufs = _inputs([("policy_chosen_logps", policy_chosen_logps),
                    ("policy_rejected_logps", policy_rejected_logps),
                    ("ref_chosen_logps", ref_chosen_logps),
                    ("ref_rejected_logps", ref_rejected_logps)])
    d = _ct.c_float(_num(delta, "delta"))
    c = _ct.c_float(_num(count, "count"))
    status = f(_ct.byref(d), _ct.byref(c), *([_addr(b) for b in bufs]
                                             + [bufs[0].n, _num(beta, "beta")]))
    _check(status, "prefloss_bco_update_delta",
           lambda: [("beta", beta, "positive"), ("delta", delta, "finite"),
                    ("count", count, "nonneg")])
    return d.value, c.value


def _inputs_any(args: Sequence[Tuple[str, Any]], what: str) -> Tuple[List[Any], _Buf]:
    """_inputs, but the prototype (kind, shape, n) is the first argument that is
    not None, so that a None required buffer reaches the library (which
    reports it as PREFLOSS_ERR_NULL). Returns (bufs, proto)."""
    bufs = _inputs(args)
    proto = next((b for b in bufs if b is not None), None)
    if proto is None:
        raise ArgumentTypeError("%s: every array argument is None" % what)
    return bufs, proto


def orpo_loss(policy_chosen_logps: Buffer, policy_rejected_logps: Buffer, beta: float = 0.1,
              nll_weight: float = 1.0, dlosses: Optional[Buffer] = None, out: Any = None,
              _want: Any = None) -> Outputs:
    """ORPO's loss (TRL ORPOTrainer), per pair, on MEAN token log-probs
    ``a = policy_chosen_logps``, ``b = policy_rejected_logps`` (both < 0; see
    ``sequence_logps(..., reduction="mean")``):

        log_odds = (a - b) - (log(1 - e^a) - log(1 - e^b))
        loss     = -nll_weight * a - beta * logsigmoid(log_odds)

    ``beta`` is TRL's name for ORPO's lambda (finite >= 0); ``nll_weight``
    (finite, any sign) weighs the NLL term -a (0: the odds-ratio term alone).

    Returns ``(losses, grad_chosen, grad_rejected)`` (gradients multiplied by
    ``dlosses``, None meaning ones) in the kind of the inputs. A pair with a
    log-prob that is >= 0 (or not finite) is NaN, with a NonFiniteWarning."""
    f = _lib.fn("prefloss_orpo_loss")
    lam, nll = _num(beta, "beta"), _num(nll_weight, "nll_weight")
    bufs, proto = _inputs_any([("policy_chosen_logps", policy_chosen_logps),
                               ("policy_rejected_logps", policy_rejected_logps),
                               ("dlosses", dlosses)], "orpo_loss")
    outs = _outputs(proto, out, _LOSS_OUT, _want)
    status = f(*([_addr(o) for o in outs] + [_addr(b) for b in bufs] + [proto.n, lam, nll]))
    _check(status, "prefloss_orpo_loss",
           lambda: [("beta", beta, "nonneg"), ("nll_weight", nll_weight, "finite")],
           null_hint="both policy log-prob buffers are required")
    bump_versions(out)
    return tuple(None if o is None else _result(o) for o in outs)


def aot_loss(policy_chosen_logps: Buffer, policy_rejected_logps: Buffer,
             ref_chosen_logps: Optional[Buffer] = None,
             ref_rejected_logps: Optional[Buffer] = None, beta: float = 0.1,
             label_smoothing: float = 0.0, loss_type: str = "aot",
             dlosses: Optional[Buffer] = None, out: Any = None, _want: Any = None) -> Outputs:
    """AOT (TRL loss_type="aot" or "aot_pair"): the sigmoid loss with label
    smoothing on rank-matched differences over the batch,
    ``d_i = sort(pc - pr)_i - sort(rc - rr)_i`` ("aot") or
    ``sort(pc - rc)_i - sort(pr - rr)_i`` ("aot_pair"). ``losses[i]`` is the
    loss of rank i; ``dlosses[i]`` its upstream gradient. The gradients are
    per pair (sent back through the sort). The workspace the library needs
    (2n indices) is allocated here. beta: finite > 0; label_smoothing: in
    [0, 0.5].

    Returns ``(losses, grad_chosen, grad_rejected)`` in the kind of the inputs."""
    if loss_type not in AOT_TYPES:
        raise ParameterError('loss_type must be "aot" or "aot_pair", got %r' % (loss_type,))
    f = _lib.fn("prefloss_aot_loss")
    b, e = _num(beta, "beta"), _num(label_smoothing, "label_smoothing")
    bufs, proto = _inputs_any([("policy_chosen_logps", policy_chosen_logps),
                               ("policy_rejected_logps", policy_rejected_logps),
                               ("ref_chosen_logps", ref_chosen_logps),
                               ("ref_rejected_logps", ref_rejected_logps),
                               ("dlosses", dlosses)], "aot_loss")
    outs = _outputs(proto, out, _LOSS_OUT, _want)
    workspace = (_ct.c_size_t * max(2 * proto.n, 1))()
    status = f(*([_addr(o) for o in outs] + [_addr(x) for x in bufs]
                 + [proto.n, b, e, 1 if loss_type == "aot_pair" else 0, workspace]))
    _check(status, "prefloss_aot_loss",
           lambda: [("beta", beta, "positive"), ("label_smoothing", label_smoothing, "eps")])
    bump_versions(out)
    return tuple(None if o is None else _result(o) for o in outs)


def _public_lengths(public_lengths: Any, batch: int) -> Any:
    """The (batch,) public lengths as a size_t array (a copy: B integers)."""
    try:
        seq = public_lengths.tolist() if hasattr(public_lengths, "tolist") else public_lengths
        values = []
        for v in seq:
            if isinstance(v, (bool, str, bytes)) or not hasattr(v, "__index__"):
                raise TypeError
            values.append(v.__index__())
    except TypeError:
        raise ArgumentTypeError("public_lengths must be a sequence of integers") from None
    if len(values) != batch:
        raise ArgumentError("public_lengths has %d entries for %d rows" % (len(values), batch))
    if any(v < 0 for v in values):
        raise ParameterError("public_lengths must not be negative")
    return (_ct.c_size_t * max(batch, 1))(*values)


def sequence_logps_ld(token_logps: Buffer, public_lengths: Any, alpha: float, mask: Any = None,
                      *, seq_len: Optional[int] = None, out: Any = None) -> Any:
    """LD-DPO's length-desensitised sequence log-probs: of each row's counted
    tokens the first ``public_lengths[b]`` count fully and the rest with
    weight ``alpha`` (in [0, 1]). ``public_lengths`` is usually
    min(len_chosen, len_rejected) of the row's pair. Returns (batch,)."""
    f = _lib.fn("prefloss_sequence_logps_ld")
    seq_len = _seq_len(seq_len)
    a = _num(alpha, "alpha")
    b = _float_buf(token_logps, "token_logps")
    batch, T = _bt_shape(b, seq_len, "token_logps")
    maddr, mkeep = (None, None) if mask is None else _mask_buf(mask, "mask", b.kind, b.shape)
    lengths = _public_lengths(public_lengths, batch)
    o = _outputs(_new_like(b, (batch,)), None if out is None else (out,), ("seq_logps",))[0]
    status = f(o.addr, b.addr, maddr, lengths, batch, T, a)
    _check(status, "prefloss_sequence_logps_ld", lambda: [("alpha", alpha, "unit")])
    bump_versions(None if out is None else (out,))
    del mkeep
    return _result(o)


def sequence_logps_ld_backward(dseq_logps: Buffer, public_lengths: Any, alpha: float,
                               mask: Any = None, *, seq_len: int, out: Any = None) -> Any:
    """Backward of ``sequence_logps_ld``: each counted token gets dseq (within
    the public length) or alpha*dseq (after it); masked tokens 0. Returns
    (batch, seq_len) in the kind of ``dseq_logps``."""
    f = _lib.fn("prefloss_sequence_logps_ld_backward")
    T = _seq_len(seq_len)
    if T is None:
        raise ArgumentTypeError("seq_len must be an int, got None")
    a = _num(alpha, "alpha")
    d = _float_buf(dseq_logps, "dseq_logps")
    if len(d.shape) != 1:
        raise ArgumentError("dseq_logps must be 1-D (batch,), got shape %s" % (d.shape,))
    batch = d.n
    shape = (batch, T)
    maddr, mkeep = (None, None) if mask is None else _mask_buf(mask, "mask", d.kind, shape)
    lengths = _public_lengths(public_lengths, batch)
    o = _outputs(_new_like(d, shape), None if out is None else (out,), ("dtoken_logps",))[0]
    status = f(o.addr, d.addr, maddr, lengths, batch, T, a)
    _check(status, "prefloss_sequence_logps_ld_backward", lambda: [("alpha", alpha, "unit")])
    bump_versions(None if out is None else (out,))
    del mkeep
    return _result(o)


def kto_loss(policy_logps: Buffer, reference_logps: Optional[Buffer] = None,
             desirable: Any = None, beta: float = 0.1, kl: float = 0.0,
             desirable_weight: float = 1.0, undesirable_weight: float = 1.0,
             dlosses: Optional[Buffer] = None, out: Any = None, _want: Any = None) -> Outputs:
    """KTO's loss (TRL KTOTrainer, loss_type="kto") on unpaired samples. With
    ``u = policy_logps - reference_logps`` (reference None: 0) and ``kl`` the
    detached KL estimate (see ``kto_kl``; finite >= 0):

        desirable:   desirable_weight   * (1 - sigmoid(beta * (u - kl)))
        undesirable: undesirable_weight * (1 - sigmoid(beta * (kl - u)))

    ``desirable``: one byte per sample (non-zero = desirable) -- a bool/uint8
    array or tensor, or a list of booleans/0/1 -- of the same kind and shape
    as ``policy_logps``. It is required. ``kl`` may be a 0-d tensor (that
    does not require grad). The weights are finite >= 0.

    Returns ``(losses, grad_policy)``."""
    f = _lib.fn("prefloss_kto_loss")
    params = [_num(beta, "beta"), _num(kl, "kl"), _num(desirable_weight, "desirable_weight"),
              _num(undesirable_weight, "undesirable_weight")]
    bufs, proto = _inputs_any([("policy_logps", policy_logps),
                               ("reference_logps", reference_logps),
                               ("dlosses", dlosses)], "kto_loss")
    daddr, dkeep = (None, None) if desirable is None else \
        _mask_buf(desirable, "desirable", proto.kind, proto.shape)
    outs = _outputs(proto, out, ("losses", "grad_policy"), _want)
    status = f(*([_addr(o) for o in outs] + [_addr(bufs[0]), _addr(bufs[1]), daddr,
                                             _addr(bufs[2]), proto.n] + params))
    del dkeep
    _check(status, "prefloss_kto_loss",
           lambda: [("beta", beta, "positive"), ("kl", kl, "nonneg"),
                    ("desirable_weight", desirable_weight, "nonneg"),
                    ("undesirable_weight", undesirable_weight, "nonneg")],
           null_hint="policy_logps and desirable (one bool per sample) are required")
    bump_versions(out)
    return tuple(None if o is None else _result(o) for o in outs)


def kto_kl(policy_kl_logps: Buffer, reference_kl_logps: Buffer) -> float:
    """KTO's KL estimate: ``max(0, mean(policy_kl_logps - reference_kl_logps))``
    with the sum formed exactly, as a Python float (a float32 value); 0.0 for
    no samples. Pass the result as ``kto_loss(..., kl=...)``. A non-finite
    input gives NaN and a NonFiniteWarning."""
    f = _lib.fn("prefloss_kto_kl")
    bufs, proto = _inputs_any([("policy_kl_logps", policy_kl_logps),
                               ("reference_kl_logps", reference_kl_logps)], "kto_kl")
    kl = _ct.c_float(0.0)
    status = f(_ct.byref(kl), _addr(bufs[0]), _addr(bufs[1]), proto.n)
    _check(status, "prefloss_kto_kl", null_hint="both buffers are required")
    return kl.value


def split_mix(loss_types: Any, mix_weights: Any) -> Tuple[List[int], List[float],
                                                           List[Tuple[str, float]]]:
    """(catalogue kinds, their weights, [(aot type, weight), ...])."""
    if isinstance(loss_types, (str, bytes)):
        raise ArgumentTypeError("loss_types must be a list of loss types (names or kinds), "
                                "not a single %s" % type(loss_types).__name__)
    th = _sys.modules.get("torch")
    if th is not None and isinstance(mix_weights, th.Tensor):
        if mix_weights.requires_grad:
            raise ArgumentTypeError("mix_weights requires grad, but prefloss computes no "
                                    "gradient for it: pass a list or mix_weights.detach()")
        mix_weights = mix_weights.tolist()
    types, mws = list(loss_types), [_num(w, "mix_weights[%d]" % i)
                                    for i, w in enumerate(mix_weights)]
    if len(types) != len(mws):
        raise ArgumentError("%d loss_types but %d mix_weights" % (len(types), len(mws)))
    kinds, kw, aot = [], [], []
    for t, w in zip(types, mws):
        if isinstance(t, str) and t in AOT_TYPES:
            aot.append((t, w))
        else:
            kinds.append(loss_kind(t))
            kw.append(w)
    return kinds, kw, aot


def _add_scaled(dst: _Buf, src: _Buf, scale: float) -> None:
    """dst += scale * src, elementwise, in float32 (any buffer kind)."""
    if dst.n == 0:
        return
    if dst.kind == "numpy":
        np = _sys.modules["numpy"]
        dst.obj += np.float32(scale) * src.obj
    elif dst.kind == "torch":
        dst.obj.add_(src.obj, alpha=scale)
    else:
        a = (_ct.c_float * dst.n).from_address(dst.addr)
        b = (_ct.c_float * src.n).from_address(src.addr)
        for i in range(dst.n):
            a[i] = a[i] + _lib.f32(scale * b[i])


def pair_loss_mix(loss_types: Sequence[LossType], mix_weights: Sequence[float],
                  policy_chosen_logps: Buffer, policy_rejected_logps: Buffer,
                  ref_chosen_logps: Optional[Buffer] = None,
                  ref_rejected_logps: Optional[Buffer] = None, beta: Optional[float] = None,
                  label_smoothing: Optional[float] = None,
                  discopop_tau: Optional[float] = None, alpha: Optional[float] = None,
                  simpo_gamma: Optional[float] = None, bco_delta: Optional[float] = None,
                  weights: Optional[Buffer] = None, dlosses: Optional[Buffer] = None,
                  out: Any = None, _want: Any = None, *,
                  nll_weight: Optional[float] = None) -> Outputs:
    """A weighted sum of losses (MPO style; TRL's ``loss_type=[...]`` with
    ``loss_weights=[...]``): ``sum_k mix_weights[k] * pair_loss(loss_types[k],
    ...)``, gradients alike. The catalogue kinds go to the library in one call
    (``prefloss_pair_loss_mix``); "aot"/"aot_pair" terms (batch-coupled,
    indexed by rank as in TRL) are added from ``aot_loss`` (no per-pair
    ``weights`` then).

    ``loss_types``: a list of TRL names or PREFLOSS_LOSS_* kinds;
    ``mix_weights``: as many finite numbers. An empty list gives zeros. All
    kinds share one parameter set (as ``pair_loss``; ``nll_weight`` enters
    once per catalogue term, times its mix weight); ``weights`` (per pair)
    and ``dlosses`` apply to every term. Returns ``(losses, grad_chosen,
    grad_rejected)`` in the kind of the inputs."""
    f = _lib.fn("prefloss_pair_loss_mix")
    kinds, kw, aot = split_mix(loss_types, mix_weights)
    if aot and weights is not None:
        raise ArgumentError("weights: %r is batch-coupled (rank-matched over the batch); it "
                            "takes no per-pair weights" % aot[0][0])
    params = make_params(beta, label_smoothing, discopop_tau, alpha, simpo_gamma, bco_delta,
                         nll_weight)
    bufs, proto = _inputs_any([("policy_chosen_logps", policy_chosen_logps),
                               ("policy_rejected_logps", policy_rejected_logps),
                               ("ref_chosen_logps", ref_chosen_logps),
                               ("ref_rejected_logps", ref_rejected_logps),
                               ("weights", weights), ("dlosses", dlosses)], "pair_loss_mix")
    outs = _outputs(proto, out, _LOSS_OUT, _want)
    k = len(kinds)
    karr = (_ct.c_int * k)(*kinds) if k else None
    warr = (_ct.c_float * k)(*kw) if k else None
    extra = []
    nonfinite = False
    if aot:  # computed first: their errors must leave the outputs unwritten
        for t, w in aot:
            extra.append((w, [None if o is None else _new_like(proto) for o in outs]))
            res = extra[-1][1]
            st = _lib.fn("prefloss_aot_loss")(
                *([_addr(o) for o in res] + [_addr(x) for x in bufs[:4]] + [_addr(bufs[5])]
                  + [proto.n, params.beta, params.label_smoothing,
                     1 if t == "aot_pair" else 0, (_ct.c_size_t * max(2 * proto.n, 1))()]))
            _check(min(st, 0), "prefloss_aot_loss",  # one warning per call, below
                   lambda: [("beta", params.beta if beta is None else beta, "positive"),
                            ("label_smoothing", params.label_smoothing if label_smoothing is None
                             else label_smoothing, "eps")])
            nonfinite = nonfinite or st > 0
    status = f(*([_addr(o) for o in outs] + [_addr(b) for b in bufs]
                 + [proto.n, karr, warr, k, _ct.addressof(params)]))
    _check(max(status, _lib.NONFINITE) if nonfinite and status >= 0 else status,
           "prefloss_pair_loss_mix", lambda: param_rules(kinds, _given(
               beta, label_smoothing, discopop_tau, alpha, simpo_gamma, bco_delta, nll_weight),
               kw))
    for w, res in extra:
        for o, r in zip(outs, res):
            if o is not None and r is not None:
                _add_scaled(o, r, w)
    bump_versions(out)
    return tuple(None if o is None else _result(o) for o in outs)
