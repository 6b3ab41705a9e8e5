"""Tensor creation in torch's calling style: sizes as varargs or one sequence,
``dtype=`` and ``requires_grad=`` keywords. The work happens in C++ (gdcore._core)."""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import numpy as np

from . import _core
from ._core import Generator, Tensor
from .device import check_device
from .default_dtype import get_default_dtype

float32 = _core.dtype.float32
float64 = _core.dtype.float64
int64 = _core.dtype.int64
bool_ = _core.dtype.bool  # gdcore.bool (named so here so that the builtin stays usable in this module)
int32 = _core.dtype.int32
uint8 = _core.dtype.uint8
int8 = _core.dtype.int8
int16 = _core.dtype.int16

__all__ = [
    "tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "zeros_like", "ones_like",
    "full_like", "rand_like", "randn_like", "arange", "linspace", "eye", "rand", "randn", "normal",
    "randint", "randperm", "manual_seed", "initial_seed", "Generator", "get_rng_state", "set_rng_state",
]

_INT64_MAX = 2**63 - 1
_UINT64_LIMIT = 2**64


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing memory with the numpy array ``ndarray`` (float32, float64 or int64).

    Writes through either are seen by both; a read-only array gives a tensor that refuses
    in-place changes. Use gdcore.tensor(data) to copy lists or other dtypes.
    """
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got a {type(ndarray).__name__}; use "
                        "gdcore.tensor(data) for lists and numbers")
    return _core.from_numpy(ndarray)


def _dtype(dtype: Any, default=None):
    """``dtype`` as a gdcore.dtype; when None, ``default`` or else the default float dtype (set_default_dtype)."""
    if dtype is None:
        return get_default_dtype() if default is None else default
    return _core._dtype_from(dtype)


def _size(args: Sequence[Any], kwargs_size=None, name: str = "size") -> list[int]:
    if kwargs_size is not None:
        args = (kwargs_size,)
    if len(args) == 1 and not isinstance(args[0], int) and hasattr(args[0], "__iter__"):
        args = tuple(args[0])
    out = []
    for a in args:
        try:
            out.append(a.__index__())
        except AttributeError:
            raise TypeError(f"{name}: sizes must be integers, got {a!r}") from None
    if any(s < 0 for s in out):
        raise ValueError(f"{name}: sizes must be non-negative, got {tuple(out)}")
    if any(s > _INT64_MAX for s in out):
        raise ValueError(f"{name}: size {max(out)} does not fit in int64 (at most 2**63 - 1); no tensor can be that "
                         "large: check the size arithmetic")
    return out


def _generator(generator, name: str):
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"{name}: generator must be a gdcore.Generator (e.g. gdcore.Generator(seed)) or None, "
                        f"got {generator!r}")
    return generator


def _finite(value, what: str, name: str) -> float:
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name}: {what} must be a finite number, got {value}")
    return value


def tensor(data: Any, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """A new tensor holding a copy of ``data`` (a number, nested list, numpy array or tensor).

    Floats become the default dtype (float32 unless set_default_dtype changed it) and ints int64
    unless ``dtype`` says otherwise (as in torch); a numpy array keeps its dtype when it is
    float32, float64 or int64.
    """
    if device is not None:
        check_device(device, "tensor")
    out = _core._tensor(data, None if dtype is None else _dtype(dtype), requires_grad)
    if (dtype is None and out.dtype == float32 and get_default_dtype() != float32
            and not isinstance(data, (Tensor, np.ndarray, np.generic))):
        # Python floats take the default dtype; converted again from the data so that no value is rounded to float32.
        out = _core._tensor(data, get_default_dtype(), requires_grad)
    return out


def as_tensor(data: Any, dtype=None, device=None) -> Tensor:
    """``data`` as a tensor without copying when it already is one of the right dtype."""
    if device is not None:
        check_device(device, "as_tensor")
    if isinstance(data, Tensor):
        return data if dtype is None or data.dtype == _dtype(dtype) else data.to(_dtype(dtype))
    return tensor(data, dtype=dtype)


def zeros(*size, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """A tensor of the given size filled with 0."""
    if device is not None:
        check_device(device, "zeros")
    return _core._full(_size(size, name="zeros"), 0.0, _dtype(dtype), requires_grad)


def ones(*size, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """A tensor of the given size filled with 1."""
    if device is not None:
        check_device(device, "ones")
    return _core._full(_size(size, name="ones"), 1.0, _dtype(dtype), requires_grad)


def empty(*size, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """A tensor of the given size (filled with 0: gdcore never hands out uninitialised memory)."""
    if device is not None:
        check_device(device, "empty")
    return _core._full(_size(size, name="empty"), 0.0, _dtype(dtype), requires_grad)


def full(size, fill_value: float, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value``."""
    if device is not None:
        check_device(device, "full")
    if dtype is None and isinstance(fill_value, bool):
        dtype = bool_  # full(size, True) is a bool tensor, as in torch
    elif dtype is None and isinstance(fill_value, int):
        dtype = int64
    dtype = _dtype(dtype)
    if dtype == int64 and isinstance(fill_value, int) and not isinstance(fill_value, bool) and abs(fill_value) > 2**53:
        # Exactly, not through a double (which rounds integers above 2**53).
        return _core._full(_size((size,), name="full"), 0.0, dtype, False).add_(tensor(fill_value))
    return _core._full(_size((size,), name="full"), float(fill_value), dtype, requires_grad)


