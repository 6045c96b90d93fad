"""Loading libprefloss, its ctypes prototypes, status codes and parameters.

Everything here is done once: the library is loaded on first use, every
prototype is set when it is bound, the kind names and the parameter defaults
are read from the library itself (``prefloss_loss_kind_name``,
``prefloss_pair_params_init``) and cached.
"""
import ctypes as _ct
import ctypes.util as _ctutil
import numbers as _numbers
import os as _os
import sys as _sys
import warnings as _warnings
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ._errors import (ArgumentError, ArgumentTypeError, Error, NonFiniteWarning, OverlapError,
                      ParameterError)

#: The ABI (soname) version this package is written for.
EXPECTED_ABI_VERSION = 1
#: The oldest release whose functions this package calls (MAJOR*10000+MINOR*100+PATCH).
MIN_VERSION_NUMBER = 10000
#: The release that introduced the loss catalogue, ORPO, KTO, AOT and LD-DPO
#: (symbol version node PREFLOSS_1.1); with an older library only those raise Error.
CATALOGUE_VERSION_NUMBER = 10100

# Status codes (the library's values; codes are only ever added).
OK = 0
NONFINITE = 1
ERR_NULL = -1
ERR_PARAM = -2
ERR_OVERLAP = -3
ERR_SIZE = -4
ERR_ROUNDING = -5      # the rounding mode is not round-to-nearest (1.2)
ERR_UNSUPPORTED = -6   # left out of this build of the library (1.2)

REDUCE_SUM = 0
REDUCE_MEAN = 1

#: The soname of the library this package bundles and looks for.
SONAME = "libprefloss.so.%d" % EXPECTED_ABI_VERSION

_P = _ct.c_void_p
_F = _ct.c_float
_Z = _ct.c_size_t
_I = _ct.c_int


class PairParams(_ct.Structure):
    """``struct prefloss_pair_params`` (size-prefixed: a library that knows
    fewer fields reads only those; filled with ``prefloss_pair_params_init``)."""
    _fields_ = [("size", _ct.c_size_t), ("beta", _ct.c_float),
                ("label_smoothing", _ct.c_float), ("discopop_tau", _ct.c_float),
                ("alpha", _ct.c_float), ("simpo_gamma", _ct.c_float),
                ("bco_delta", _ct.c_float), ("nll_weight", _ct.c_float)]


#: Names of the PairParams fields after ``size``, in order.
PAIR_PARAM_NAMES: Tuple[str, ...] = tuple(f for f, _ in PairParams._fields_[1:])

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

# Since 1.1 (version node PREFLOSS_1.1): bound when present; a 1.0 library
# still loads, and only the functions that need these raise Error.
_SIGNATURES_1_1 = {
    "prefloss_pair_params_init": (_I, [_ct.POINTER(PairParams), _ct.c_size_t]),
    "prefloss_loss_kind_from_name": (_I, [_ct.c_char_p]),
    "prefloss_loss_kind_name": (_ct.c_char_p, [_I]),
    "prefloss_pair_loss": (_I, [_P, _P, _P, _P, _P, _P, _P, _P, _P, _Z, _I, _P]),
    "prefloss_bco_update_delta": (_I, [_ct.POINTER(_F), _ct.POINTER(_F), _P, _P, _P, _P,
                                       _Z, _F]),
    "prefloss_pair_loss_mix": (_I, [_P, _P, _P, _P, _P, _P, _P, _P, _P, _Z, _P, _P, _Z, _P]),
    "prefloss_orpo_loss": (_I, [_P, _P, _P, _P, _P, _P, _Z, _F, _F]),
    "prefloss_kto_loss": (_I, [_P, _P, _P, _P, _P, _P, _Z, _F, _F, _F, _F]),
    "prefloss_kto_kl": (_I, [_ct.POINTER(_F), _P, _P, _Z]),
    "prefloss_aot_loss": (_I, [_P, _P, _P, _P, _P, _P, _P, _P, _Z, _F, _F, _I, _P]),
    "prefloss_sequence_logps_ld": (_I, [_P, _P, _P, _P, _Z, _Z, _F]),
    "prefloss_sequence_logps_ld_backward": (_I, [_P, _P, _P, _P, _Z, _Z, _F]),
}

