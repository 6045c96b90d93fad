"""prefloss — Python package of libprefloss (ctypes; the standard library only).

Preference-optimisation losses (DPO, IPO, Bradley–Terry, TRL's whole
``loss_type`` catalogue, ORPO, KTO, AOT) and their exact gradients, computed
by libprefloss on the caller's float32 buffers, on the CPU.

    import prefloss
    losses, d_chosen, d_rejected = prefloss.dpo_loss(
        policy_chosen_logps, policy_rejected_logps,
        ref_chosen_logps, ref_rejected_logps, beta=0.1)

Buffers: NumPy float32 arrays, PyTorch float32 CPU tensors (contiguous),
``array.array('f')`` or lists; outputs come back in the kind given. Arrays
and tensors are read in place, never copied or converted (a wrong dtype,
layout or device raises ArgumentError, a ValueError).

Autograd: ``prefloss.torch`` (``import prefloss.torch``; importing prefloss
alone imports neither torch nor numpy) holds ``dpo_loss``, ``ipo_loss``,
``bt_loss``, ``sequence_logps``, ``pair_loss``, ``pair_loss_mix``,
``orpo_loss``, ``kto_loss``, ``aot_loss`` on tensors.

Errors: every exception is a ``prefloss.Error``; bad values are also
``ValueError`` (``ParameterError`` names the parameter and its range,
``ArgumentError`` a buffer), bad types ``TypeError`` (``ArgumentTypeError``).
Non-finite inputs give one ``NonFiniteWarning`` (a RuntimeWarning) per call.

The shared library is found in this order: the copy bundled in the package;
``PREFLOSS_LIBRARY``; the source tree's ``build/``; the system. ``load(path)``
loads a given file.
"""
from typing import Any, Dict, List

from . import _lib
from ._errors import (ArgumentError, ArgumentTypeError, Error, NonFiniteWarning, OverlapError,
                      ParameterError)
from ._lib import (EXPECTED_ABI_VERSION, MIN_VERSION_NUMBER,
                   CATALOGUE_VERSION_NUMBER, OK, NONFINITE, ERR_NULL, ERR_PARAM, ERR_OVERLAP,
                   ERR_SIZE, ERR_ROUNDING, ERR_UNSUPPORTED, REDUCE_SUM, REDUCE_MEAN, PairParams, load, strerror, status_name)
from .losses import (aot_loss, bco_update_delta, bt_loss, dpo_loss, ipo_general_loss, ipo_loss,
                     kto_kl, kto_loss, loss_types, orpo_loss, pair_loss, pair_loss_mix, rewards,
                     sequence_logps, sequence_logps_backward, sequence_logps_ld,
                     sequence_logps_ld_backward)

from .logits import token_logps

__all__ = [
    "token_logps",
    "Error", "ParameterError", "ArgumentError", "ArgumentTypeError", "OverlapError",
    "NonFiniteWarning",
    "load", "version", "version_number", "abi_version", "strerror", "status_name",
    "pair_param_defaults",
    "dpo_loss", "ipo_loss", "ipo_general_loss", "bt_loss", "rewards",
    "sequence_logps", "sequence_logps_backward",
    "pair_loss", "bco_update_delta", "loss_types", "PairParams",
    "orpo_loss", "kto_loss", "kto_kl", "pair_loss_mix", "aot_loss",
    "sequence_logps_ld", "sequence_logps_ld_backward",
    "OK", "NONFINITE", "ERR_NULL", "ERR_PARAM", "ERR_OVERLAP", "ERR_SIZE",
    "ERR_ROUNDING", "ERR_UNSUPPORTED",
    "REDUCE_SUM", "REDUCE_MEAN",
]
# `prefloss.torch` (the autograd forms) is deliberately not in __all__:
# `from prefloss import *` must not shadow the torch module.


def version() -> str:
    """Run-time release version string of the loaded library, e.g. "1.1.0"."""
    return _lib.L().prefloss_version().decode()


def version_number() -> int:
    """Run-time release version as MAJOR*10000 + MINOR*100 + PATCH."""
    return _lib.L().prefloss_version_number()


def abi_version() -> int:
    """Run-time ABI version (the soname's number)."""
    return _lib.L().prefloss_abi_version()


def pair_param_defaults() -> Dict[str, float]:
    """The catalogue's parameter defaults, as the library sets them
    (``prefloss_pair_params_init``): beta, label_smoothing, discopop_tau,
    alpha, simpo_gamma, bco_delta, nll_weight (float32 values)."""
    return dict(_lib.pair_param_defaults())


def __getattr__(name: str) -> Any:
    # PEP 562: `prefloss.torch` imports torch on first use only;
    # `prefloss.__version__` is the loaded library's version.
    if name == "torch":
        import importlib
        return importlib.import_module(".torch", __name__)
    if name == "__version__":
        return version()
    raise AttributeError("module 'prefloss' has no attribute %r" % name)


def __dir__() -> List[str]:
    return sorted(list(globals()) + ["torch", "__version__"])