def zeros_like(t: Tensor, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    if device is not None:
        check_device(device, "zeros_like")
    return _core._full(list(t.shape), 0.0, _dtype(dtype, t.dtype), requires_grad)


def ones_like(t: Tensor, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    if device is not None:
        check_device(device, "ones_like")
    return _core._full(list(t.shape), 1.0, _dtype(dtype, t.dtype), requires_grad)


def full_like(t: Tensor, fill_value: float, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    if device is not None:
        check_device(device, "full_like")
    return _core._full(list(t.shape), float(fill_value), _dtype(dtype, t.dtype), requires_grad)


def rand_like(t: Tensor, dtype=None, generator: Optional[Generator] = None, device=None) -> Tensor:
    if device is not None:
        check_device(device, "rand_like")
    return _core._rand(list(t.shape), _dtype(dtype, t.dtype), _generator(generator, "rand_like"), False)


def randn_like(t: Tensor, dtype=None, generator: Optional[Generator] = None, device=None) -> Tensor:
    if device is not None:
        check_device(device, "randn_like")
    return _core._randn(list(t.shape), _dtype(dtype, t.dtype), _generator(generator, "randn_like"), False)


def arange(start: float, end: Optional[float] = None, step: float = 1, dtype=None,
           requires_grad: bool = False, device=None) -> Tensor:
    """Values from ``start`` (inclusive) to ``end`` (exclusive) by ``step``; int64 when all are ints."""
    if device is not None:
        check_device(device, "arange")
    if end is None:
        start, end = 0, start
    if dtype is None:
        all_int = all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end, step))
        dtype = int64 if all_int else get_default_dtype()
    return _core._arange(float(start), float(end), float(step), _dtype(dtype), requires_grad)


def linspace(start: float, end: float, steps: int, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if device is not None:
        check_device(device, "linspace")
    if not isinstance(steps, int) or isinstance(steps, bool):
        raise TypeError(f"linspace: steps must be an int, got {steps!r}")
    start, end = _finite(start, "start", "linspace"), _finite(end, "end", "linspace")
    return _core._linspace(start, end, steps, _dtype(dtype), requires_grad)


def eye(n: int, m: Optional[int] = None, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """The (n, m) identity matrix (m defaults to n)."""
    if device is not None:
        check_device(device, "eye")
    return _core._eye(n, n if m is None else m, _dtype(dtype), requires_grad)


def rand(*size, generator: Optional[Generator] = None, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """Uniform numbers in [0, 1) from gdcore's generator (seed it with manual_seed)."""
    if device is not None:
        check_device(device, "rand")
    return _core._rand(_size(size, name="rand"), _dtype(dtype), _generator(generator, "rand"), requires_grad)


def randn(*size, generator: Optional[Generator] = None, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """Standard normal numbers from gdcore's generator."""
    if device is not None:
        check_device(device, "randn")
    return _core._randn(_size(size, name="randn"), _dtype(dtype), _generator(generator, "randn"), requires_grad)


def normal(mean: float = 0.0, std: float = 1.0, size=(), generator: Optional[Generator] = None, dtype=None,
           requires_grad: bool = False, device=None) -> Tensor:
    """Normal numbers with the given mean and standard deviation, of shape ``size``; with a tensor mean
    or std (or both), one draw per element of their broadcast shape (gdcore/sampling.py)."""
    if device is not None:
        check_device(device, "normal")
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        from .sampling import normal_tensors
        return normal_tensors(mean, std, generator=generator)
    return _core._normal(_finite(mean, "mean", "normal"), float(std), _size((size,), name="normal"), _dtype(dtype),
                         _generator(generator, "normal"), requires_grad)


def randint(low: int = 0, high: Optional[int] = None, size=(), generator: Optional[Generator] = None,
            dtype=None, device=None) -> Tensor:
    """Uniform integers in [low, high) (``randint(high, size)`` also works, as in torch)."""
    if device is not None:
        check_device(device, "randint")
    if high is None:
        raise TypeError("randint: high is required (randint(low, high, size) or randint(high, size=...))")
    if isinstance(high, (tuple, list)):  # randint(high, size): torch's two-argument form
        low, high, size = 0, low, high
    low, high = int(low), int(high)
    if not -_INT64_MAX - 1 <= low < high <= _INT64_MAX:
        raise ValueError(f"randint: expected -2**63 <= low < high <= 2**63 - 1 (int64), got low={low} high={high}")
    return _core._randint(low, high, _size((size,), name="randint"), _dtype(dtype, int64),
                          _generator(generator, "randint"))


def randperm(n: int, generator: Optional[Generator] = None, dtype=None, device=None) -> Tensor:
    """A random permutation of 0..n-1."""
    if device is not None:
        check_device(device, "randperm")
    n = int(n)
    if n > _INT64_MAX:
        raise ValueError(f"randperm: n={n} does not fit in int64 (at most 2**63 - 1)")
    return _core._randperm(n, _dtype(dtype, int64), _generator(generator, "randperm"))


def manual_seed(seed: int) -> Generator:
    """Seeds gdcore's default generator (of this thread); returns it."""
    if isinstance(seed, bool) or not hasattr(seed, "__index__"):
        raise TypeError(f"manual_seed: seed must be an int, got {seed!r}")
    seed = seed.__index__()
    if not 0 <= seed < _UINT64_LIMIT:
        raise ValueError(f"manual_seed: seed must be in [0, 2**64), got {seed}")
    gen = _core.default_generator()
    gen.manual_seed(seed)
    return gen


def initial_seed() -> int:
    return _core.default_generator().initial_seed()


def get_rng_state() -> Tensor:
    """The state of gdcore's default generator as a 1-D uint8 tensor (as torch.get_rng_state returns a
    ByteTensor): pass it to set_rng_state to replay the same random numbers. The bytes are gdcore's own,
    versioned format (38 bytes, not torch's 5056), so a foreign or corrupted state is refused. Generator.get_state()
    does the same per generator."""
    return _core.default_generator().get_state()


def set_rng_state(state: Tensor) -> None:
    """Restore the default generator to a state from get_rng_state() (as torch.set_rng_state). A tensor
    that is not uint8 raises TypeError; one that is not such a state (size, header, version) RuntimeError."""
    _core.default_generator().set_state(state)