# Since 1.2 (version node PREFLOSS_1.2): what each kind reads; used when present.
_SIGNATURES_1_2 = {
    "prefloss_loss_kind_count": (_I, []),
    "prefloss_loss_kind_reads": (_I, [_I, _ct.c_char_p]),
}

_HERE = _os.path.dirname(_os.path.abspath(__file__))

lib: Optional[_ct.CDLL] = None


def _candidates() -> List[Tuple[str, str]]:
    found = []
    bundled = _os.path.join(_HERE, SONAME)
    if _os.path.exists(bundled):
        found.append(("bundled with the package", bundled))
    env = _os.environ.get("PREFLOSS_LIBRARY")
    if env:
        found.append(("PREFLOSS_LIBRARY", env))
    # the source tree: python/prefloss/ -> ../../build/
    build = _os.path.normpath(_os.path.join(_HERE, _os.pardir, _os.pardir, "build", SONAME))
    if _os.path.exists(build):
        found.append(("build directory", build))
    system = _ctutil.find_library("prefloss")
    if system:
        found.append(("system", system))
    return found


def load(path: Optional[str] = None) -> _ct.CDLL:
    """Load libprefloss and check its version; returns the ``ctypes.CDLL``.

    Search order: ``path`` when given (exactly that file, which then replaces
    the library in use); the copy bundled inside the installed package; the
    ``PREFLOSS_LIBRARY`` environment variable; the source tree's
    ``build/libprefloss.so.1``; the system (``ctypes.util.find_library``).
    Without ``path`` the first library found is kept for the process."""
    global lib
    if path is None and lib is not None:
        return lib
    candidates = [("explicit path", _os.fspath(path))] if path is not None else _candidates()
    if not candidates:
        raise Error("libprefloss not found: install the package (python3 -m pip install "
                    "--no-build-isolation python/), set PREFLOSS_LIBRARY, run `make lib` in "
                    "the source tree, or install the library")
    errors = []
    for origin, name in candidates:
        try:
            cdll = _ct.CDLL(name)
        except OSError as exc:
            errors.append("%s (%s): %s" % (name, origin, exc))
            if origin in ("explicit path", "PREFLOSS_LIBRARY"):
                break  # an explicit choice is not silently replaced
            continue
        _bind(cdll, name)
        lib = cdll
        _state.clear()
        return cdll
    raise Error("cannot load libprefloss: " + "; ".join(errors))


def _bind(cdll: _ct.CDLL, name: str) -> None:
    for fname, (restype, argtypes) in _SIGNATURES.items():
        try:
            fn = getattr(cdll, fname)
        except AttributeError:
            raise Error("%s is not libprefloss: no symbol %s" % (name, fname)) from None
        fn.restype = restype
        fn.argtypes = argtypes
    for fname, (restype, argtypes) in list(_SIGNATURES_1_1.items()) + \
            list(_SIGNATURES_1_2.items()):
        fn = getattr(cdll, fname, None)
        if fn is not None:
            fn.restype = restype
            fn.argtypes = argtypes
    abi = cdll.prefloss_abi_version()
    number = cdll.prefloss_version_number()
    # The ABI (soname) number must be the one this package was written for;
    # the release must be at least the one that introduced what it calls.
    if abi != EXPECTED_ABI_VERSION or number < MIN_VERSION_NUMBER:
        raise Error("%s is libprefloss %s (ABI %d); this package needs ABI %d, "
                    "release >= %d.%d.%d" % (
                        name, cdll.prefloss_version().decode(), abi, EXPECTED_ABI_VERSION,
                        MIN_VERSION_NUMBER // 10000, MIN_VERSION_NUMBER // 100 % 100,
                        MIN_VERSION_NUMBER % 100))
    cdll._name_for_messages = name  # type: ignore[attr-defined]


def L() -> _ct.CDLL:
    """The loaded library (loading it on first use)."""
    return lib if lib is not None else load()


