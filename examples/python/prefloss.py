"""prefloss — Python binding of libprefloss (ctypes, standard library only).

Preference-optimisation losses (DPO, IPO, Bradley–Terry) and their exact
gradients, computed by libprefloss on the caller's float32 buffers.

    import prefloss
    losses, d_chosen, d_rejected = prefloss.dpo_loss(
        policy_chosen_logps, policy_rejected_logps,
        ref_chosen_logps, ref_rejected_logps, beta=0.1)

Buffers. Every function accepts, for its float arguments,

  * NumPy arrays of dtype float32 (native byte order, C-contiguous, aligned),
  * PyTorch CPU tensors of dtype torch.float32 (contiguous, strided),
  * ``array.array('f')``,
  * lists (or tuples) of numbers,

and returns its outputs in the kind it was given (NumPy in, NumPy out; a
tensor in, tensors out; ...). Arrays and tensors are handed to the library
by address, never copied; lists are necessarily converted. All array
arguments of one call must be of the same kind and the same shape. A wrong
dtype, a non-contiguous or misaligned buffer, a GPU tensor or mismatched
shapes raise ``ValueError`` (nothing is copied or converted silently); an
argument of an unsupported type raises ``TypeError``.

Status. A negative status of the library raises ``prefloss.Error`` carrying
the library's own message (``prefloss_strerror``) and the status code; the
"some inputs were not finite" status (the affected samples are NaN, the
others exact) issues a ``RuntimeWarning``.

Library. The shared library is found, in this order: the path given to
``prefloss.load(path)``; the ``PREFLOSS_LIBRARY`` environment variable; the
build directory of the source tree (``build/libprefloss.so.1`` two levels
above this file); the system (``ctypes.util.find_library("prefloss")``). It
is loaded on first use, and its run-time ABI version must be 1 and its
release version at least 1.0.0 (``prefloss.Error`` otherwise).

PyTorch autograd. ``prefloss.torch`` (imported lazily: importing prefloss
never imports torch or numpy) holds ``torch.autograd.Function`` classes
``DPOLoss``, ``IPOLoss``, ``BTLoss``, ``SequenceLogps``, ``PairLoss``,
``PairLossMix``, ``ORPOLoss``, ``KTOLoss`` and the functions ``dpo_loss``,
``ipo_loss``, ``bt_loss``, ``sequence_logps``, ``pair_loss``,
``pair_loss_mix``, ``orpo_loss``, ``kto_loss``, which return
per-sample values that backpropagate through the library:

    losses = prefloss.torch.dpo_loss(pc, pr, rc, rr, beta=0.1)
    losses.mean().backward()

replaces ``losses = -F.logsigmoid(beta * logits)``.

The loss catalogue (libprefloss >= 1.1). ``pair_loss(loss_type, pc, pr,
rc, rr, beta=..., ...)`` computes any of TRL's DPO ``loss_type`` values
("sigmoid", "ipo", "hinge", "robust", "exo_pair", "nca_pair", "bco_pair",
"sppo_hard", "apo_zero", "apo_down", "discopop", "js_divergence",
"alpha_divergence", "simpo", "cpo"; ``loss_types()`` lists them) with
optional per-pair weights; ``bco_update_delta`` keeps bco_pair's running
mean; ``prefloss.torch.pair_loss`` / ``PairLoss`` is the autograd form.
Also since 1.1: ``pair_loss_mix`` (a weighted sum of catalogue losses in one
call, MPO style), ``orpo_loss`` (ORPO's odds-ratio loss plus NLL on mean
token log-probs), ``kto_loss`` and ``kto_kl`` (KTO on unpaired samples), with
the autograd forms ``prefloss.torch.orpo_loss`` / ``ORPOLoss``,
``kto_loss`` / ``KTOLoss`` and ``pair_loss_mix`` / ``PairLossMix``. With a
1.0 library everything else works and only these raise ``prefloss.Error``.
"""

import array as _array
import ctypes as _ct
import ctypes.util as _ctutil
import os as _os
import sys as _sys
import warnings as _warnings

__all__ = [
    "Error", "load", "version", "version_number", "abi_version",
    "strerror", "status_name",
    "dpo_loss", "ipo_loss", "ipo_general_loss", "bt_loss", "rewards",
    "sequence_logps", "sequence_logps_backward",
    "pair_loss", "bco_update_delta", "loss_types", "PairParams",
    "orpo_loss", "kto_loss", "kto_kl", "pair_loss_mix", "aot_loss",
    "sequence_logps_ld", "sequence_logps_ld_backward",
    "OK", "NONFINITE", "ERR_NULL", "ERR_PARAM", "ERR_OVERLAP", "ERR_SIZE", "ERR_ROUNDING",
    "ERR_UNSUPPORTED",
    "REDUCE_SUM", "REDUCE_MEAN",
]

__version__ = "1.1.0"
# `prefloss.torch` (the autograd wrappers) is deliberately not in __all__:
# `from prefloss import *` must not shadow the torch module.

#: The ABI (soname) version this binding is written for.
EXPECTED_ABI_VERSION = 1
#: The oldest release whose functions this binding calls (MAJOR*10000+MINOR*100+PATCH).
MIN_VERSION_NUMBER = 10000
#: The release that introduced the loss catalogue (pair_loss, pair_loss_mix,
#: bco_update_delta, loss_types) and orpo_loss, kto_loss, kto_kl; with an older
#: library only those raise prefloss.Error.
CATALOGUE_VERSION_NUMBER = 10100

# Status codes (the library's values; codes are only ever added).
OK = 0
NONFINITE = 1
ERR_NULL = -1
ERR_PARAM = -2
ERR_OVERLAP = -3
ERR_SIZE = -4
ERR_ROUNDING = -5  # the rounding mode is not to-nearest (library 1.2.0)
ERR_UNSUPPORTED = -6  # the family was left out of this build (library 1.2.0)

REDUCE_SUM = 0
REDUCE_MEAN = 1
_REDUCTIONS = {"sum": REDUCE_SUM, "mean": REDUCE_MEAN}


class Error(Exception):
    """A libprefloss call failed (negative status) or the library is unusable.

    ``status`` is the library's status code (None when the library could not
    be loaded), ``name`` its macro name (e.g. ``"PREFLOSS_ERR_PARAM"``)."""

    def __init__(self, message, status=None, name=None):
        super().__init__(message)
        self.status = status
        self.name = name


# ---------------------------------------------------------------------------
# Loading the library
# ---------------------------------------------------------------------------

_lib = None

_P = _ct.c_void_p
_F = _ct.c_float
_Z = _ct.c_size_t
_I = _ct.c_int
_SIGNATURES = {
    "prefloss_version": (_ct.c_char_p, []),
    "prefloss_version_number": (_I, []),
    "prefloss_abi_version": (_I, []),
    "prefloss_strerror": (_ct.c_char_p, [_I]),
    "prefloss_status_name": (_ct.c_char_p, [_I]),
    "prefloss_sequence_logps": (_I, [_P, _P, _P, _Z, _Z, _I]),
    "prefloss_sequence_logps_backward": (_I, [_P, _P, _P, _Z, _Z, _I]),
    "prefloss_rewards": (_I, [_P, _P, _P, _P, _P, _P, _P, _P, _Z, _F]),
    "prefloss_dpo_loss": (_I, [_P, _P, _P, _P, _P, _P, _P, _P, _Z, _F, _F]),
    "prefloss_ipo_loss": (_I, [_P, _P, _P, _P, _P, _P, _P, _P, _Z, _F]),
    "prefloss_ipo_general_loss": (_I, [_P, _P, _P, _P, _P, _P, _P, _P, _Z, _F, _F, _F]),
    "prefloss_bt_loss": (_I, [_P, _P, _P, _P, _P, _P, _P, _Z, _F]),
}


class PairParams(_ct.Structure):
    """``struct prefloss_pair_params`` (size-prefixed; fill it with
    ``prefloss_pair_params_init`` -- ``pair_loss`` does)."""
    _fields_ = [("size", _ct.c_size_t), ("beta", _ct.c_float),
                ("label_smoothing", _ct.c_float), ("discopop_tau", _ct.c_float),
                ("alpha", _ct.c_float), ("simpo_gamma", _ct.c_float),
                ("bco_delta", _ct.c_float)]


