"""Buffers: NumPy arrays, PyTorch CPU tensors, array.array('f') and lists.

Arrays and tensors are handed to the library by address, never copied;
lists are necessarily converted. Nothing is converted silently: a wrong
dtype, a non-contiguous or misaligned buffer, a GPU tensor or mismatched
shapes raise ArgumentError (a ValueError); an unsupported type raises
ArgumentTypeError (a TypeError).
"""
import array as _array
import ctypes as _ct
import sys as _sys
from typing import Any

from ._errors import ArgumentError, ArgumentTypeError

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


def _list_shape(x, name, allow_bool=False):
    """Shape of a (nested) list of numbers, checking it is rectangular. A
    bool (unless allow_bool, for masks) or a string is not a number."""
    if isinstance(x, (list, tuple)):
        if len(x) == 0:
            return (0,)
        shapes = [_list_shape(e, name, allow_bool) for e in x]
        if any(s != shapes[0] for s in shapes):
            raise ArgumentError("%s: a ragged list (rows of different lengths)" % name)
        return (len(x),) + shapes[0]
    if isinstance(x, bool) and not allow_bool or isinstance(x, (str, bytes, bytearray)):
        raise ArgumentTypeError("%s: a list must hold numbers, got %s %r"
                                % (name, type(x).__name__, x))
    if not isinstance(x, (int, float)):
        try:  # NumPy scalars and 0-d tensors carry __float__/__index__
            float(x)
        except (TypeError, ValueError):
            raise ArgumentTypeError("%s: a list must hold numbers, got %s"
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
            raise ArgumentError("%s: dtype must be float32 (native byte order), got %s; "
                             "convert explicitly with .astype(numpy.float32)" % (name, x.dtype))
        if not x.flags.c_contiguous:
            raise ArgumentError("%s: the array is not C-contiguous; pass "
                             "numpy.ascontiguousarray(%s) explicitly" % (name, name))
        if not x.flags.aligned:
            raise ArgumentError("%s: the array is not aligned for float32" % name)
        if writable and not x.flags.writeable:
            raise ArgumentError("%s: the output array is read-only" % name)
        return _Buf(kind, tuple(x.shape), int(x.size), x.ctypes.data if x.size else None, x, x)
    if kind == "torch":
        th = _sys.modules["torch"]
        if x.layout != th.strided:
            raise ArgumentError("%s: only dense (strided) tensors are supported, got %s"
                             % (name, x.layout))
        if x.device.type != "cpu":
            raise ArgumentError("%s: the tensor is on %s; libprefloss needs a CPU tensor"
                             % (name, x.device))
        if x.dtype != th.float32:
            raise ArgumentError("%s: dtype must be torch.float32, got %s; convert "
                             "explicitly with .float()" % (name, x.dtype))
        if not x.is_contiguous():
            raise ArgumentError("%s: the tensor is not contiguous; pass %s.contiguous() "
                             "explicitly" % (name, name))
        n = x.numel()
        addr = x.data_ptr() if n else None
        if addr is not None and addr % 4:
            raise ArgumentError("%s: the tensor is not aligned for float32" % name)
        return _Buf(kind, tuple(x.shape), n, addr, x, x)
    if kind == "array":
        if x.typecode != "f" or x.itemsize != 4:
            raise ArgumentError("%s: array.array typecode must be 'f' (float32), got %r"
                             % (name, x.typecode))
        addr, n = x.buffer_info()
        return _Buf(kind, (n,), n, addr if n else None, x, x)
    if kind == "list":
        if writable:
            raise ArgumentError("%s: a list cannot be an output buffer" % name)
        shape = _list_shape(x, name)
        n = _prod(shape)
        c = (_ct.c_float * n)(*[float(v) for v in _flatten(x)])
        return _Buf(kind, shape, n, _ct.addressof(c) if n else None, c, x)
    raise ArgumentTypeError("%s: expected a NumPy float32 array, a torch.float32 CPU tensor, "
                    "array.array('f') or a list, got %s" % (name, type(x).__name__))


def _mask_buf(mask, name, kind, shape):
    """Check a mask (1 byte per element) of the same kind and shape as the tokens."""
    mkind = _kind_of(mask)
    if mkind is None and isinstance(mask, (bytes, bytearray)):
        mkind = "bytes"
    if mkind is None:
        raise ArgumentTypeError("%s: expected a bool/uint8 array, tensor, bytes or list, got %s"
                        % (name, type(mask).__name__))
    if mkind != kind and not (kind == "array" and mkind == "bytes"):
        raise ArgumentTypeError("%s: the mask must be of the same kind as the token log-probs "
                        "(%s), got %s" % (name, kind, mkind))
    if mkind == "numpy":
        np = _sys.modules["numpy"]
        if mask.dtype not in (np.bool_, np.uint8):
            raise ArgumentError("%s: mask dtype must be bool or uint8, got %s" % (name, mask.dtype))
        if not mask.flags.c_contiguous:
            raise ArgumentError("%s: the mask is not C-contiguous" % name)
        mshape, n = tuple(mask.shape), int(mask.size)
        addr, keep = (mask.ctypes.data if n else None), mask
    elif mkind == "torch":
        th = _sys.modules["torch"]
        if mask.layout != th.strided or mask.device.type != "cpu":
            raise ArgumentError("%s: the mask must be a dense CPU tensor" % name)
        if mask.dtype not in (th.bool, th.uint8):
            raise ArgumentError("%s: mask dtype must be torch.bool or torch.uint8, got %s"
                             % (name, mask.dtype))
        if not mask.is_contiguous():
            raise ArgumentError("%s: the mask is not contiguous" % name)
        mshape, n = tuple(mask.shape), mask.numel()
        addr, keep = (mask.data_ptr() if n else None), mask
    elif mkind == "array":
        if mask.itemsize != 1:
            raise ArgumentError("%s: array.array mask typecode must be 'B' or 'b', got %r"
                             % (name, mask.typecode))
        a, n = mask.buffer_info()
        mshape, addr, keep = (n,), (a if n else None), mask
    elif mkind == "bytes":
        n = len(mask)
        keep = (_ct.c_ubyte * n).from_buffer_copy(bytes(mask)) if n else None
        mshape, addr = (n,), (_ct.addressof(keep) if n else None)
    else:  # list
        mshape = _list_shape(mask, name, allow_bool=True)
        n = _prod(mshape)
        vals = []
        for v in _flatten(mask):
            if isinstance(v, bool) or v in (0, 1):
                vals.append(1 if v else 0)
            else:
                raise ArgumentError("%s: mask values must be booleans or 0/1, got %r" % (name, v))
        keep = (_ct.c_ubyte * n)(*vals)
        addr = _ct.addressof(keep) if n else None
    if mshape != shape:
        raise ArgumentError("%s: shape %s does not match the token log-probs %s"
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
                raise ArgumentTypeError("%s is %s but %s is %s: pass every array of one call "
                                "as the same kind" % (name, b.kind, fname, fb.kind))
            if b.shape != fb.shape:
                raise ArgumentError("%s has shape %s but %s has shape %s"
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
        raise ArgumentError("out must be a tuple of %d buffers (or None entries)" % len(names))
    if want is None:
        want = (True,) * len(names)
    bufs = []
    for name, o, w in zip(names, out, want):
        if not w:
            bufs.append(None)
        elif o is None:
            bufs.append(_new_like(proto))
        else:
            if _kind_of(o) == "torch" and o.requires_grad:
                raise ArgumentError(
                    "out[%s] is a tensor that requires grad: autograd would not see the "
                    "write; pass a tensor that does not require grad, or use prefloss.torch "
                    "for gradients" % name)
            b = _float_buf(o, "out[%s]" % name, writable=True)
            if b.kind != proto.kind:
                raise ArgumentTypeError("out[%s] is %s but the inputs are %s"
                                % (name, b.kind, proto.kind))
            if b.shape != proto.shape:
                raise ArgumentError("out[%s] has shape %s, the inputs %s"
                                 % (name, b.shape, proto.shape))
            bufs.append(b)
    return bufs


def _addr(b):
    return None if b is None else b.addr



def bump_versions(out: Any) -> None:
    """After the library wrote into caller-given tensors (``out=``), record
    the write as an in-place change (``x.mul_(1)`` keeps every value, -0 and
    NaN included), so that autograd's saved-tensor check sees it."""
    if out is None:
        return
    th = _sys.modules.get("torch")
    if th is None:
        return
    with th.no_grad():
        for o in out:
            if isinstance(o, th.Tensor) and o.numel():
                o.mul_(1)