def fn(name: str) -> Any:
    """A catalogue-era function of the library, or Error naming the release
    that introduced it."""
    cdll = L()
    f = getattr(cdll, name, None)
    if f is None or cdll.prefloss_version_number() < CATALOGUE_VERSION_NUMBER:
        raise Error("%s needs libprefloss >= %d.%d (symbol version PREFLOSS_1.1); the "
                    "loaded library is %s" % (name, CATALOGUE_VERSION_NUMBER // 10000,
                                              CATALOGUE_VERSION_NUMBER // 100 % 100,
                                              cdll.prefloss_version().decode()))
    return f


# ---------------------------------------------------------------------------
# What the library says about itself (cached per loaded library)
# ---------------------------------------------------------------------------

_state: Dict[Any, Any] = {}


def kind_names() -> Tuple[str, ...]:
    """The catalogue's TRL names, indexed by kind: ``prefloss_loss_kind_name(k)``
    for k = 0, 1, ... until NULL."""
    names = _state.get("names")
    if names is None:
        f = fn("prefloss_loss_kind_name")
        count = getattr(L(), "prefloss_loss_kind_count", None)
        out, k = [], 0
        while count is None or k < count():
            s = f(k)
            if s is None:
                break
            out.append(s.decode())
            k += 1
        names = _state["names"] = tuple(out)
    return names


def kind_index() -> Dict[str, int]:
    idx = _state.get("index")
    if idx is None:
        idx = _state["index"] = {n: k for k, n in enumerate(kind_names())}
    return idx


def kind_reads(kind: int, field: str) -> Optional[bool]:
    """``prefloss_loss_kind_reads(kind, field)`` (libprefloss >= 1.2): whether
    the kind reads a parameter or "reference"; None with an older library."""
    key = ("reads", kind, field)
    r = _state.get(key)
    if r is None:
        f = getattr(L(), "prefloss_loss_kind_reads", None)
        if f is None:
            return None
        v = f(kind, field.encode())
        r = _state[key] = None if v < 0 else bool(v)
    return r


def pair_param_defaults() -> Dict[str, float]:
    """The parameter defaults, as ``prefloss_pair_params_init`` writes them."""
    d = _state.get("defaults")
    if d is None:
        p = PairParams()
        check(fn("prefloss_pair_params_init")(_ct.byref(p), _ct.sizeof(p)),
              "prefloss_pair_params_init")
        d = _state["defaults"] = {k: getattr(p, k) for k in PAIR_PARAM_NAMES}
    return d


def strerror(status: int) -> str:
    """The library's message for a status code."""
    return L().prefloss_strerror(status).decode()


def status_name(status: int) -> Optional[str]:
    """The macro name of a status code ("PREFLOSS_OK", ...), or None if unknown."""
    s = L().prefloss_status_name(status)
    return None if s is None else s.decode()


# ---------------------------------------------------------------------------
# Status codes -> exceptions and warnings
# ---------------------------------------------------------------------------

def caller_stacklevel() -> int:
    """The stacklevel (for warnings.warn called by the caller of this
    function) of the first frame outside prefloss and torch."""
    f: Any = _sys._getframe(2)
    level = 2
    while f is not None:
        mod = f.f_globals.get("__name__", "")
        if not (mod == "prefloss" or mod.startswith("prefloss.") or mod == "torch"
                or mod.startswith("torch.")):
            break
        f, level = f.f_back, level + 1
    return level


# Ranges of the scalar parameters, as the library checks them (on float32
# values), used only to explain a PREFLOSS_ERR_PARAM: the call itself is
# never preceded by a check of its own.
FLT_MIN = 1.1754943508222875e-38
FLT_MAX = 3.4028234663852886e+38


def _finite(v: float) -> bool:
    return -FLT_MAX <= v <= FLT_MAX


RULES: Dict[str, Tuple[Callable[[float], bool], str]] = {
    "positive": (lambda v: FLT_MIN <= v <= FLT_MAX, "a finite number > 0"),
    "nonneg": (lambda v: 0.0 <= v <= FLT_MAX, "a finite number >= 0"),
    "finite": (_finite, "a finite number"),
    "eps": (lambda v: 0.0 <= v <= 0.5, "in [0, 0.5]"),
    "eps_open": (lambda v: 0.0 <= v < 0.5, "in [0, 0.5) for loss_type 'robust'"),
    "tau": (lambda v: FLT_MIN <= v <= 1.0, "in (0, 1]"),
    "unit": (lambda v: 0.0 <= v <= 1.0, "in [0, 1]"),
}