# Since 1.1 (version node PREFLOSS_1.1): bound when present; a 1.0 library
# still loads, and only the functions that need these raise Error.
_SIGNATURES_1_1 = {
    "prefloss_pair_params_init": (_I, [_ct.POINTER(PairParams), _ct.c_size_t]),
    "prefloss_loss_kind_from_name": (_I, [_ct.c_char_p]),
    "prefloss_loss_kind_name": (_ct.c_char_p, [_I]),
    "prefloss_pair_loss": (_I, [_P, _P, _P, _P, _P, _P, _P, _P, _P, _Z, _I,
                                _ct.POINTER(PairParams)]),
    "prefloss_bco_update_delta": (_I, [_ct.POINTER(_F), _ct.POINTER(_F), _P, _P, _P, _P,
                                       _Z, _F]),
    "prefloss_pair_loss_mix": (_I, [_P, _P, _P, _P, _P, _P, _P, _P, _P, _Z, _P, _P, _Z,
                                    _ct.POINTER(PairParams)]),
    "prefloss_orpo_loss": (_I, [_P, _P, _P, _P, _P, _P, _Z, _F, _F]),
    "prefloss_kto_loss": (_I, [_P, _P, _P, _P, _P, _P, _Z, _F, _F, _F, _F]),
    "prefloss_kto_kl": (_I, [_ct.POINTER(_F), _P, _P, _Z]),
    "prefloss_aot_loss": (_I, [_P, _P, _P, _P, _P, _P, _P, _P, _Z, _F, _F, _I, _P]),
    "prefloss_sequence_logps_ld": (_I, [_P, _P, _P, _P, _Z, _Z, _F]),
    "prefloss_sequence_logps_ld_backward": (_I, [_P, _P, _P, _P, _Z, _Z, _F]),
}


def _candidates(path):
    if path is not None:
        return [("explicit path", _os.fspath(path))]
    env = _os.environ.get("PREFLOSS_LIBRARY")
    if env:
        return [("PREFLOSS_LIBRARY", env)]
    found = []
    here = _os.path.dirname(_os.path.abspath(__file__))
    build = _os.path.join(here, _os.pardir, _os.pardir, "build", "libprefloss.so.1")
    if _os.path.exists(build):
        found.append(("build directory", _os.path.normpath(build)))
    system = _ctutil.find_library("prefloss")
    if system:
        found.append(("system", system))
    return found


def load(path=None):
    """Load libprefloss (see the module documentation for the search order)
    and check its version. Returns the ``ctypes.CDLL``. With ``path`` given,
    (re)loads exactly that file; otherwise the first library found is kept."""
    global _lib
    if path is None and _lib is not None:
        return _lib
    candidates = _candidates(path)
    if not candidates:
        raise Error("libprefloss not found: pass a path to prefloss.load(), set "
                    "PREFLOSS_LIBRARY, run `make lib`, or install it")
    errors = []
    for origin, name in candidates:
        try:
            lib = _ct.CDLL(name)
        except OSError as exc:
            errors.append("%s (%s): %s" % (name, origin, exc))
            if path is not None or origin == "PREFLOSS_LIBRARY":
                break  # an explicit choice is not silently replaced
            continue
        _bind(lib, name)
        _lib = lib
        return lib
    raise Error("cannot load libprefloss: " + "; ".join(errors))


def _bind(lib, name):
    for fname, (restype, argtypes) in _SIGNATURES.items():
        try:
            fn = getattr(lib, fname)
        except AttributeError:
            raise Error("%s is not libprefloss: no symbol %s" % (name, fname)) from None
        fn.restype = restype
        fn.argtypes = argtypes
    for fname, (restype, argtypes) in _SIGNATURES_1_1.items():
        fn = getattr(lib, fname, None)
        if fn is not None:
            fn.restype = restype
            fn.argtypes = argtypes
    abi = lib.prefloss_abi_version()
    number = lib.prefloss_version_number()
    # The ABI (soname) number must be the one this binding was written for;
    # the release must be at least the one that introduced what it calls.
    if abi != EXPECTED_ABI_VERSION or number < MIN_VERSION_NUMBER:
        raise Error("%s is libprefloss %s (ABI %d); this binding needs ABI %d, "
                    "release >= %d.%d.%d" % (
                        name, lib.prefloss_version().decode(), abi, EXPECTED_ABI_VERSION,
                        MIN_VERSION_NUMBER // 10000, MIN_VERSION_NUMBER // 100 % 100,
                        MIN_VERSION_NUMBER % 100))


def _L():
    return _lib if _lib is not None else load()


def version():
    """Run-time release version string of the loaded library, e.g. "1.0.0"."""
    return _L().prefloss_version().decode()


def version_number():
    """Run-time release version as MAJOR*10000 + MINOR*100 + PATCH."""
    return _L().prefloss_version_number()


def abi_version():
    """Run-time ABI version (the soname's number)."""
    return _L().prefloss_abi_version()


def strerror(status):
    """The library's message for a status code."""
    return _L().prefloss_strerror(status).decode()


def status_name(status):
    """The macro name of a status code ("PREFLOSS_OK", ...), or None if unknown."""
    name = _L().prefloss_status_name(status)
    return None if name is None else name.decode()


def _caller_stacklevel():
    """stacklevel that points a warning at the first frame outside this module."""
    f, level = _sys._getframe(1), 1
    while f is not None and f.f_globals is globals():
        f, level = f.f_back, level + 1
    return level


def _check(status, func):
    """Turn a library status into Error / RuntimeWarning. Returns the status."""
    if status < 0:
        name = status_name(status)
        raise Error("%s: %s (%s)" % (func, strerror(status), name or status), status, name)
    if status > 0:
        _warnings.warn("%s: %s" % (func, strerror(status)), RuntimeWarning,
                       stacklevel=_caller_stacklevel())
    return status


# ---------------------------------------------------------------------------
# Buffers: NumPy, PyTorch, array.array('f'), lists
# ---------------------------------------------------------------------------

def _kind_of(x):
    np = _sys.modules.get("numpy")
    if np is not None and isinstance(x, np.ndarray):
        return "numpy"
    th = _sys.modules.get("torch")
    if th is not None and isinstance(x, th.Tensor):
        return "torch"
    if isinstance(x, _array.array):
        return "array"
    if isinstance(x, (list, tuple)):
        return "list"
    return None


def _list_shape(x, name):
    """Shape of a (nested) list of numbers, checking it is rectangular."""
    if isinstance(x, (list, tuple)):
        if len(x) == 0:
            return (0,)
        shapes = [_list_shape(e, name) for e in x]
        if any(s != shapes[0] for s in shapes):
            raise ValueError("%s: a ragged list (rows of different lengths)" % name)
        return (len(x),) + shapes[0]
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        try:  # NumPy scalars and 0-d tensors carry __float__/__index__
            float(x)
        except (TypeError, ValueError):
            raise TypeError("%s: a list must hold numbers, got %s"
                            % (name, type(x).__name__)) from None
    return ()


def _flatten(x):
    if isinstance(x, (list, tuple)):
        for e in x:
            yield from _flatten(e)
    else:
        yield x


class _Buf:
    """One array argument: its kind, shape, element count and address."""
    __slots__ = ("kind", "shape", "n", "addr", "keep", "obj")

    def __init__(self, kind, shape, n, addr, keep, obj):
        self.kind, self.shape, self.n, self.addr, self.keep, self.obj = \
            kind, shape, n, addr, keep, obj


