"""The token stage of libprefloss from Python: per-token log-probs of labels
from logits, and any catalogue loss straight from the logits with the
gradient to the logits (PyTorch autograd).

Self-contained (ctypes only): pass the loaded library as ``lib=`` (a
``ctypes.CDLL`` of libprefloss >= 1.2), or let :func:`set_library` /
the ``PREFLOSS_LIBRARY`` environment variable / ``build/libprefloss.so.1``
of the source tree name it.

    token_logps(logits, labels, ignore_index=-100)
        logits (..., V) float32 NumPy array or CPU tensor, C-contiguous
        (read in place, no copy); labels (...) integers (converted to int32:
        a copy of len(labels) ints). Returns the per-token log-probs, shape
        of labels, 0 where ignored.

    pair_loss_from_logits(loss_type, chosen_logits, chosen_labels,
                          rejected_logits, rejected_labels,
                          ref_chosen_logps=None, ref_rejected_logps=None, *,
                          beta=0.1, label_smoothing=0.0, ignore_index=-100,
                          average_log_prob=False)
        torch tensors (B, T, V) float32 and (B, T) labels; returns the
        per-pair losses (B,). Its backward gives the logits' gradient: the
        library writes it during the forward into one tensor per side (the
        only V-wide memory beyond the logits), and the backward scales each
        pair's rows by the upstream gradient, in place.
"""
import ctypes as _ct
import os as _os

__all__ = ["token_logps", "pair_loss_from_logits", "set_library", "Error"]

_lib = None
_P, _Z, _I, _F = _ct.c_void_p, _ct.c_size_t, _ct.c_int, _ct.c_float
_I32 = _ct.c_int32


try:  # inside the package: its error classes (prefloss.Error, a ValueError)
    from ._errors import ArgumentError as Error
except ImportError:  # loaded as a file of its own
    class Error(ValueError):  # type: ignore[no-redef]
        """A libprefloss status error, or an argument the binding rejects."""


class _PairParams(_ct.Structure):
    _fields_ = [("size", _Z), ("beta", _F), ("label_smoothing", _F), ("discopop_tau", _F),
                ("alpha", _F), ("simpo_gamma", _F), ("bco_delta", _F), ("nll_weight", _F)]


def set_library(lib):
    """Use ``lib`` (a ctypes.CDLL of libprefloss >= 1.2, or a path)."""
    global _lib
    if not isinstance(lib, _ct.CDLL):
        lib = _ct.CDLL(_os.fspath(lib))
    if lib.prefloss_version_number() < 10200:
        raise Error("the token stage needs libprefloss >= 1.2")
    lib.prefloss_token_logps.restype = _I
    lib.prefloss_token_logps.argtypes = [_P, _P, _P, _P, _Z, _Z, _Z, _I32]
    lib.prefloss_token_logps_backward.restype = _I
    lib.prefloss_token_logps_backward.argtypes = [_P, _Z, _P, _P, _Z, _P, _P, _Z, _Z, _I32]
    lib.prefloss_pair_loss_from_logits_workspace.restype = _I
    lib.prefloss_pair_loss_from_logits_workspace.argtypes = [_ct.POINTER(_Z), _P, _P, _Z, _Z]
    lib.prefloss_pair_loss_from_logits.restype = _I
    lib.prefloss_pair_loss_from_logits.argtypes = (
        [_P] * 14 + [_Z, _Z, _Z, _Z, _I32, _I, _I, _ct.POINTER(_PairParams), _P, _Z])
    lib.prefloss_pair_params_init.restype = _I
    lib.prefloss_pair_params_init.argtypes = [_ct.POINTER(_PairParams), _Z]
    lib.prefloss_loss_kind_from_name.restype = _I
    lib.prefloss_loss_kind_from_name.argtypes = [_ct.c_char_p]
    lib.prefloss_status_name.restype = _ct.c_char_p
    lib.prefloss_status_name.argtypes = [_I]
    _lib = lib
    return lib