def f32(v: float) -> float:
    """v as the float32 the library receives."""
    return _ct.c_float(v).value


def param_error(func: str, status: int,
                params: Sequence[Tuple[str, Any, str]]) -> Error:
    """The exception for a PREFLOSS_ERR_PARAM of ``func``: the first
    parameter of ``params`` ((name, value given, rule)) out of its range."""
    suffix = " (%s: %s)" % (status_name(status) or status, strerror(status))
    for name, value, rule in params:
        ok, text = RULES[rule]
        if not ok(f32(float(value))):
            extra = ""
            if rule == "positive" and 0.0 < abs(float(value)) < FLT_MIN:
                extra = " (at least %.9g, the smallest normal float32)" % FLT_MIN
            return ParameterError("%s must be %s%s, got %r%s" % (name, text, extra, value, suffix),
                                  status, status_name(status))
    return ParameterError("%s: a parameter is out of range%s" % (func, suffix), status,
                          status_name(status))


_STATUS_EXC = {ERR_NULL: ArgumentError, ERR_PARAM: ParameterError, ERR_OVERLAP: OverlapError,
               ERR_SIZE: ArgumentError}


def check(status: int, func: str,
          params: Optional[Callable[[], Sequence[Tuple[str, Any, str]]]] = None,
          null_hint: str = "pass both reference buffers or neither") -> int:
    """Turn a library status into an exception or a NonFiniteWarning (one,
    at the first frame outside prefloss and torch). ``params``, called only
    on PREFLOSS_ERR_PARAM, lists the call's parameters and their rules."""
    if status == 0:
        return 0
    if status < 0:
        if status == ERR_PARAM and params is not None:
            raise param_error(func, status, params())
        name = status_name(status)
        msg = "%s: %s (%s)" % (func, strerror(status), name or status)
        if status == ERR_NULL:
            msg += "; " + null_hint
        raise _STATUS_EXC.get(status, Error)(msg, status, name)
    _warnings.warn("%s: %s" % (func, strerror(status)), NonFiniteWarning,
                   stacklevel=caller_stacklevel())
    return status


# ---------------------------------------------------------------------------
# Numbers: no silent conversion of str or bool
# ---------------------------------------------------------------------------

def number(value: Any, name: str) -> float:
    """A real-number parameter as a Python float. int and float pass; other
    real numbers (NumPy scalars, Fraction) and one-element tensors that do
    not require grad are converted; str, bytes, bool and everything else
    raise ArgumentTypeError."""
    t = type(value)
    if t is float or t is int:
        return value
    if t is bool or isinstance(value, (str, bytes, bytearray, bool)):
        raise ArgumentTypeError("%s must be a real number, got %s %r"
                                % (name, t.__name__, value))
    th = _sys.modules.get("torch")
    if th is not None and isinstance(value, th.Tensor):
        if value.requires_grad:
            raise ArgumentTypeError(
                "%s is a tensor that requires grad, but prefloss computes no gradient for "
                "%s: pass a float or %s.detach()" % (name, name, name))
        if value.numel() != 1 or value.dtype == th.bool or value.is_complex():
            raise ArgumentTypeError("%s must be a real number or a one-element tensor, got "
                                    "a %s tensor of shape %s"
                                    % (name, value.dtype, tuple(value.shape)))
        return float(value)
    np = _sys.modules.get("numpy")
    if np is not None and isinstance(value, np.ndarray):
        if value.size != 1 or value.dtype.kind not in "fiu":
            raise ArgumentTypeError("%s must be a real number, got a %s array of shape %s"
                                    % (name, value.dtype, value.shape))
        return float(value)
    if isinstance(value, _numbers.Real) and not (np is not None and isinstance(value, np.bool_)):
        return float(value)
    raise ArgumentTypeError("%s must be a real number, got %s" % (name, t.__name__))
