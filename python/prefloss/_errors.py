"""Exceptions and warnings of the prefloss package."""
from typing import Optional

__all__ = ["Error", "ParameterError", "ArgumentError", "ArgumentTypeError", "OverlapError",
           "NonFiniteWarning"]


class Error(Exception):
    """Base of every prefloss exception: a libprefloss call failed (negative
    status) or the library is unusable.

    ``status`` is the library's status code (None when no library call
    failed), ``name`` its macro name (e.g. ``"PREFLOSS_ERR_PARAM"``)."""

    def __init__(self, message: str, status: Optional[int] = None,
                 name: Optional[str] = None) -> None:
        super().__init__(message)
        self.status = status
        self.name = name


class ArgumentError(Error, ValueError):
    """An argument has the right type but a value prefloss cannot use (a
    float64 array, a non-contiguous tensor, mismatched shapes, only one of the
    two reference buffers, ...)."""


class ParameterError(ArgumentError):
    """A scalar parameter is out of its range (``beta=0``,
    ``label_smoothing=1.5``, an unknown ``loss_type``); the message names the
    parameter, its valid range and the value given."""


class OverlapError(ArgumentError):
    """An output buffer overlaps an input or another output
    (``PREFLOSS_ERR_OVERLAP``)."""


class ArgumentTypeError(Error, TypeError):
    """An argument of a type prefloss does not convert (a string or a bool for
    a number, a dict for a buffer, a NumPy array mixed with a tensor, a tensor
    parameter that requires grad)."""


class NonFiniteWarning(RuntimeWarning):
    """Some inputs were not finite: the affected samples are NaN, the others
    exact (``PREFLOSS_NONFINITE``). Issued once per call, at the caller's line."""