def _L(lib=None):
    if lib is not None:
        return set_library(lib) if lib is not _lib else lib
    if _lib is not None:
        return _lib
    try:  # inside the package: the library it found (a CDLL of our own, so
        # that these prototypes never change the package's)
        from . import _lib as _package_lib
        return set_library(_package_lib.L()._name)
    except ImportError:
        pass
    path = _os.environ.get("PREFLOSS_LIBRARY")
    if not path:
        here = _os.path.dirname(_os.path.abspath(__file__))
        path = _os.path.normpath(_os.path.join(here, _os.pardir, _os.pardir, "build",
                                               "libprefloss.so.1"))
    return set_library(path)


def _check(lib, status, what):
    if status < 0:
        name = lib.prefloss_status_name(status)
        raise Error("%s: %s" % (what, name.decode() if name else status))
    return status


def _is_torch(x):
    return type(x).__module__.startswith("torch")


def _logits_view(x, name):
    """(pointer, rows, V, keepalive) of a C-contiguous float32 array or tensor."""
    if _is_torch(x):
        if x.dtype.__repr__() != "torch.float32" or x.device.type != "cpu" or not x.is_contiguous():
            raise Error("%s must be a contiguous float32 CPU tensor" % name)
        shape, ptr = tuple(x.shape), x.data_ptr()
    else:
        import numpy as np
        if not isinstance(x, np.ndarray) or x.dtype != np.float32 or not x.flags["C_CONTIGUOUS"]:
            raise Error("%s must be a C-contiguous float32 NumPy array" % name)
        shape, ptr = x.shape, x.ctypes.data
    if len(shape) < 1 or shape[-1] == 0:
        raise Error("%s must have a last (vocabulary) dimension >= 1" % name)
    rows = 1
    for s in shape[:-1]:
        rows *= s
    return ptr, rows, shape[-1], shape[:-1]


def _labels_int32(labels, shape, name):
    import numpy as np
    if _is_torch(labels):
        a = labels.detach().cpu().numpy()
    else:
        a = np.asarray(labels)
    if tuple(a.shape) != tuple(shape):
        raise Error("%s must have shape %s, has %s" % (name, tuple(shape), tuple(a.shape)))
    if a.dtype.kind not in "iu":
        raise Error("%s must hold integers" % name)
    if a.size and (a.min() < -2**31 or a.max() >= 2**31):
        raise Error("%s: a label does not fit in int32" % name)
    return np.ascontiguousarray(a, dtype=np.int32)


def token_logps(logits, labels, ignore_index=-100, *, lib=None):
    """Per-token log p(label) = x_label - logsumexp(x), 0 where the label is
    ignore_index; a NumPy array for a NumPy input, a tensor for a tensor."""
    import numpy as np
    L = _L(lib)
    ptr, rows, V, shape = _logits_view(logits, "logits")
    t = _labels_int32(labels, shape, "labels")
    out = np.empty(shape, dtype=np.float32)
    _check(L, L.prefloss_token_logps(out.ctypes.data, None, ptr, t.ctypes.data, rows, V, V,
                                     int(ignore_index)), "token_logps")
    if _is_torch(logits):
        import torch
        return torch.from_numpy(out)
    return out


def _kind(lib, loss_type):
    k = lib.prefloss_loss_kind_from_name(str(loss_type).encode())
    if k < 0:
        raise Error("loss_type: unknown %r" % (loss_type,))
    return k