def _prod(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def _float_buf(x, name, writable=False):
    """Check a float32 argument and return its _Buf (no copy except lists)."""
    kind = _kind_of(x)
    if kind == "numpy":
        np = _sys.modules["numpy"]
        if x.dtype != np.float32 or not x.dtype.isnative:
            raise ValueError("%s: dtype must be float32 (native byte order), got %s; "
                             "convert explicitly with .astype(numpy.float32)" % (name, x.dtype))
        if not x.flags.c_contiguous:
            raise ValueError("%s: the array is not C-contiguous; pass "
                             "numpy.ascontiguousarray(%s) explicitly" % (name, name))
        if not x.flags.aligned:
            raise ValueError("%s: the array is not aligned for float32" % name)
        if writable and not x.flags.writeable:
            raise ValueError("%s: the output array is read-only" % name)
        return _Buf(kind, tuple(x.shape), int(x.size), x.ctypes.data if x.size else None, x, x)
    if kind == "torch":
        th = _sys.modules["torch"]
        if x.layout != th.strided:
            raise ValueError("%s: only dense (strided) tensors are supported, got %s"
                             % (name, x.layout))
        if x.device.type != "cpu":
            raise ValueError("%s: the tensor is on %s; libprefloss needs a CPU tensor"
                             % (name, x.device))
        if x.dtype != th.float32:
            raise ValueError("%s: dtype must be torch.float32, got %s; convert "
                             "explicitly with .float()" % (name, x.dtype))
        if not x.is_contiguous():
            raise ValueError("%s: the tensor is not contiguous; pass %s.contiguous() "
                             "explicitly" % (name, name))
        n = x.numel()
        addr = x.data_ptr() if n else None
        if addr is not None and addr % 4:
            raise ValueError("%s: the tensor is not aligned for float32" % name)
        return _Buf(kind, tuple(x.shape), n, addr, x, x)
    if kind == "array":
        if x.typecode != "f" or x.itemsize != 4:
            raise ValueError("%s: array.array typecode must be 'f' (float32), got %r"
                             % (name, x.typecode))
        addr, n = x.buffer_info()
        return _Buf(kind, (n,), n, addr if n else None, x, x)
    if kind == "list":
        if writable:
            raise ValueError("%s: a list cannot be an output buffer" % name)
        shape = _list_shape(x, name)
        n = _prod(shape)
        c = (_ct.c_float * n)(*[float(v) for v in _flatten(x)])
        return _Buf(kind, shape, n, _ct.addressof(c) if n else None, c, x)
    raise TypeError("%s: expected a NumPy float32 array, a torch.float32 CPU tensor, "
                    "array.array('f') or a list, got %s" % (name, type(x).__name__))


def _mask_buf(mask, name, kind, shape):
    """Check a mask (1 byte per element) of the same kind and shape as the tokens."""
    mkind = _kind_of(mask)
    if mkind is None and isinstance(mask, (bytes, bytearray)):
        mkind = "bytes"
    if mkind is None:
        raise TypeError("%s: expected a bool/uint8 array, tensor, bytes or list, got %s"
                        % (name, type(mask).__name__))
    if mkind != kind and not (kind == "array" and mkind == "bytes"):
        raise TypeError("%s: the mask must be of the same kind as the token log-probs "
                        "(%s), got %s" % (name, kind, mkind))
    if mkind == "numpy":
        np = _sys.modules["numpy"]
        if mask.dtype not in (np.bool_, np.uint8):
            raise ValueError("%s: mask dtype must be bool or uint8, got %s" % (name, mask.dtype))
        if not mask.flags.c_contiguous:
            raise ValueError("%s: the mask is not C-contiguous" % name)
        mshape, n = tuple(mask.shape), int(mask.size)
        addr, keep = (mask.ctypes.data if n else None), mask
    elif mkind == "torch":
        th = _sys.modules["torch"]
        if mask.layout != th.strided or mask.device.type != "cpu":
            raise ValueError("%s: the mask must be a dense CPU tensor" % name)
        if mask.dtype not in (th.bool, th.uint8):
            raise ValueError("%s: mask dtype must be torch.bool or torch.uint8, got %s"
                             % (name, mask.dtype))
        if not mask.is_contiguous():
            raise ValueError("%s: the mask is not contiguous" % name)
        mshape, n = tuple(mask.shape), mask.numel()
        addr, keep = (mask.data_ptr() if n else None), mask
    elif mkind == "array":
        if mask.itemsize != 1:
            raise ValueError("%s: array.array mask typecode must be 'B' or 'b', got %r"
                             % (name, mask.typecode))
        a, n = mask.buffer_info()
        mshape, addr, keep = (n,), (a if n else None), mask
    elif mkind == "bytes":
        n = len(mask)
        keep = (_ct.c_ubyte * n).from_buffer_copy(bytes(mask)) if n else None
        mshape, addr = (n,), (_ct.addressof(keep) if n else None)
    else:  # list
        mshape = _list_shape(mask, name)
        n = _prod(mshape)
        vals = []
        for v in _flatten(mask):
            if isinstance(v, bool) or v in (0, 1):
                vals.append(1 if v else 0)
            else:
                raise ValueError("%s: mask values must be booleans or 0/1, got %r" % (name, v))
        keep = (_ct.c_ubyte * n)(*vals)
        addr = _ct.addressof(keep) if n else None
    if mshape != shape:
        raise ValueError("%s: shape %s does not match the token log-probs %s"
                         % (name, mshape, shape))
    return addr, keep


def _new_like(b, shape=None):
    """A new float32 output buffer of the kind of _Buf b."""
    shape = b.shape if shape is None else shape
    n = _prod(shape)
    if b.kind == "numpy":
        np = _sys.modules["numpy"]
        x = np.empty(shape, dtype=np.float32)
        return _Buf("numpy", shape, n, x.ctypes.data if n else None, x, x)
    if b.kind == "torch":
        th = _sys.modules["torch"]
        x = th.empty(shape, dtype=th.float32)
        return _Buf("torch", shape, n, x.data_ptr() if n else None, x, x)
    if b.kind == "array":
        x = _array.array("f", bytes(4 * n))
        return _Buf("array", shape, n, x.buffer_info()[0] if n else None, x, x)
    c = (_ct.c_float * n)()
    return _Buf("list", shape, n, _ct.addressof(c) if n else None, c, None)


def _result(b):
    if b.kind != "list":
        return b.obj
    flat = list(b.keep)
    shape = b.shape
    if len(shape) <= 1:
        return flat
    def build(offset, dims):
        if len(dims) == 1:
            return flat[offset:offset + dims[0]]
        step = _prod(dims[1:])
        return [build(offset + i * step, dims[1:]) for i in range(dims[0])]
    return build(0, shape)


def _inputs(args):
    """Check the array arguments of one call ((name, value) pairs; None values
    pass through): same kind and same shape. Returns a list of _Buf or None."""
    bufs = []
    first = None
    for name, value in args:
        if value is None:
            bufs.append(None)
            continue
        b = _float_buf(value, name)
        if first is None:
            first = (name, b)
        else:
            fname, fb = first
            if b.kind != fb.kind:
                raise TypeError("%s is %s but %s is %s: pass every array of one call "
                                "as the same kind" % (name, b.kind, fname, fb.kind))
            if b.shape != fb.shape:
                raise ValueError("%s has shape %s but %s has shape %s"
                                 % (name, b.shape, fname, fb.shape))
        bufs.append(b)
    return bufs


def _outputs(proto, out, names, want=None):
    """Output buffers: the caller's (``out``, a tuple with None for "allocate")
    or new ones of the same kind and shape as proto. ``want`` (internal) marks
    outputs not to compute (passed to the library as NULL)."""
    if out is None:
        out = (None,) * len(names)
    if not isinstance(out, (tuple, list)) or len(out) != len(names):
        raise ValueError("out must be a tuple of %d buffers (or None entries)" % len(names))
    if want is None:
        want = (True,) * len(names)
    bufs = []
    for name, o, w in zip(names, out, want):
        if not w:
            bufs.append(None)
        elif o is None:
            bufs.append(_new_like(proto))
        else:
            b = _float_buf(o, "out[%s]" % name, writable=True)
            if b.kind != proto.kind:
                raise TypeError("out[%s] is %s but the inputs are %s"
                                % (name, b.kind, proto.kind))
            if b.shape != proto.shape:
                raise ValueError("out[%s] has shape %s, the inputs %s"
                                 % (name, b.shape, proto.shape))
            bufs.append(b)
    return bufs


def _addr(b):
    return None if b is None else b.addr


def _param(value, name):
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError("%s must be a real number, got %s" % (name, type(value).__name__)) from None


def _pairwise(cfunc, fname, out_names, args, params, out, want=None):
    bufs = _inputs(args)
    proto = bufs[0]
    outs = _outputs(proto, out, out_names, want)
    status = getattr(_L(), cfunc)(*([_addr(o) for o in outs] + [_addr(b) for b in bufs]
                                    + [proto.n] + list(params)))
    _check(status, fname)
    return tuple(None if o is None else _result(o) for o in outs)


# ---------------------------------------------------------------------------
# The losses
# ---------------------------------------------------------------------------

def dpo_loss(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps=None,
             ref_rejected_logps=None, beta=0.1, label_smoothing=0.0, *,
             dlosses=None, out=None, _want=None):
    """DPO loss (TRL loss_type="sigmoid"), cDPO with label_smoothing > 0.

    With h = (pc - rc) - (pr - rr) and z = beta*h:
    ``loss = -(1-eps) log sigma(z) - eps log sigma(-z)``. Reference-free when
    both reference arguments are None.

    Returns ``(losses, grad_chosen, grad_rejected)``: the per-pair losses and
    their gradients w.r.t. the policy log-probs, multiplied by ``dlosses``
    (the upstream gradient dTotal/dloss_i; None means ones). ``out`` may give
    the three output buffers (same kind and shape; None entries are
    allocated)."""
    return _pairwise("prefloss_dpo_loss", "prefloss_dpo_loss",
                     ("losses", "grad_chosen", "grad_rejected"),
                     [("policy_chosen_logps", policy_chosen_logps),
                      ("policy_rejected_logps", policy_rejected_logps),
                      ("ref_chosen_logps", ref_chosen_logps),
                      ("ref_rejected_logps", ref_rejected_logps),
                      ("dlosses", dlosses)],
                     [_param(beta, "beta"), _param(label_smoothing, "label_smoothing")], out, _want)


def ipo_loss(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps=None,
             ref_rejected_logps=None, beta=0.1, *, dlosses=None, out=None, _want=None):
    """IPO loss in TRL's scale: ``loss = (h - 1/(2 beta))**2``.

    TRL feeds IPO the mean token log-prob of each response (see
    ``sequence_logps(..., reduction="mean")``). Returns
    ``(losses, grad_chosen, grad_rejected)`` as ``dpo_loss``."""
    return _pairwise("prefloss_ipo_loss", "prefloss_ipo_loss",
                     ("losses", "grad_chosen", "grad_rejected"),
                     [("policy_chosen_logps", policy_chosen_logps),
                      ("policy_rejected_logps", policy_rejected_logps),
                      ("ref_chosen_logps", ref_chosen_logps),
                      ("ref_rejected_logps", ref_rejected_logps),
                      ("dlosses", dlosses)],
                     [_param(beta, "beta")], out, _want)


def ipo_general_loss(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps=None,
                     ref_rejected_logps=None, beta=0.1, alpha1=0.0, alpha2=1.0, *,
                     dlosses=None, out=None, _want=None):
    """IPO in the derivation's general form, for a preference degree in
    [alpha1, alpha2]: ``loss = (beta*h - (alpha2 - alpha1)/2)**2`` (the
    target is the half-width of the range; alpha1 <= alpha2). The paper's
    choice alpha1=0, alpha2=1 is ``beta**2 * ipo_loss``. Returns
    ``(losses, grad_chosen, grad_rejected)`` as ``dpo_loss``."""
    return _pairwise("prefloss_ipo_general_loss", "prefloss_ipo_general_loss",
                     ("losses", "grad_chosen", "grad_rejected"),
                     [("policy_chosen_logps", policy_chosen_logps),
                      ("policy_rejected_logps", policy_rejected_logps),
                      ("ref_chosen_logps", ref_chosen_logps),
                      ("ref_rejected_logps", ref_rejected_logps),
                      ("dlosses", dlosses)],
                     [_param(beta, "beta"), _param(alpha1, "alpha1"),
                      _param(alpha2, "alpha2")], out, _want)


def bt_loss(rewards_chosen, rewards_rejected, margin=None,
            center_rewards_coefficient=0.0, *, dlosses=None, out=None, _want=None):
    """Bradley–Terry reward-model loss (TRL RewardTrainer):
    ``loss = -log sigma(rewards_chosen - rewards_rejected - margin)
    + center_rewards_coefficient * (rewards_chosen + rewards_rejected)**2``.

    Returns ``(losses, grad_chosen, grad_rejected)``: gradients w.r.t. the two
    scores, multiplied by ``dlosses``."""
    if center_rewards_coefficient is None:
        center_rewards_coefficient = 0.0
    return _pairwise("prefloss_bt_loss", "prefloss_bt_loss",
                     ("losses", "grad_chosen", "grad_rejected"),
                     [("rewards_chosen", rewards_chosen),
                      ("rewards_rejected", rewards_rejected),
                      ("margin", margin), ("dlosses", dlosses)],
                     [_param(center_rewards_coefficient, "center_rewards_coefficient")], out, _want)


def rewards(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps=None,
            ref_rejected_logps=None, beta=0.1, *, out=None):
    """The implicit rewards trainers log. Returns ``(chosen_rewards,
    rejected_rewards, margins, accuracies)``: ``beta*(pc - rc)``,
    ``beta*(pr - rr)``, their difference, and 1.0/0.0 for
    ``(pc - rc) > (pr - rr)`` — each exact for the float inputs, rounded once."""
    return _pairwise("prefloss_rewards", "prefloss_rewards",
                     ("chosen_rewards", "rejected_rewards", "margins", "accuracies"),
                     [("policy_chosen_logps", policy_chosen_logps),
                      ("policy_rejected_logps", policy_rejected_logps),
                      ("ref_chosen_logps", ref_chosen_logps),
                      ("ref_rejected_logps", ref_rejected_logps)],
                     [_param(beta, "beta")], out)


def _reduction(reduction):
    if isinstance(reduction, str) and reduction in _REDUCTIONS:
        return _REDUCTIONS[reduction]
    if isinstance(reduction, int) and not isinstance(reduction, bool):
        return reduction  # a library code; an unknown one gives ERR_PARAM
    raise ValueError("reduction must be 'sum' or 'mean', got %r" % (reduction,))


def _bt_shape(b, seq_len, name):
    """(batch, seq_len) of a token buffer: 2-D arrays carry it; a flat
    array.array or list needs seq_len."""
    if len(b.shape) == 2:
        if seq_len is not None and seq_len != b.shape[1]:
            raise ValueError("seq_len=%d but %s has shape %s" % (seq_len, name, b.shape))
        return b.shape
    if len(b.shape) == 1 and seq_len is not None:
        if seq_len <= 0 or b.n % seq_len:
            raise ValueError("%s has %d elements, not a multiple of seq_len=%d"
                             % (name, b.n, seq_len))
        return (b.n // seq_len, seq_len)
    raise ValueError("%s must be 2-D (batch, seq_len), got shape %s (a flat buffer "
                     "needs seq_len=)" % (name, b.shape))


def sequence_logps(token_logps, mask=None, reduction="sum", *, seq_len=None, out=None):
    """Sequence log-probs of a (batch, seq_len) buffer of per-token log-probs:
    the masked sum of each row (``reduction="sum"``, DPO) or that sum divided
    by the row's token count (``"mean"``, IPO in TRL; 0 for an empty row).

    ``mask``: bool or uint8 of the same kind and shape (a token counts when
    non-zero), None for all tokens. A flat ``array.array('f')`` needs
    ``seq_len``. Returns the (batch,) values."""
    b = _float_buf(token_logps, "token_logps")
    batch, T = _bt_shape(b, seq_len, "token_logps")
    maddr, mkeep = (None, None) if mask is None else \
        _mask_buf(mask, "mask", b.kind, b.shape)
    o = _outputs(_new_like(b, (batch,)), None if out is None else (out,), ("seq_logps",))[0]
    status = _L().prefloss_sequence_logps(o.addr, b.addr, maddr, batch, T, _reduction(reduction))
    _check(status, "prefloss_sequence_logps")
    del mkeep
    return _result(o)


def sequence_logps_backward(dseq_logps, mask=None, reduction="sum", *, seq_len=None,
                            out=None):
    """Backward of ``sequence_logps``: the gradient w.r.t. each token,
    ``mask * dseq_logps[b]`` (divided by the row's token count for "mean").
    The (batch, seq_len) shape comes from ``mask`` or from ``seq_len``."""
    d = _float_buf(dseq_logps, "dseq_logps")
    if len(d.shape) != 1:
        raise ValueError("dseq_logps must be 1-D (batch,), got shape %s" % (d.shape,))
    batch = d.n
    if mask is not None:
        mk = _kind_of(mask)
        if mk in ("numpy", "torch"):
            mshape = tuple(mask.shape)
        elif mk == "list":
            mshape = _list_shape(mask, "mask")
        elif mk == "array" or isinstance(mask, (bytes, bytearray)):
            mshape = (len(mask),)
        else:
            raise TypeError("mask: expected a bool/uint8 array, tensor, bytes or list, got %s"
                            % type(mask).__name__)
        if len(mshape) == 2:
            T = mshape[1]
            if seq_len is not None and seq_len != T:
                raise ValueError("seq_len=%d but mask has shape %s" % (seq_len, mshape))
            tshape = (batch, T)
        elif len(mshape) == 1 and seq_len is not None and seq_len > 0:
            T = seq_len
            tshape = (batch * T,)
        else:
            raise ValueError("mask must be 2-D (batch, seq_len), or flat with seq_len=; "
                             "got shape %s" % (mshape,))
        maddr, mkeep = _mask_buf(mask, "mask", d.kind, tshape)
    else:
        if seq_len is None or seq_len < 0:
            raise ValueError("without a mask, seq_len (tokens per row) is needed")
        T = seq_len
        maddr, mkeep = None, None
    oshape = (batch * T,) if d.kind == "array" else (batch, T)
    o = _outputs(_new_like(d, oshape), None if out is None else (out,), ("dtoken_logps",))[0]
    status = _L().prefloss_sequence_logps_backward(o.addr, d.addr, maddr, batch, T,
                                                   _reduction(reduction))
    _check(status, "prefloss_sequence_logps_backward")
    del mkeep
    return _result(o)


# ---------------------------------------------------------------------------
# The loss catalogue (libprefloss >= 1.1)
# ---------------------------------------------------------------------------

def _catalogue(func):
    """The loaded library, checked to have the catalogue (release >= 1.1)."""
    lib = _L()
    if lib.prefloss_version_number() < CATALOGUE_VERSION_NUMBER or \
            getattr(lib, func, None) is None:
        raise Error("%s needs libprefloss >= %d.%d (symbol version PREFLOSS_1.1: the "
                    "loss catalogue, ORPO, KTO); the loaded library is %s"
                    % (func, CATALOGUE_VERSION_NUMBER // 10000,
                       CATALOGUE_VERSION_NUMBER // 100 % 100, version()))
    return lib


def loss_types():
    """The TRL ``loss_type`` names of the library's catalogue, indexed by kind
    (``loss_types()[k]`` is the name of kind ``k``)."""
    lib = _catalogue("prefloss_loss_kind_name")
    names, k = [], 0
    while True:
        name = lib.prefloss_loss_kind_name(k)
        if name is None:
            return names
        names.append(name.decode())
        k += 1


def _loss_kind(loss_type):
    """A TRL loss_type name or a PREFLOSS_LOSS_* integer -> the kind.

    An unknown *name* raises ValueError (a bad argument value, as for
    ``reduction``); an integer is passed through as it is, so an unknown
    kind number is the library's PREFLOSS_ERR_PARAM (prefloss.Error)."""
    if isinstance(loss_type, str):
        lib = _catalogue("prefloss_loss_kind_from_name")
        try:
            encoded = loss_type.encode("ascii")
        except UnicodeEncodeError:
            encoded = None
        kind = ERR_PARAM if encoded is None or b"\0" in encoded \
            else lib.prefloss_loss_kind_from_name(encoded)
        if kind < 0:
            raise ValueError("unknown loss_type %r; expected one of %s"
                             % (loss_type, ", ".join(loss_types())))
        return kind
    if isinstance(loss_type, bool):
        raise TypeError("loss_type must be a name (str) or a kind (int), got bool")
    try:
        kind = loss_type.__index__()
    except AttributeError:
        raise TypeError("loss_type must be a name (str) or a kind (int), got %s"
                        % type(loss_type).__name__) from None
    # outside C int: no such kind either (the library says so for the value -1)
    return kind if -2 ** 31 <= kind < 2 ** 31 else -1


def _pair_params(beta, label_smoothing, discopop_tau, alpha, simpo_gamma, bco_delta):
    p = PairParams()
    # the library writes only the fields that fit in this block's size
    _check(_catalogue("prefloss_pair_params_init").prefloss_pair_params_init(
        _ct.byref(p), _ct.sizeof(p)), "prefloss_pair_params_init")
    p.beta = _param(beta, "beta")
    p.label_smoothing = _param(label_smoothing, "label_smoothing")
    p.discopop_tau = _param(discopop_tau, "discopop_tau")
    p.alpha = _param(alpha, "alpha")
    p.simpo_gamma = _param(simpo_gamma, "simpo_gamma")
    p.bco_delta = _param(bco_delta, "bco_delta")
    return p


def pair_loss(loss_type, policy_chosen_logps, policy_rejected_logps, ref_chosen_logps=None,
              ref_rejected_logps=None, beta=0.1, label_smoothing=0.0, weights=None,
              dlosses=None, discopop_tau=0.05, alpha=1.0, simpo_gamma=0.5, bco_delta=0.0,
              out=None, _want=None):
    """Any pairwise loss of the library's catalogue (libprefloss >= 1.1), by
    TRL's ``loss_type`` name ("sigmoid", "ipo", "hinge", "robust", "exo_pair",
    "nca_pair", "bco_pair", "sppo_hard", "apo_zero", "apo_down", "discopop",
    "js_divergence", "alpha_divergence", "simpo", "cpo"; see ``loss_types()``)
    or by its PREFLOSS_LOSS_* integer kind.

    Each kind reads only the parameters it uses: ``beta`` (all),
    ``label_smoothing`` (sigmoid, robust, exo_pair -- where 0 means 1e-3 as in
    TRL --, js_divergence, alpha_divergence, simpo, cpo), ``discopop_tau``,
    ``alpha`` (alpha_divergence), ``simpo_gamma``, ``bco_delta`` (bco_pair:
    the running mean of rewards, see ``bco_update_delta``). "simpo" and "cpo"
    ignore the references (pass mean log-probs to simpo, as TRL's CPOTrainer).

    ``weights`` (optional, per pair) scales every output of the pair (a
    non-finite weight makes the pair NaN, with a RuntimeWarning);
    ``dlosses`` is the upstream gradient (None means ones).

    Returns ``(losses, grad_chosen, grad_rejected)`` in the kind of the
    inputs: ``w*L``, ``w*dlosses*dL/dpc``, ``w*dlosses*dL/dpr``. An unknown
    loss_type name raises ValueError; an unknown integer kind or a parameter
    out of its range raises prefloss.Error (PREFLOSS_ERR_PARAM); with a
    library older than 1.1, prefloss.Error."""
    lib = _catalogue("prefloss_pair_loss")
    kind = _loss_kind(loss_type)
    params = _pair_params(beta, label_smoothing, discopop_tau, alpha, simpo_gamma, bco_delta)
    bufs = _inputs([("policy_chosen_logps", policy_chosen_logps),
                    ("policy_rejected_logps", policy_rejected_logps),
                    ("ref_chosen_logps", ref_chosen_logps),
                    ("ref_rejected_logps", ref_rejected_logps),
                    ("weights", weights), ("dlosses", dlosses)])
    proto = bufs[0]
    outs = _outputs(proto, out, ("losses", "grad_chosen", "grad_rejected"), _want)
    status = lib.prefloss_pair_loss(*([_addr(o) for o in outs] + [_addr(b) for b in bufs]
                                      + [proto.n, kind, _ct.byref(params)]))
    _check(status, "prefloss_pair_loss")
    return tuple(None if o is None else _result(o) for o in outs)


def bco_update_delta(delta, count, policy_chosen_logps, policy_rejected_logps,
                     ref_chosen_logps=None, ref_rejected_logps=None, beta=0.1):
    """The running mean of rewards that "bco_pair" uses as ``bco_delta``
    (TRL's RunningMoments mean), updated with one batch: returns the new
    ``(delta, count)`` -- ``(count*delta + sum of the 2n rewards beta*(pc - rc)
    and beta*(pr - rr)) / (count + 2n)`` and ``count + 2n`` -- as Python
    floats (float32 values). Start from ``(0.0, 0.0)``. A batch with a
    non-finite input leaves the state unchanged (RuntimeWarning)."""
    lib = _catalogue("prefloss_bco_update_delta")
    bufs = _inputs([("policy_chosen_logps", policy_chosen_logps),
                    ("policy_rejected_logps", policy_rejected_logps),
                    ("ref_chosen_logps", ref_chosen_logps),
                    ("ref_rejected_logps", ref_rejected_logps)])
    d = _F(_param(delta, "delta"))
    c = _F(_param(count, "count"))
    status = lib.prefloss_bco_update_delta(_ct.byref(d), _ct.byref(c),
                                           *([_addr(b) for b in bufs]
                                             + [bufs[0].n, _param(beta, "beta")]))
    _check(status, "prefloss_bco_update_delta")
    return d.value, c.value


def _inputs_any(args, what):
    """_inputs, but the prototype (kind, shape, n) is the first argument that is
    not None, so that a None required buffer reaches the library (which
    reports it as PREFLOSS_ERR_NULL). Returns (bufs, proto)."""
    bufs = _inputs(args)
    proto = next((b for b in bufs if b is not None), None)
    if proto is None:
        raise TypeError("%s: every array argument is None" % what)
    return bufs, proto


def orpo_loss(policy_chosen_logps, policy_rejected_logps, beta=0.1, nll_weight=1.0,
              dlosses=None, out=None, _want=None):
    """ORPO's loss (TRL ORPOTrainer; libprefloss >= 1.1), per pair, on MEAN
    token log-probs ``a = policy_chosen_logps``, ``b = policy_rejected_logps``
    (both < 0; see ``sequence_logps(..., reduction="mean")``):

        log_odds = (a - b) - (log(1 - e^a) - log(1 - e^b))
        loss     = -nll_weight * a - beta * logsigmoid(log_odds)

    ``beta`` is TRL's name for ORPO's lambda (finite >= 0); ``nll_weight``
    (finite, any sign) weighs the NLL term -a (0: the odds-ratio term alone).
    TRL's total loss is the batch mean of this with nll_weight=1, except that
    TRL averages its NLL over all chosen tokens of the batch rather than per
    pair. log(1 - e^x) is formed stably, so log-probs near 0 do not cancel.

    Returns ``(losses, grad_chosen, grad_rejected)`` (gradients multiplied by
    ``dlosses``, None meaning ones) in the kind of the inputs. A pair with a
    log-prob that is >= 0 (or not finite) is NaN, with a RuntimeWarning."""
    lib = _catalogue("prefloss_orpo_loss")
    lam, nll = _param(beta, "beta"), _param(nll_weight, "nll_weight")
    bufs, proto = _inputs_any([("policy_chosen_logps", policy_chosen_logps),
                               ("policy_rejected_logps", policy_rejected_logps),
                               ("dlosses", dlosses)], "orpo_loss")
    outs = _outputs(proto, out, ("losses", "grad_chosen", "grad_rejected"), _want)
    status = lib.prefloss_orpo_loss(*([_addr(o) for o in outs] + [_addr(b) for b in bufs]
                                      + [proto.n, lam, nll]))
    _check(status, "prefloss_orpo_loss")
    return tuple(None if o is None else _result(o) for o in outs)


def aot_loss(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps=None,
             ref_rejected_logps=None, beta=0.1, label_smoothing=0.0, loss_type="aot",
             dlosses=None, out=None):
    """AOT (TRL loss_type="aot" or "aot_pair"; libprefloss >= 1.1): the
    sigmoid loss with label smoothing on rank-matched differences over the
    batch, ``d_i = sort(pc - pr)_i - sort(rc - rr)_i`` ("aot") or
    ``sort(pc - rc)_i - sort(pr - rr)_i`` ("aot_pair"). ``losses[i]`` is the
    loss of rank i; ``dlosses[i]`` its upstream gradient. The gradients are
    per pair (sent back through the sort). The workspace the library needs
    (2n indices) is allocated here.

    Returns ``(losses, grad_chosen, grad_rejected)`` in the kind of the inputs."""
    if loss_type not in ("aot", "aot_pair"):
        raise ValueError('aot_loss: loss_type must be "aot" or "aot_pair", got %r' % (loss_type,))
    lib = _catalogue("prefloss_aot_loss")
    params = [_param(beta, "beta"), _param(label_smoothing, "label_smoothing")]
    bufs, proto = _inputs_any([("policy_chosen_logps", policy_chosen_logps),
                               ("policy_rejected_logps", policy_rejected_logps),
                               ("ref_chosen_logps", ref_chosen_logps),
                               ("ref_rejected_logps", ref_rejected_logps),
                               ("dlosses", dlosses)], "aot_loss")
    outs = _outputs(proto, out, ("losses", "grad_chosen", "grad_rejected"))
    workspace = (_ct.c_size_t * max(2 * proto.n, 1))()
    status = lib.prefloss_aot_loss(*([_addr(o) for o in outs] + [_addr(b) for b in bufs]
                                     + [proto.n] + params
                                     + [1 if loss_type == "aot_pair" else 0, workspace]))
    _check(status, "prefloss_aot_loss")
    return tuple(_result(o) for o in outs)


def _public_lengths(public_lengths, batch):
    """The (batch,) public lengths as a size_t array (a copy: B integers)."""
    try:
        values = [int(v) for v in (public_lengths.tolist() if hasattr(public_lengths, "tolist")
                                   else public_lengths)]
    except TypeError:
        raise TypeError("public_lengths must be a sequence of integers") from None
    if len(values) != batch:
        raise ValueError("public_lengths has %d entries for %d rows" % (len(values), batch))
    if any(v < 0 for v in values):
        raise ValueError("public_lengths must not be negative")
    return (_ct.c_size_t * max(batch, 1))(*values)


def sequence_logps_ld(token_logps, public_lengths, alpha, mask=None, *, seq_len=None, out=None):
    """LD-DPO's length-desensitised sequence log-probs (libprefloss >= 1.1):
    of each row's counted tokens the first ``public_lengths[b]`` count fully
    and the rest with weight ``alpha`` (in [0, 1]). ``public_lengths`` is
    usually min(len_chosen, len_rejected) of the row's pair. Returns (batch,)."""
    lib = _catalogue("prefloss_sequence_logps_ld")
    b = _float_buf(token_logps, "token_logps")
    batch, T = _bt_shape(b, seq_len, "token_logps")
    maddr, mkeep = (None, None) if mask is None else _mask_buf(mask, "mask", b.kind, b.shape)
    lengths = _public_lengths(public_lengths, batch)
    o = _outputs(_new_like(b, (batch,)), None if out is None else (out,), ("seq_logps",))[0]
    status = lib.prefloss_sequence_logps_ld(o.addr, b.addr, maddr, lengths, batch, T,
                                            _param(alpha, "alpha"))
    _check(status, "prefloss_sequence_logps_ld")
    del mkeep
    return _result(o)


def sequence_logps_ld_backward(dseq_logps, public_lengths, alpha, mask=None, *, seq_len,
                               out=None):
    """Backward of ``sequence_logps_ld``: each counted token gets dseq (within
    the public length) or alpha*dseq (after it); masked tokens 0. Returns
    (batch, seq_len) in the kind of ``dseq_logps``."""
    lib = _catalogue("prefloss_sequence_logps_ld_backward")
    d = _float_buf(dseq_logps, "dseq_logps")
    batch, T = d.n, int(seq_len)
    shape = (batch, T)
    maddr, mkeep = (None, None) if mask is None else _mask_buf(mask, "mask", d.kind, shape)
    lengths = _public_lengths(public_lengths, batch)
    o = _outputs(_new_like(d, shape), None if out is None else (out,), ("dtoken_logps",))[0]
    status = lib.prefloss_sequence_logps_ld_backward(o.addr, d.addr, maddr, lengths, batch, T,
                                                     _param(alpha, "alpha"))
    _check(status, "prefloss_sequence_logps_ld_backward")
    del mkeep
    return _result(o)


def kto_loss(policy_logps, reference_logps=None, desirable=None, beta=0.1, kl=0.0,
             desirable_weight=1.0, undesirable_weight=1.0, dlosses=None, out=None,
             _want=None):
    """KTO's loss (TRL KTOTrainer, loss_type="kto"; libprefloss >= 1.1) on
    unpaired samples. With ``u = policy_logps - reference_logps`` (reference
    None: 0) and ``kl`` the detached KL estimate (see ``kto_kl``; finite >= 0):

        desirable:   desirable_weight   * (1 - sigmoid(beta * (u - kl)))
        undesirable: undesirable_weight * (1 - sigmoid(beta * (kl - u)))

    ``desirable``: one byte per sample (non-zero = desirable) -- a bool/uint8
    array or tensor, or a list of booleans/0/1 -- of the same kind and shape
    as ``policy_logps`` (an ``array.array('f')`` takes ``array('B')`` or
    bytes), as the masks of ``sequence_logps``. It is required: None (with
    samples) is the library's PREFLOSS_ERR_NULL. ``kl`` may be a 0-d tensor.

    Returns ``(losses, grad_policy)``; the reference gets no gradient."""
    lib = _catalogue("prefloss_kto_loss")
    params = [_param(beta, "beta"), _param(kl, "kl"),
              _param(desirable_weight, "desirable_weight"),
              _param(undesirable_weight, "undesirable_weight")]
    bufs, proto = _inputs_any([("policy_logps", policy_logps),
                               ("reference_logps", reference_logps),
                               ("dlosses", dlosses)], "kto_loss")
    daddr, dkeep = (None, None) if desirable is None else \
        _mask_buf(desirable, "desirable", proto.kind, proto.shape)
    outs = _outputs(proto, out, ("losses", "grad_policy"), _want)
    status = lib.prefloss_kto_loss(*([_addr(o) for o in outs] + [_addr(bufs[0]), _addr(bufs[1]),
                                                                daddr, _addr(bufs[2]), proto.n]
                                     + params))
    del dkeep
    _check(status, "prefloss_kto_loss")
    return tuple(None if o is None else _result(o) for o in outs)


def kto_kl(policy_kl_logps, reference_kl_logps):
    """KTO's KL estimate (TRL KTOTrainer; libprefloss >= 1.1):
    ``max(0, mean(policy_kl_logps - reference_kl_logps))`` with the sum formed
    exactly, as a Python float (a float32 value); 0.0 for no samples. TRL
    computes it on mismatched prompt/completion pairs and detaches it: pass the
    result as ``kto_loss(..., kl=...)``. A non-finite input gives NaN and a
    RuntimeWarning."""
    lib = _catalogue("prefloss_kto_kl")
    bufs, proto = _inputs_any([("policy_kl_logps", policy_kl_logps),
                               ("reference_kl_logps", reference_kl_logps)], "kto_kl")
    kl = _F(0.0)
    status = lib.prefloss_kto_kl(_ct.byref(kl), _addr(bufs[0]), _addr(bufs[1]), proto.n)
    _check(status, "prefloss_kto_kl")
    return kl.value


def _mix_kinds(loss_types, mix_weights):
    """(kinds, weights, count) as ctypes arrays for prefloss_pair_loss_mix."""
    if isinstance(loss_types, (str, bytes)):
        raise TypeError("loss_types must be a list of loss types (names or kinds), "
                        "not a single %s" % type(loss_types).__name__)
    kinds = [_loss_kind(t) for t in loss_types]
    mws = [_param(w, "mix_weights[%d]" % i) for i, w in enumerate(mix_weights)]
    if len(kinds) != len(mws):
        raise ValueError("%d loss_types but %d mix_weights" % (len(kinds), len(mws)))
    k = len(kinds)
    return (_ct.c_int * k)(*kinds) if k else None, (_F * k)(*mws) if k else None, k


def pair_loss_mix(loss_types, mix_weights, policy_chosen_logps, policy_rejected_logps,
                  ref_chosen_logps=None, ref_rejected_logps=None, beta=0.1,
                  label_smoothing=0.0, discopop_tau=0.05, alpha=1.0, simpo_gamma=0.5,
                  bco_delta=0.0, weights=None, dlosses=None, out=None, _want=None):
    """A weighted sum of catalogue losses in one call (MPO style; TRL's
    ``loss_type=[...]`` with ``loss_weights=[...]``; libprefloss >= 1.1):
    ``sum_k mix_weights[k] * pair_loss(loss_types[k], ...)``, gradients alike.

    ``loss_types``: a list of TRL names or PREFLOSS_LOSS_* kinds (an unknown
    name raises ValueError, an unknown kind prefloss.Error);
    ``mix_weights``: as many finite numbers. An empty list gives zeros. All
    kinds share one parameter set (as ``pair_loss``); ``weights`` (per pair)
    and ``dlosses`` apply to every term. Returns ``(losses, grad_chosen,
    grad_rejected)`` in the kind of the inputs."""
    lib = _catalogue("prefloss_pair_loss_mix")
    kinds, mws, k = _mix_kinds(loss_types, mix_weights)
    params = _pair_params(beta, label_smoothing, discopop_tau, alpha, simpo_gamma, bco_delta)
    bufs, proto = _inputs_any([("policy_chosen_logps", policy_chosen_logps),
                               ("policy_rejected_logps", policy_rejected_logps),
                               ("ref_chosen_logps", ref_chosen_logps),
                               ("ref_rejected_logps", ref_rejected_logps),
                               ("weights", weights), ("dlosses", dlosses)], "pair_loss_mix")
    outs = _outputs(proto, out, ("losses", "grad_chosen", "grad_rejected"), _want)
    status = lib.prefloss_pair_loss_mix(*([_addr(o) for o in outs] + [_addr(b) for b in bufs]
                                          + [proto.n, kinds, mws, k, _ct.byref(params)]))
    _check(status, "prefloss_pair_loss_mix")
    return tuple(None if o is None else _result(o) for o in outs)


# ---------------------------------------------------------------------------
# prefloss.torch: autograd wrappers (torch imported on first use)
# ---------------------------------------------------------------------------

def _build_torch_namespace():
    import torch as th
    from torch.autograd.function import once_differentiable

    LOSS, GRADS = (True, False, False), (False, True, True)

    def tensors(name, *xs):
        for x in xs:
            if x is not None and not isinstance(x, th.Tensor):
                raise TypeError("prefloss.torch.%s takes torch tensors, got %s"
                                % (name, type(x).__name__))

    def det(t):
        return None if t is None else t.detach()

    def upstream(grad):
        """The upstream gradient as the library wants it: float32 and
        contiguous (loss.mean().backward() hands over an expanded, stride-0
        tensor). This is the binding's own buffer, not the caller's."""
        return grad.to(dtype=th.float32).contiguous()

    class DPOLoss(th.autograd.Function):
        """Per-pair DPO loss with autograd:
        ``DPOLoss.apply(pc, pr, rc, rr, beta, label_smoothing)``.

        rc, rr may be None (reference-free); they get no gradient. The
        forward computes the losses only; the backward is one library call
        that multiplies by the upstream gradient."""

        @staticmethod
        def forward(ctx, pc, pr, rc=None, rr=None, beta=0.1, label_smoothing=0.0):
            tensors("DPOLoss", pc, pr, rc, rr)
            losses = dpo_loss(det(pc), det(pr), det(rc), det(rr), beta, label_smoothing,
                              _want=LOSS)[0]
            ctx.inputs = (det(pc), det(pr), det(rc), det(rr))
            ctx.params = (beta, label_smoothing)
            return losses

        @staticmethod
        @once_differentiable
        def backward(ctx, grad):
            _, dc, dr = dpo_loss(*ctx.inputs, *ctx.params, dlosses=upstream(grad),
                                 _want=GRADS)
            return dc, dr, None, None, None, None

    class IPOLoss(th.autograd.Function):
        """Per-pair IPO loss (TRL scale) with autograd:
        ``IPOLoss.apply(pc, pr, rc, rr, beta)``; as DPOLoss."""

        @staticmethod
        def forward(ctx, pc, pr, rc=None, rr=None, beta=0.1):
            tensors("IPOLoss", pc, pr, rc, rr)
            losses = ipo_loss(det(pc), det(pr), det(rc), det(rr), beta, _want=LOSS)[0]
            ctx.inputs = (det(pc), det(pr), det(rc), det(rr))
            ctx.beta = beta
            return losses

        @staticmethod
        @once_differentiable
        def backward(ctx, grad):
            _, dc, dr = ipo_loss(*ctx.inputs, ctx.beta, dlosses=upstream(grad), _want=GRADS)
            return dc, dr, None, None, None

    class BTLoss(th.autograd.Function):
        """Per-pair Bradley–Terry loss with autograd w.r.t. both scores:
        ``BTLoss.apply(rewards_chosen, rewards_rejected, margin,
        center_rewards_coefficient)``; the margin gets no gradient."""

        @staticmethod
        def forward(ctx, sw, sl, margin=None, center_rewards_coefficient=0.0):
            tensors("BTLoss", sw, sl, margin)
            losses = bt_loss(det(sw), det(sl), det(margin), center_rewards_coefficient,
                             _want=LOSS)[0]
            ctx.inputs = (det(sw), det(sl), det(margin))
            ctx.coef = center_rewards_coefficient
            return losses

        @staticmethod
        @once_differentiable
        def backward(ctx, grad):
            _, dw, dl = bt_loss(*ctx.inputs, ctx.coef, dlosses=upstream(grad), _want=GRADS)
            return dw, dl, None, None

    class SequenceLogps(th.autograd.Function):
        """(batch, seq_len) token log-probs -> (batch,) sequence log-probs
        (masked sum or mean) with autograd:
        ``SequenceLogps.apply(token_logps, mask, reduction)``."""

        @staticmethod
        def forward(ctx, token_logps, mask=None, reduction="sum"):
            tensors("SequenceLogps", token_logps, mask)
            seq = sequence_logps(det(token_logps), mask, reduction)
            ctx.mask = mask
            ctx.reduction = reduction
            ctx.seq_len = token_logps.shape[1]
            return seq

        @staticmethod
        @once_differentiable
        def backward(ctx, grad):
            dt = sequence_logps_backward(upstream(grad), ctx.mask, ctx.reduction,
                                         seq_len=ctx.seq_len)
            return dt, None, None

    class PairLoss(th.autograd.Function):
        """Per-pair loss of the catalogue with autograd:
        ``PairLoss.apply(loss_type, pc, pr, rc, rr, weights, beta,
        label_smoothing, discopop_tau, alpha, simpo_gamma, bco_delta)``
        (every argument after pr may be omitted from the end).

        Gradients flow to pc and pr only: the references and the weights are
        data (they get None). The forward computes the (weighted) losses only;
        the backward is one library call with the upstream gradient."""

        @staticmethod
        def forward(ctx, loss_type, pc, pr, rc=None, rr=None, weights=None, beta=0.1,
                    label_smoothing=0.0, discopop_tau=0.05, alpha=1.0, simpo_gamma=0.5,
                    bco_delta=0.0):
            tensors("PairLoss", pc, pr, rc, rr, weights)
            ctx.inputs = (det(pc), det(pr), det(rc), det(rr), det(weights))
            ctx.params = dict(beta=beta, label_smoothing=label_smoothing,
                              discopop_tau=discopop_tau, alpha=alpha,
                              simpo_gamma=simpo_gamma, bco_delta=bco_delta)
            ctx.loss_type = loss_type
            pc, pr, rc, rr, w = ctx.inputs
            return pair_loss(loss_type, pc, pr, rc, rr, weights=w, _want=LOSS,
                             **ctx.params)[0]

        @staticmethod
        @once_differentiable
        def backward(ctx, grad):
            pc, pr, rc, rr, w = ctx.inputs
            _, dc, dr = pair_loss(ctx.loss_type, pc, pr, rc, rr, weights=w,
                                  dlosses=upstream(grad), _want=GRADS, **ctx.params)
            return (None, dc, dr) + (None,) * 9

    class PairLossMix(th.autograd.Function):
        """Weighted sum of catalogue losses with autograd:
        ``PairLossMix.apply(loss_types, mix_weights, pc, pr, rc, rr, weights,
        beta, label_smoothing, discopop_tau, alpha, simpo_gamma, bco_delta)``
        (every argument after pr may be omitted from the end). Gradients flow
        to pc and pr only; the backward is one library call."""

        @staticmethod
        def forward(ctx, loss_types, mix_weights, pc, pr, rc=None, rr=None, weights=None,
                    beta=0.1, label_smoothing=0.0, discopop_tau=0.05, alpha=1.0,
                    simpo_gamma=0.5, bco_delta=0.0):
            tensors("PairLossMix", pc, pr, rc, rr, weights)
            # fixed now: a list the caller changes later must not change the backward
            ctx.mix = (list(loss_types) if not isinstance(loss_types, (str, bytes))
                       else loss_types,
                       [float(w) for w in mix_weights] if not th.is_tensor(mix_weights)
                       else mix_weights.detach().tolist())
            ctx.inputs = (det(pc), det(pr), det(rc), det(rr), det(weights))
            ctx.params = dict(beta=beta, label_smoothing=label_smoothing,
                              discopop_tau=discopop_tau, alpha=alpha,
                              simpo_gamma=simpo_gamma, bco_delta=bco_delta)
            pc, pr, rc, rr, w = ctx.inputs
            return pair_loss_mix(*ctx.mix, pc, pr, rc, rr, weights=w, _want=LOSS,
                                 **ctx.params)[0]

        @staticmethod
        @once_differentiable
        def backward(ctx, grad):
            pc, pr, rc, rr, w = ctx.inputs
            _, dc, dr = pair_loss_mix(*ctx.mix, pc, pr, rc, rr, weights=w,
                                      dlosses=upstream(grad), _want=GRADS, **ctx.params)
            return (None, None, dc, dr) + (None,) * 9

    class ORPOLoss(th.autograd.Function):
        """Per-pair ORPO loss (odds-ratio term plus NLL on mean log-probs) with
        autograd w.r.t. both: ``ORPOLoss.apply(pc, pr, beta, nll_weight)``."""

        @staticmethod
        def forward(ctx, pc, pr, beta=0.1, nll_weight=1.0):
            tensors("ORPOLoss", pc, pr)
            ctx.inputs = (det(pc), det(pr))
            ctx.params = (beta, nll_weight)
            return orpo_loss(*ctx.inputs, *ctx.params, _want=LOSS)[0]

        @staticmethod
        @once_differentiable
        def backward(ctx, grad):
            _, dc, dr = orpo_loss(*ctx.inputs, *ctx.params, dlosses=upstream(grad),
                                  _want=GRADS)
            return dc, dr, None, None

    class KTOLoss(th.autograd.Function):
        """Per-sample KTO loss with autograd w.r.t. the policy log-probs:
        ``KTOLoss.apply(policy, reference, desirable, beta, kl,
        desirable_weight, undesirable_weight)``; the reference, the desirable
        mask and kl (detached, as in TRL) get no gradient."""

        @staticmethod
        def forward(ctx, policy, reference=None, desirable=None, beta=0.1, kl=0.0,
                    desirable_weight=1.0, undesirable_weight=1.0):
            tensors("KTOLoss", policy, reference, desirable)
            ctx.inputs = (det(policy), det(reference), desirable)
            ctx.params = (beta, _param(kl, "kl"), desirable_weight, undesirable_weight)
            return kto_loss(*ctx.inputs, *ctx.params, _want=(True, False))[0]

        @staticmethod
        @once_differentiable
        def backward(ctx, grad):
            _, dp = kto_loss(*ctx.inputs, *ctx.params, dlosses=upstream(grad),
                             _want=(False, True))
            return dp, None, None, None, None, None, None

    def dpo_loss_t(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps=None,
                   ref_rejected_logps=None, beta=0.1, label_smoothing=0.0):
        """Per-pair DPO losses: a tensor that backpropagates through libprefloss.
        Replaces ``-F.logsigmoid(beta * logits)`` (cDPO with label_smoothing)."""
        return DPOLoss.apply(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps,
                             ref_rejected_logps, beta, label_smoothing)

    def ipo_loss_t(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps=None,
                   ref_rejected_logps=None, beta=0.1):
        """Per-pair IPO losses (TRL scale) with autograd."""
        return IPOLoss.apply(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps,
                             ref_rejected_logps, beta)

    def bt_loss_t(rewards_chosen, rewards_rejected, margin=None,
                  center_rewards_coefficient=0.0):
        """Per-pair Bradley–Terry losses with autograd."""
        return BTLoss.apply(rewards_chosen, rewards_rejected, margin,
                            0.0 if center_rewards_coefficient is None
                            else center_rewards_coefficient)

    def pair_loss_t(loss_type, policy_chosen_logps, policy_rejected_logps,
                    ref_chosen_logps=None, ref_rejected_logps=None, weights=None, **params):
        """Per-pair losses of any catalogue kind (TRL loss_type name or integer
        kind) with autograd w.r.t. the policy log-probs. ``params``: beta,
        label_smoothing, discopop_tau, alpha, simpo_gamma, bco_delta (as
        ``prefloss.pair_loss``)."""
        names = ("beta", "label_smoothing", "discopop_tau", "alpha", "simpo_gamma",
                 "bco_delta")
        unknown = set(params) - set(names)
        if unknown:
            raise TypeError("pair_loss() got unexpected keyword argument(s) %s"
                            % ", ".join(sorted(unknown)))
        defaults = dict(beta=0.1, label_smoothing=0.0, discopop_tau=0.05, alpha=1.0,
                        simpo_gamma=0.5, bco_delta=0.0)
        defaults.update(params)
        return PairLoss.apply(loss_type, policy_chosen_logps, policy_rejected_logps,
                              ref_chosen_logps, ref_rejected_logps, weights,
                              *(defaults[k] for k in names))

    def pair_loss_mix_t(loss_types, mix_weights, policy_chosen_logps, policy_rejected_logps,
                        ref_chosen_logps=None, ref_rejected_logps=None, weights=None,
                        **params):
        """Weighted sum of catalogue losses (``prefloss.pair_loss_mix``) with
        autograd w.r.t. the policy log-probs. ``params`` as ``pair_loss``."""
        names = ("beta", "label_smoothing", "discopop_tau", "alpha", "simpo_gamma",
                 "bco_delta")
        unknown = set(params) - set(names)
        if unknown:
            raise TypeError("pair_loss_mix() got unexpected keyword argument(s) %s"
                            % ", ".join(sorted(unknown)))
        defaults = dict(beta=0.1, label_smoothing=0.0, discopop_tau=0.05, alpha=1.0,
                        simpo_gamma=0.5, bco_delta=0.0)
        defaults.update(params)
        return PairLossMix.apply(loss_types, mix_weights, policy_chosen_logps,
                                 policy_rejected_logps, ref_chosen_logps, ref_rejected_logps,
                                 weights, *(defaults[k] for k in names))

    def orpo_loss_t(policy_chosen_logps, policy_rejected_logps, beta=0.1, nll_weight=1.0):
        """Per-pair ORPO losses on mean log-probs (``prefloss.orpo_loss``) with
        autograd. TRL's ``policy_nll_loss - beta * ratio.mean()`` is
        ``orpo_loss(pc, pr, beta, nll_weight=0).mean() + nll`` with TRL's own
        token-averaged NLL."""
        return ORPOLoss.apply(policy_chosen_logps, policy_rejected_logps, beta, nll_weight)

    def kto_loss_t(policy_logps, reference_logps=None, desirable=None, beta=0.1, kl=0.0,
                   desirable_weight=1.0, undesirable_weight=1.0):
        """Per-sample KTO losses (``prefloss.kto_loss``) with autograd w.r.t.
        ``policy_logps``; ``desirable`` a bool/uint8 tensor."""
        return KTOLoss.apply(policy_logps, reference_logps, desirable, beta, kl,
                             desirable_weight, undesirable_weight)

    def sequence_logps_t(token_logps, mask=None, reduction="sum"):
        """(batch,) sequence log-probs of (batch, seq_len) token log-probs, with autograd."""
        return SequenceLogps.apply(token_logps, mask, reduction)

    return {
        "DPOLoss": DPOLoss, "IPOLoss": IPOLoss, "BTLoss": BTLoss,
        "SequenceLogps": SequenceLogps, "PairLoss": PairLoss,
        "PairLossMix": PairLossMix, "ORPOLoss": ORPOLoss, "KTOLoss": KTOLoss,
        "pair_loss": pair_loss_t, "pair_loss_mix": pair_loss_mix_t,
        "orpo_loss": orpo_loss_t, "kto_loss": kto_loss_t,
        "dpo_loss": dpo_loss_t, "ipo_loss": ipo_loss_t, "bt_loss": bt_loss_t,
        "sequence_logps": sequence_logps_t,
    }


class _TorchNamespace:
    """``prefloss.torch``: the autograd wrappers; imports torch on first use."""

    _names = ("DPOLoss", "IPOLoss", "BTLoss", "SequenceLogps", "PairLoss",
              "PairLossMix", "ORPOLoss", "KTOLoss",
              "dpo_loss", "ipo_loss", "bt_loss", "sequence_logps", "pair_loss",
              "pair_loss_mix", "orpo_loss", "kto_loss")

    def __init__(self):
        self._ns = None

    def __getattr__(self, name):
        if name.startswith("__") or name not in self._names:
            raise AttributeError("prefloss.torch has no attribute %r" % name)
        if self._ns is None:
            self._ns = _build_torch_namespace()
        return self._ns[name]

    def __dir__(self):
        return list(self._names)

    def __repr__(self):
        return "<prefloss.torch: autograd wrappers (%s)>" % (
            "loaded" if self._ns is not None else "torch not imported yet")


torch = _TorchNamespace()