def _run_pair(lib, kind, xc, tc, xr, tr, rc, rr, params, ignore_index, mean, dc, dr):
    import numpy as np
    import torch
    B, T, V = xc.shape
    pc = np.empty(B, dtype=np.float32)
    pr = np.empty(B, dtype=np.float32)
    loss = np.empty(B, dtype=np.float32)
    wl = _Z()
    _check(lib, lib.prefloss_pair_loss_from_logits_workspace(_ct.byref(wl), None, None, B, T),
           "workspace")
    ws = np.empty(max(wl.value, 1), dtype=np.float32)
    rca = rra = None
    if rc is not None:
        rca = np.ascontiguousarray(torch.as_tensor(rc).detach().cpu().numpy(), dtype=np.float32)
        rra = np.ascontiguousarray(torch.as_tensor(rr).detach().cpu().numpy(), dtype=np.float32)
    st = lib.prefloss_pair_loss_from_logits(
        loss.ctypes.data, pc.ctypes.data, pr.ctypes.data,
        dc.data_ptr() if dc is not None else None, dr.data_ptr() if dr is not None else None,
        xc.data_ptr(), xr.data_ptr(), tc.ctypes.data, tr.ctypes.data, None, None,
        rca.ctypes.data if rca is not None else None, rra.ctypes.data if rra is not None else None,
        None, B, T, V, V, int(ignore_index), int(bool(mean)), kind, _ct.byref(params),
        ws.ctypes.data, ws.size)
    _check(lib, st, "pair_loss_from_logits")
    return torch.from_numpy(loss)


def pair_loss_from_logits(loss_type, chosen_logits, chosen_labels, rejected_logits,
                          rejected_labels, ref_chosen_logps=None, ref_rejected_logps=None, *,
                          beta=0.1, label_smoothing=0.0, ignore_index=-100,
                          average_log_prob=False, lib=None):
    """Per-pair losses (B,) of a TRL loss_type straight from (B, T, V) logits;
    differentiable with respect to both logits tensors."""
    import torch
    L = _L(lib)
    kind = _kind(L, loss_type)
    if (ref_chosen_logps is None) != (ref_rejected_logps is None):
        raise Error("ref_chosen_logps, ref_rejected_logps: give both or neither")
    for name, x in (("chosen_logits", chosen_logits), ("rejected_logits", rejected_logits)):
        _logits_view(x, name)
        if x.dim() != 3:
            raise Error("%s must be (B, T, V)" % name)
    if chosen_logits.shape != rejected_logits.shape:
        raise Error("rejected_logits must have the shape of chosen_logits")
    params = _PairParams()
    L.prefloss_pair_params_init(_ct.byref(params), _ct.sizeof(params))
    params.beta = float(beta)
    params.label_smoothing = float(label_smoothing)
    B, T, _ = chosen_logits.shape
    tc = _labels_int32(chosen_labels, (B, T), "chosen_labels")
    tr = _labels_int32(rejected_labels, (B, T), "rejected_labels")
    return _PairFromLogits.apply(chosen_logits, rejected_logits, (L, kind, tc, tr, ref_chosen_logps,
                                 ref_rejected_logps, params, ignore_index, average_log_prob))


def _autograd():
    import torch

    class PairFromLogits(torch.autograd.Function):
        @staticmethod
        def forward(ctx, xc, xr, rest):
            L, kind, tc, tr, rc, rr, params, ignore_index, mean = rest
            need = ctx.needs_input_grad[0] or ctx.needs_input_grad[1]
            dc = torch.empty_like(xc) if need else None
            dr = torch.empty_like(xr) if need else None
            loss = _run_pair(L, kind, xc.detach(), tc, xr.detach(), tr, rc, rr, params,
                             ignore_index, mean, dc, dr)
            ctx.grads = (dc, dr)
            return loss

        @staticmethod
        def backward(ctx, g):
            dc, dr = ctx.grads
            ctx.grads = None
            if dc is None:
                return None, None, None
            scale = g.to(dc.dtype).view(-1, 1, 1)
            return dc.mul_(scale), dr.mul_(scale), None

    return PairFromLogits


class _Lazy:
    _cls = None

    @classmethod
    def apply(cls, *args):
        if cls._cls is None:
            cls._cls = _autograd()
        return cls._cls.apply(*args)


_PairFromLogits = _Lazy
